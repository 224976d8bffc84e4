"""The pack fails closed: a property of the wrong type is a finding (mandatory where the rule is), never
silence and never a crash; settings are checked when the pack is configured."""

from __future__ import annotations

import copy
import dataclasses

import pytest
from policy_helpers import CONTAINER, DROPLET, FIREWALL, check, check_stack, rule_form, set_label, stack_form
from policy_helpers import property_paths as _paths
from policy_helpers import replaced_at as _with

from ops.analyzer import PolicySetting
from policies.devtools_policy.registry import BY_NAME, RULES

# Values of every JSON type but the one a property has.
WRONG = ["0.0.0.0/0", 7, -1, 1e308, True, [], ["x"], [7], {}, {"a": 1}, None]


@pytest.fixture(scope="module")
def subjects(shipped_plan):
    containers = shipped_plan.containers()
    return [(CONTAINER, rule_form(containers[name].inputs)) for name in ("redis", "edge", "oauth2-proxy", "cadvisor")] + [
        (DROPLET, rule_form(shipped_plan.one(DROPLET).inputs)),
        (FIREWALL, rule_form(shipped_plan.one(FIREWALL).inputs)),
    ]


@pytest.mark.parametrize("rule", [r for r in RULES if not r.stack], ids=lambda r: r.name)
def test_no_resource_rule_crashes_on_a_wrongly_typed_property(rule, subjects):
    for resource_type, props in subjects:
        for path in _paths(props):
            for value in WRONG:
                found = rule.check(resource_type, _with(props, path, value), rule.config())
                assert isinstance(found, list) and all(isinstance(m, str) for m in found), (rule.name, path, value)


@pytest.mark.parametrize("rule", [r for r in RULES if r.stack], ids=lambda r: r.name)
def test_no_stack_rule_crashes_on_a_wrongly_typed_property(rule, shipped_plan):
    resources = stack_form(shipped_plan)
    judged = [i for i, r in enumerate(resources) if r.type in (CONTAINER, DROPLET)]
    for i in judged[:6]:
        for path in _paths(resources[i].props):
            for value in WRONG:
                changed = list(resources)
                changed[i] = dataclasses.replace(resources[i], props=_with(dict(resources[i].props), path, value))
                found = rule.check(changed, rule.config())
                assert isinstance(found, list), (rule.name, path, value)


def _shipped_container(shipped_plan, name: str) -> dict:
    return rule_form(copy.deepcopy(shipped_plan.containers()[name].inputs))


# (what is wrongly typed, how, the rule whose finding it is, words of the finding)
WRONGLY_TYPED = [
    ("envs a string", lambda p: p.update(envs="DB_PASSWORD=hunter2"), "secrets-as-files", "envs is a string, not a list"),
    ("privileged yes", lambda p: p.update(privileged="yes"), "no-privileged-containers", "counts as privileged"),
    ("upload content a number", lambda p: p["uploads"][0].update(content=5), "inputs-well-formed", "uploads[0].content is a number"),
    ("envs a string (shape)", lambda p: p.update(envs="A=1"), "inputs-well-formed", "envs is a string, not a list"),
    ("readOnly text", lambda p: p.update(readOnly="true"), "inputs-well-formed", "readOnly is a string, not a boolean"),
    ("capabilities a list", lambda p: p.update(capabilities=["ALL"]), "inputs-well-formed", "capabilities is a list, not an object"),
]


@pytest.mark.parametrize("case", WRONGLY_TYPED, ids=[c[0] for c in WRONGLY_TYPED])
def test_a_wrongly_typed_container_property_is_a_mandatory_finding(case, shipped_plan):
    _, breaks, rule, words = case
    props = _shipped_container(shipped_plan, "redis")
    assert check(rule, CONTAINER, props) == []
    breaks(props)
    found = check(rule, CONTAINER, props)
    assert any(words in message for message in found), found
    assert BY_NAME[rule].enforcement == "mandatory"


def test_a_source_address_given_as_text_is_judged_and_reported(shipped_plan):
    firewall = rule_form(copy.deepcopy(shipped_plan.one(FIREWALL).inputs))
    assert check("firewall-no-public-admin-ports", FIREWALL, firewall) == []
    ssh = next(r for r in firewall["inboundRules"] if r["portRange"] == "22")
    ssh["sourceAddresses"] = "0.0.0.0/0"
    assert "opens SSH" in check("firewall-no-public-admin-ports", FIREWALL, firewall)[0]
    assert check("inputs-well-formed", FIREWALL, firewall) == [
        f"inboundRules[{firewall['inboundRules'].index(ssh)}].sourceAddresses is a string, not a list: the pack cannot judge it"]


def test_an_unlabelled_container_named_like_the_edge_gets_no_allowed_ports(shipped_plan):
    edge = _shipped_container(shipped_plan, "edge")
    assert check("no-published-ports", CONTAINER, edge) == []
    unlabelled = copy.deepcopy(edge)
    unlabelled["labels"] = []
    unlabelled["name"] = "edge"
    found = check("no-published-ports", CONTAINER, unlabelled)
    assert len(found) == 2 and all("no allow-list applies" in m for m in found)
    # A label its network aliases do not confirm is not enough either.
    relabelled = _shipped_container(shipped_plan, "grafana")
    relabelled["labels"] = [e for e in relabelled["labels"] if e["label"] != "devtools.service"]
    relabelled["labels"].append({"label": "devtools.service", "value": "edge"})
    relabelled["ports"] = edge["ports"]
    assert len(check("no-published-ports", CONTAINER, relabelled)) == 2
    assert check("no-published-ports", CONTAINER, set_label(relabelled, "devtools.service", "edge")) == []


def _stack_changed(shipped_plan, change) -> list:
    resources = copy.deepcopy(stack_form(shipped_plan))
    change(resources)
    return resources


def test_capacity_with_a_container_it_cannot_count_judges_the_rest_and_says_so(shipped_plan):
    def oversized(resources):
        for r in resources:
            if r.type == CONTAINER and r.name == "postgres":
                r.props["memoryReservation"] = r.props["memory"] = 15 * 1024
            if r.type == CONTAINER and r.name == "redis":
                r.props["memoryReservation"] = "lots"
    found = check_stack("memory-capacity", _stack_changed(shipped_plan, oversized))
    messages = [m for _, m in found]
    assert any("memory reservations total" in m and "reservations of redis not counted" in m for m in messages), messages
    assert any("memory reservations of redis are not numbers" in m for m in messages), messages
    # Only the value that is not a number: that alone is a finding.
    only_redis = check_stack("memory-capacity", _stack_changed(shipped_plan, lambda rs: [
        r.props.update(memoryReservation=[1]) for r in rs if r.type == CONTAINER and r.name == "redis"]))
    assert [m for _, m in only_redis] == [
        "memory reservations of redis are not numbers and could not be counted, so the total is judged on the others only"]


def test_a_stack_with_containers_and_no_droplet_is_a_capacity_finding(shipped_plan):
    resources = [r for r in stack_form(shipped_plan) if r.type != DROPLET]
    for rule in ("memory-capacity", "cpu-capacity"):
        assert check_stack(rule, resources) == [(None, "the stack declares 0 droplets, not one, so the containers' capacity cannot be judged")]
        assert check_stack(rule, stack_form(shipped_plan)) == []


def test_the_host_reserve_is_the_one_the_droplet_declares(shipped_plan):
    def reserve(mib):
        def change(resources):
            droplet = next(r for r in resources if r.type == DROPLET)
            droplet.props["tags"] = [t for t in droplet.props["tags"] if not t.startswith("devtools-host-reserve-mib:")] + (
                [f"devtools-host-reserve-mib:{mib}"] if mib is not None else [])
        return _stack_changed(shipped_plan, change)
    assert check_stack("memory-capacity", reserve(1536)) == []
    assert "after 15.00 GiB for the host" in check_stack("memory-capacity", reserve(15 * 1024))[0][1]
    assert "leaves nothing" in check_stack("memory-capacity", reserve(16 * 1024))[0][1]
    assert "no devtools-host-reserve-mib:<MiB> tag" in check_stack("memory-capacity", reserve(None))[0][1]
    assert "not one whole number" in check_stack("memory-capacity", reserve("lots"))[0][1]


def test_a_setting_outside_its_schema_is_a_finding_not_a_crash(policy_pack, shipped_plan):
    info = policy_pack.info()
    settings = {p.name: PolicySetting(p.enforcement, {}) for p in info.policies}
    settings["memory-capacity"] = PolicySetting("mandatory", {"limitOvercommitFactor": "lots"})
    settings["no-published-ports"] = PolicySetting("mandatory", {"allowedPorts": {"edge": ["eighty"]}})
    policy_pack.configure(settings)
    try:
        stack = [v for v in policy_pack.analyze_stack(shipped_plan) if v.policy == "memory-capacity"]
        assert [(v.enforcement, "limitOvercommitFactor is a string" in v.message) for v in stack] == [("mandatory", True)]
        edge = [v for v in policy_pack.analyze(shipped_plan.containers()["edge"]) if v.policy == "no-published-ports"]
        assert len(edge) == 1 and "allowedPorts" in edge[0].message and edge[0].enforcement == "mandatory"
    finally:
        policy_pack.configure({p.name: PolicySetting(p.enforcement, {}) for p in info.policies})


def test_wrongly_typed_inputs_are_findings_over_grpc(policy_pack, shipped_plan):
    info = policy_pack.info()
    policy_pack.configure({p.name: PolicySetting(p.enforcement, {}) for p in info.policies})
    redis = copy.deepcopy(shipped_plan.containers()["redis"])
    redis.inputs["privileged"] = "yes"
    redis.inputs["envs"] = "DB_PASSWORD=hunter2"
    found = {(v.policy, v.enforcement) for v in policy_pack.analyze(redis)}
    assert {("no-privileged-containers", "mandatory"), ("secrets-as-files", "mandatory"),
            ("inputs-well-formed", "mandatory")} <= found
    assert all("hunter2" not in v.message for v in policy_pack.analyze(redis))
    quiet = {v.policy for v in policy_pack.analyze(shipped_plan.containers()["redis"])}
    assert not quiet & {"no-privileged-containers", "secrets-as-files", "inputs-well-formed"}


def test_a_check_that_cannot_read_its_input_is_a_finding_naming_the_rule_only():
    from policies.devtools_policy.pack import judged

    rule = BY_NAME["memory-capacity"]

    def unreadable(_config):
        raise KeyError("s3cr3t-value-from-an-input")

    found, failures = judged(rule, {}, unreadable)
    assert found == []
    assert failures == ["memory-capacity could not judge this input (KeyError): a property has a form the rule "
                        "does not read; see inputs-well-formed, or report it as a bug of the pack"]
    assert judged(rule, {}, lambda config: [(None, "x")]) == ([(None, "x")], [])
    found, failures = judged(rule, {"limitOvercommitFactor": 0.5}, unreadable)
    assert found == [] and failures == [
        "policy setting limitOvercommitFactor is a number that does not fit {type number, minimum 1}, "
        "so this policy cannot judge: fix the policy config"]
