"""The pack's Kubernetes and managed-database rules: each fires on a broken resource and stays quiet on the
shipped DOKS stack, as plain functions and over the analyzer gRPC protocol."""

from __future__ import annotations

import copy

import pytest
from conftest import run_plan
from policy_helpers import check, check_stack, rule_form, stack_form

from ops.policy_config import resolve

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
RESOURCE_RULES = ("k8s-requests-and-limits", "k8s-probes", "k8s-secrets-as-files", "k8s-no-privilege", "k8s-image-pinned")
STACK_RULES = ("k8s-network-policy-coverage", "k8s-disruption-budget", "managed-database-private")


@pytest.fixture(scope="module")
def k8s_plan():
    return run_plan(stack="prod-k8s")


def _deployment(plan, replicated: bool = False):
    return next(r for r in plan if r.type == DEPLOYMENT and (r.inputs["spec"].get("replicas", 1) > 1) == replicated)


def _container(inputs):
    return inputs["spec"]["template"]["spec"]["containers"][0]


def _break_limits(inputs):
    del _container(inputs)["resources"]["limits"]["memory"]


def _break_request_over_limit(inputs):
    _container(inputs)["resources"]["requests"]["cpu"] = "64"


def _break_quantity(inputs):
    _container(inputs)["resources"]["limits"]["memory"] = "lots"


def _break_probes(inputs):
    del _container(inputs)["readinessProbe"]


def _break_secret_env(inputs):
    _container(inputs)["env"].append({"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "value"}}})


def _break_plain_credential(inputs):
    _container(inputs)["env"].append({"name": "API_TOKEN", "value": "s3cr3t-value-in-plain-text"})


def _break_url_password(inputs):
    _container(inputs)["env"].append({"name": "CACHE_URL", "value": "redis://:s3cr3t-value@redis:6379/0"})


def _break_privileged(inputs):
    _container(inputs)["securityContext"]["privileged"] = True


def _break_host_network(inputs):
    inputs["spec"]["template"]["spec"]["hostNetwork"] = True


def _break_escalation(inputs):
    del _container(inputs)["securityContext"]["allowPrivilegeEscalation"]


def _break_image(inputs):
    image = _container(inputs)["image"]
    _container(inputs)["image"] = image.rsplit(":", 1)[0] + ":latest"


def _break_pod_spec(inputs):
    inputs["spec"]["template"]["spec"] = "not a pod spec"


BREAKAGES = [
    ("k8s-requests-and-limits", _break_limits, "has no memory limit"),
    ("k8s-requests-and-limits", _break_request_over_limit, "exceeds its limit"),
    ("k8s-requests-and-limits", _break_quantity, "is not a quantity"),
    ("k8s-requests-and-limits", _break_pod_spec, "cannot be judged"),
    ("k8s-probes", _break_probes, "has no readinessProbe"),
    ("k8s-secrets-as-files", _break_secret_env, "secretKeyRef"),
    ("k8s-secrets-as-files", _break_plain_credential, "in plain text"),
    ("k8s-secrets-as-files", _break_url_password, "env CACHE_URL holds a credential in plain text"),
    ("k8s-no-privilege", _break_privileged, "runs privileged"),
    ("k8s-no-privilege", _break_host_network, "network namespace"),
    ("k8s-no-privilege", _break_escalation, "may escalate privileges"),
    ("k8s-image-pinned", _break_image, "latest"),
]


@pytest.mark.parametrize("rule", RESOURCE_RULES)
def test_resource_rule_is_quiet_on_every_shipped_kubernetes_resource(k8s_plan, rule):
    for resource in k8s_plan:
        assert check(rule, resource.type, rule_form(resource.inputs)) == [], resource.name


@pytest.mark.parametrize("rule, breakage, expected", BREAKAGES)
def test_resource_rule_fires(k8s_plan, rule, breakage, expected):
    inputs = copy.deepcopy(_deployment(k8s_plan).inputs)
    breakage(inputs)
    messages = check(rule, DEPLOYMENT, rule_form(inputs))
    assert any(expected in message for message in messages), messages


@pytest.mark.parametrize("rule", STACK_RULES)
def test_stack_rule_is_quiet_on_the_shipped_stack(k8s_plan, rule):
    assert check_stack(rule, stack_form(k8s_plan)) == []


def _without_default_deny(plan):
    return [r for r in plan if not (r.type.endswith("NetworkPolicy") and r.name == "default-deny")]


def _without_budgets(plan):
    return [r for r in plan if not r.type.endswith("PodDisruptionBudget")]


def _public_database(plan):
    plan = copy.deepcopy(plan)
    for r in plan:
        if r.type == "digitalocean:index/databaseFirewall:DatabaseFirewall":
            r.inputs["rules"] = [{"type": "ip_addr", "value": "0.0.0.0/0"}]
    return plan


def _database_without_firewall(plan):
    return [r for r in plan if r.type != "digitalocean:index/databaseFirewall:DatabaseFirewall"]


STACK_BREAKAGES = [
    ("k8s-network-policy-coverage", _without_default_deny, "no NetworkPolicy"),
    ("k8s-disruption-budget", _without_budgets, "no PodDisruptionBudget"),
    ("managed-database-private", _public_database, "admits ip_addr"),
    ("managed-database-private", _database_without_firewall, "has no DatabaseFirewall"),
]


@pytest.mark.parametrize("rule, breakage, expected", STACK_BREAKAGES)
def test_stack_rule_fires(k8s_plan, rule, breakage, expected):
    findings = check_stack(rule, stack_form(breakage(list(k8s_plan))))
    assert findings and all(expected in message for _, message in findings), findings


def test_droplet_stack_is_not_judged_by_the_kubernetes_rules(shipped_plan):
    resources = stack_form(shipped_plan)
    assert all(check_stack(rule, resources) == [] for rule in STACK_RULES)
    assert all(check(rule, r.type, r.props) == [] for rule in RESOURCE_RULES for r in resources)


# --- over gRPC: the pack as the engine runs it ----------------------------------------------------

def test_over_grpc_each_resource_rule_fires_and_stays_quiet(policy_pack, k8s_plan):
    policy_pack.configure(resolve({}, policy_pack.info()))
    shipped = _deployment(k8s_plan)
    assert policy_pack.analyze(shipped) == []
    fired = set()
    for rule, breakage, _ in BREAKAGES:
        broken = copy.deepcopy(shipped)
        breakage(broken.inputs)
        found = {v.policy for v in policy_pack.analyze(broken)}
        assert rule in found, rule
        fired |= found
    assert set(RESOURCE_RULES) <= fired


def test_over_grpc_each_stack_rule_fires_and_stays_quiet(policy_pack, k8s_plan):
    policy_pack.configure(resolve({}, policy_pack.info()))
    assert policy_pack.analyze_stack(list(k8s_plan)) == []
    for rule, breakage, _ in STACK_BREAKAGES:
        found = {(v.policy, v.enforcement) for v in policy_pack.analyze_stack(breakage(list(k8s_plan)))}
        assert (rule, "mandatory") in found, rule


def test_first_preview_with_unknown_values_judges_what_it_can_and_passes(policy_pack):
    plan = run_plan(stack="prod-k8s", known=False)
    policy_pack.configure(resolve({}, policy_pack.info()))
    violations = policy_pack.check(list(plan), resolve({}, policy_pack.info()))
    assert [v for v in violations if v.enforcement == "mandatory"] == []
    # The workloads are fully known even on a first preview, so their rules still judge them.
    broken = copy.deepcopy(_deployment(plan))
    _break_probes(broken.inputs)
    assert "k8s-probes" in {v.policy for v in policy_pack.analyze(broken)}


def test_sarif_points_a_kubernetes_finding_at_its_catalog_service(policy_pack, k8s_plan):
    from ops.engine import PROGRAM_DIR
    from ops.report import Sources, to_sarif

    broken = copy.deepcopy(list(k8s_plan))
    deployment = next(r for r in broken if r.type == DEPLOYMENT)
    _break_probes(deployment.inputs)
    info = policy_pack.info()
    violations = policy_pack.check(broken, resolve({}, info))
    catalog = PROGRAM_DIR / "config" / "services.yaml"
    sarif = to_sarif(violations, broken, info, Sources(catalog, PROGRAM_DIR / "Pulumi.prod-k8s.yaml"))
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "k8s-probes"]
    location = result["locations"][0]["physicalLocation"]
    line = catalog.read_text().splitlines()[location["region"]["startLine"] - 1]
    assert location["artifactLocation"]["uri"] == "config/services.yaml" and line == f"  {deployment.name}:"
