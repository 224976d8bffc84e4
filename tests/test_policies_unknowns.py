"""Unknown values, as on a first `pulumi preview`: no rule reports a false violation, and rules that can
still judge from the known values do."""

from __future__ import annotations

import copy
import dataclasses

import pytest
from conftest import run_plan
from policy_helpers import CONTAINER, DROPLET, FIREWALL, check, check_stack, replaced_at, rule_form, stack_form
from policy_helpers import property_paths as _paths
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from ops.analyzer import to_wire
from ops.preview import evaluate
from policies.devtools_policy.pack import thaw
from policies.devtools_policy.registry import RULES
from policies.devtools_policy.values import UNKNOWN


def _with_unknown(props: dict, path: tuple) -> dict:
    return replaced_at(props, path, UNKNOWN)


@pytest.fixture(scope="module")
def unknown_plan():
    return run_plan(known=False)


@pytest.fixture(scope="module")
def subjects(shipped_plan):
    containers = shipped_plan.containers()
    return [(CONTAINER, rule_form(containers[name].inputs)) for name in ("redis", "postgres", "orchestrator", "gateway-mcp")] + [
        (DROPLET, rule_form(shipped_plan.one(DROPLET).inputs)),
        (FIREWALL, rule_form(shipped_plan.one(FIREWALL).inputs)),
        ("pulumi:providers:docker", rule_form(shipped_plan.one("pulumi:providers:docker").inputs)),
    ]


@pytest.mark.parametrize("rule", [r for r in RULES if not r.stack], ids=lambda r: r.name)
def test_no_resource_rule_fires_because_a_value_is_unknown(rule, subjects):
    """Each compliant resource, with each of its values in turn unknown, gives no new violation."""
    tried = 0
    for resource_type, props in subjects:
        baseline = set(check(rule.name, resource_type, props))
        for path in _paths(props):
            found = set(check(rule.name, resource_type, _with_unknown(props, path)))
            assert found <= baseline, (rule.name, resource_type, path, found - baseline)
            tried += 1
    assert tried > 300  # every value of seven resources


@pytest.mark.parametrize("rule", [r for r in RULES if r.stack], ids=lambda r: r.name)
def test_no_stack_rule_fires_because_a_value_is_unknown(rule, shipped_plan):
    """With each value of the stack in turn unknown, no finding beyond the shipped stack's own (the accepted
    advisories of docs/policies.md; a mandatory rule has none there)."""
    resources = stack_form(shipped_plan)
    baseline = set(check_stack(rule.name, resources))
    assert not baseline or rule.enforcement == "advisory"
    judged = [i for i, r in enumerate(resources) if r.type in (CONTAINER, DROPLET, "docker:index/network:Network")]
    for i in judged:
        for path in _paths(resources[i].props):
            changed = list(resources)
            changed[i] = dataclasses.replace(resources[i], props=_with_unknown(dict(resources[i].props), path))
            found = set(check_stack(rule.name, changed))
            assert found <= baseline, (rule.name, resources[i].name, path, found - baseline)


def test_rules_still_judge_what_is_known(subjects):
    redis = copy.deepcopy(subjects[0][1])
    for upload in redis["uploads"]:
        if upload["file"].startswith("/run/secrets/"):
            upload["content"] = UNKNOWN  # the generated password, not known on a first preview
    assert check("redis-persistence", CONTAINER, redis) == []
    redis["command"] = redis["command"] + ["--appendonly", "no"]
    assert check("redis-persistence", CONTAINER, redis) == ["AOF is off (appendonly no)"]
    redis["envs"] = redis["envs"] + ["REDIS_PASSWORD=changeme"]
    assert check("no-hardcoded-credentials", CONTAINER, redis)
    redis["memory"] = UNKNOWN
    del redis["cpus"]
    assert check("container-memory-limit", CONTAINER, redis) == []
    assert check("container-cpu-limit", CONTAINER, redis) == ["no CPU limit (cpus)"]


def test_an_unknown_redis_conf_hides_only_what_it_could_set(subjects):
    redis = copy.deepcopy(subjects[0][1])
    next(u for u in redis["uploads"] if u["file"].endswith("redis.conf"))["content"] = UNKNOWN
    assert check("redis-persistence", CONTAINER, redis) == []
    redis["volumes"] = []
    redis["command"] = redis["command"] + ["--dir", "/srv/redis"]
    assert check("redis-persistence", CONTAINER, redis) == ["data directory /srv/redis is not on a persistent volume"]


def test_the_sdk_proxy_raises_on_unknowns_and_thaw_marks_them_instead():
    proxy = unknown_checking_proxy({"memory": UNKNOWN_STRING_VALUE, "ports": [{"external": UNKNOWN_STRING_VALUE}], "cpus": "1"})
    with pytest.raises(UnknownValueError):
        proxy["memory"]  # what a policy reading the value directly would hit: "can't run policy" during preview
    assert thaw(proxy) == {"memory": UNKNOWN, "ports": [{"external": UNKNOWN}], "cpus": "1"}


def test_the_shipped_stack_in_unknown_mode_over_grpc(policy_pack, unknown_plan, shipped_plan):
    _, unknown_violations = evaluate(policy_pack, list(unknown_plan))
    _, known_violations = evaluate(policy_pack, list(shipped_plan))
    assert not any("can't run policy" in v.message for v in unknown_violations)
    assert sorted((v.policy, v.urn) for v in unknown_violations) == sorted((v.policy, v.urn) for v in known_violations)
    # Generated passwords really are unknown in this mode, so the pack was tested on unknown values.
    assert rpc.UNKNOWN in str(to_wire(unknown_plan.containers()["postgres"].inputs))


def test_each_rule_on_its_own_unknown_resource_over_grpc(policy_pack, unknown_plan):
    """A container whose every input is unknown: the pack says nothing false, and no policy is aborted."""
    evaluate(policy_pack, [])  # configure with the defaults
    postgres = copy.deepcopy(unknown_plan.containers()["postgres"])
    postgres.inputs = {key: Unknown() for key in postgres.inputs}
    violations = policy_pack.analyze(postgres)
    assert violations == [], violations
