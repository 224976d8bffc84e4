"""The pack converts each resource's properties once and shares them across its policies and calls.

The SDK's own servicer runs in-process here, fed the requests the engine sends. Spy policies beside the
pack's own see what each policy is handed; the SDK's own conversions (put back for the baseline) show
what it does without sharing, so the findings of both can be compared.
"""

from __future__ import annotations

import copy
import functools
import gc

import pulumi_policy.policy as sdk
import pytest
from google.protobuf import json_format
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from ops.analyzer import analyze_request, analyze_stack_request
from ops.engine import Recorded
from policies.devtools_policy import dead_alerts, monitoring_rules, pack, prometheus_files, shared_conversions
from policies.devtools_policy.docker import CONTAINER
from policies.devtools_policy.metadata import policy
from tests.conftest import run_plan


class Spies:
    """Two resource and two stack policies that keep the property objects the SDK hands them."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []  # (URN, the props object), one entry per policy and resource
        self.options: list[tuple[str, object]] = []  # (URN, the options object), the same way

    def policies(self) -> list:
        def resource(args, report):
            self.seen.append((args.urn, args.props))
            self.options.append((args.urn, args.opts))

        def stack(args, report):
            self.seen.extend((r.urn, r.props) for r in args.resources)
            self.options.extend((r.urn, r.opts) for r in args.resources)

        return [ResourceValidationPolicy(name=f"spy-resource-{i}", description="spy", validate=resource) for i in (1, 2)] + [
            StackValidationPolicy(name=f"spy-stack-{i}", description="spy", validate=stack) for i in (1, 2)]

    def handed(self, urn: str) -> list[object]:
        return [props for seen_urn, props in self.seen if seen_urn == urn]

    def options_handed(self, urn: str) -> list[object]:
        return [options for seen_urn, options in self.options if seen_urn == urn]


def servicer(*extra) -> _PolicyAnalyzerServicer:
    return _PolicyAnalyzerServicer(pack.PACK_NAME, "0.0.1", [*pack.policies(), *extra], EnforcementLevel.ADVISORY)


def diagnostics(plan: list[Recorded]) -> list[tuple[str, str, str]]:
    analyzer = servicer()
    replies = [analyzer.Analyze(analyze_request(r), None) for r in plan]
    replies.append(analyzer.AnalyzeStack(analyze_stack_request(plan), None))
    return [(d.policyName, d.urn, d.message) for reply in replies for d in reply.diagnostics]


@pytest.fixture(autouse=True)
def forgotten():
    """Each test starts with nothing remembered, as a new pack process does."""
    shared_conversions.REMEMBERED.clear()
    dead_alerts._judged.cache_clear()
    yield
    shared_conversions.REMEMBERED.clear()


def take_out_sharing(patch: pytest.MonkeyPatch) -> None:
    """The SDK's own conversions and a thaw per policy: the pack as it would be without sharing."""
    pack.policies()  # installs the sharing, which is then taken out again
    for name in shared_conversions.CONVERSIONS:
        patch.setattr(sdk, name, getattr(sdk, name).__wrapped__)
    patch.setattr(sdk, "json_format", json_format)
    for name in ("_get_resource_options", "AnalyzeStack"):
        patch.setattr(sdk._PolicyAnalyzerServicer, name, getattr(sdk._PolicyAnalyzerServicer, name).__wrapped__)
    patch.setattr(shared_conversions, "once", lambda value, convert: convert(value))
    patch.setattr(shared_conversions, "install", lambda: True)


@pytest.fixture
def unshared(monkeypatch):
    take_out_sharing(monkeypatch)


@pytest.fixture
def thaws(monkeypatch) -> list[tuple[object, object]]:
    """Every walk the pack makes of a resource's properties: (what it gave, a copy made at once)."""
    walks: list[tuple[object, object]] = []
    real = pack.thaw

    def counting(value):
        plain = real(value)
        walks.append((plain, copy.deepcopy(plain)))
        return plain

    monkeypatch.setattr(pack, "thaw", counting)
    return walks


def test_the_pinned_sdk_has_the_shape_the_sharing_needs():
    assert shared_conversions.install()
    assert all(getattr(sdk, name).shared for name in shared_conversions.CONVERSIONS)
    assert isinstance(sdk.json_format, shared_conversions._JsonFormat)


def test_every_policy_of_one_call_is_handed_one_conversion_and_the_pack_walks_it_once(thaws, shipped_plan):
    spies = Spies()
    analyzer = servicer(*spies.policies())
    contents: set[bytes] = set()
    for resource in shipped_plan:
        before = len(thaws)
        request = analyze_request(resource)
        analyzer.Analyze(request, None)
        handed = spies.handed(resource.urn)
        assert len(handed) == 2 and handed[0] is handed[1], resource.urn
        first, second = spies.options_handed(resource.urn)
        assert first is second, f"{resource.urn}: options read once per policy"
        # Walked once, unless an earlier resource had the very same properties (components: none).
        content = request.properties.SerializeToString(deterministic=True)
        assert len(thaws) - before == (content not in contents), resource.urn
        contents.add(content)
    assert len(contents) > len(shipped_plan) / 2


def test_the_stack_call_reuses_what_each_resources_own_call_converted(thaws, shipped_plan):
    spies = Spies()
    analyzer = servicer(*spies.policies())
    for resource in shipped_plan:
        analyzer.Analyze(analyze_request(resource), None)
    walked = len(thaws)
    analyzer.AnalyzeStack(analyze_stack_request(shipped_plan), None)
    for resource in shipped_plan:
        handed = spies.handed(resource.urn)  # two resource policies, then two stack policies
        assert len(handed) == 4 and all(props is handed[0] for props in handed), resource.urn
        stack_options = spies.options_handed(resource.urn)[2:]  # the stack call's message is its own
        assert stack_options[0] is stack_options[1], f"{resource.urn}: options read once per stack policy"
    assert len(thaws) == walked


def test_a_stack_call_alone_converts_each_resource_once_for_all_stack_policies(thaws, shipped_plan):
    spies = Spies()
    servicer(*spies.policies()).AnalyzeStack(analyze_stack_request(shipped_plan), None)
    for resource in shipped_plan:
        handed = spies.handed(resource.urn)
        assert len(handed) == 2 and handed[0] is handed[1], resource.urn
    contents = {analyze_request(r).properties.SerializeToString(deterministic=True) for r in shipped_plan}
    assert len(thaws) == len(contents)


def test_without_the_sharing_the_sdk_converts_again_for_each_policy(unshared, thaws, shipped_plan):
    """The baseline the sharing removes, measured by the same spies: the checks above can fail."""
    spies = Spies()
    resource = shipped_plan[0]
    servicer(*spies.policies()).Analyze(analyze_request(resource), None)
    first, second = spies.handed(resource.urn)
    assert first is not second and dict(first) == dict(second)
    assert len(thaws) == sum(not rule.stack for rule in pack.RULES)
    first, second = spies.options_handed(resource.urn)
    assert first is not second and first.parent == second.parent


def test_sharing_leaves_every_finding_as_it_was_and_no_rule_changes_what_it_shares(monkeypatch, shipped_plan):
    plan = list(shipped_plan)
    with monkeypatch.context() as without:
        take_out_sharing(without)
        baseline = diagnostics(plan)
    walks: list[tuple[object, object]] = []
    real = pack.thaw
    monkeypatch.setattr(pack, "thaw", lambda value: walks.append((plain := real(value), copy.deepcopy(plain))) or plain)
    assert diagnostics(plan) == baseline
    assert not shared_conversions.REMEMBERED._entries, "the stack call ends the run, and the memory with it"
    assert diagnostics(plan) == baseline  # a second run served by the same pack, as the tests' pack serves many
    assert walks
    for shared, as_thawed in walks:
        assert shared == as_thawed, "a rule changed the properties it shares with the other policies"


def test_a_resource_sent_again_with_other_properties_is_judged_on_the_new_ones(thaws):
    def container(privileged: object) -> Recorded:
        return Recorded(type=CONTAINER, urn="urn:pulumi:prod::devtools::docker:index/container:Container::app",
                        name="app", parent=None, dependencies=[], custom=True,
                        inputs={"name": "app", "image": "app:1", "privileged": privileged})

    analyzer = servicer()
    first = analyzer.Analyze(analyze_request(container(True)), None)
    second = analyzer.Analyze(analyze_request(container(1.0)), None)
    assert len(thaws) == 2
    assert [d.message for d in first.diagnostics] != [d.message for d in second.diagnostics]


def test_the_memory_is_bounded_and_forgets_the_oldest_first():
    memory = shared_conversions._Remembered(2)
    for key in ("a", "b", "c"):
        memory.put(key, None, key.upper())
    assert memory.get("a") is None and memory.get("b") == (None, "B") and memory.get("c") == (None, "C")


def test_the_memory_lasts_until_the_stack_call_has_answered(shipped_plan):
    analyzer = servicer()
    for resource in shipped_plan:
        analyzer.Analyze(analyze_request(resource), None)
    kept = len(shared_conversions.REMEMBERED._entries)
    assert kept >= 3 * len(shipped_plan), "each resource's conversions are kept for the stack call"
    analyzer.AnalyzeStack(analyze_stack_request(shipped_plan), None)
    assert not shared_conversions.REMEMBERED._entries


def test_another_conversion_of_the_same_value_is_not_shared():
    shared_conversions.install()
    value = {"a": [1, {"b": "c"}]}
    assert sdk.deserialize_properties(value) is sdk.deserialize_properties(value)
    assert sdk.deserialize_properties(value, True) is not sdk.deserialize_properties(value, True)


def test_an_sdk_of_another_shape_is_left_as_it_is(monkeypatch):
    monkeypatch.delattr(sdk, "unknown_checking_proxy")
    assert shared_conversions.install() is False


@pytest.mark.parametrize(("stack", "known"), [("prod", True), ("prod", False), ("prod-k8s", True)])
def test_the_packs_calls_leave_no_cyclic_garbage(stack, known):
    """Why the pack's process runs without the cycle collector (policies/__main__.py): its calls make
    nothing only that collector could free, on either target, with computed values known or unknown."""
    plan = run_plan(stack=stack, known=known)
    analyzer = servicer()
    gc.collect()
    gc.disable()
    try:
        for resource in plan:
            analyzer.Analyze(analyze_request(resource), None)
        analyzer.AnalyzeStack(analyze_stack_request(plan), None)
        assert gc.collect() == 0
    finally:
        gc.enable()


# --- a stack rule's prepare step, run in each resource's Analyze call --------------------------------

@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """Every text the pack parses as YAML for its Prometheus checks, in order (parsed ones are kept)."""
    parsed: list[str] = []
    real = prometheus_files._parsed.__wrapped__

    @functools.lru_cache(maxsize=32)
    def counting(text):
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(prometheus_files, "_parsed", counting)
    return parsed


@pytest.mark.parametrize("stack", ["prod", "prod-k8s"])
def test_rule_files_are_parsed_in_analyze_so_the_stack_call_finds_them_parsed(parses, stack):
    plan = run_plan(stack=stack)
    analyzer = servicer()
    for resource in plan:
        analyzer.Analyze(analyze_request(resource), None)
    in_analyze = list(parses)
    assert any("groups" in text and "expr" in text for text in in_analyze), "no rule file was parsed in Analyze"
    reply = analyzer.AnalyzeStack(analyze_stack_request(plan), None)
    assert not [d for d in reply.diagnostics if d.policyName == "no-dead-alert"]
    new = parses[len(in_analyze):]
    assert not [text for text in new if "groups" in text], "AnalyzeStack parsed a rule file again"


def test_without_the_prepare_step_the_stack_call_parses_the_rule_files_itself(parses, monkeypatch, shipped_plan):
    """The baseline for the test above, and the findings are the same either way."""
    with_prepare = diagnostics(list(shipped_plan))
    monkeypatch.setattr(pack, "_preparation", lambda resource_type: lambda props: None)
    assert diagnostics(list(shipped_plan)) == with_prepare
    parses.clear()
    prometheus_files._parsed.cache_clear()  # a new pack process: nothing parsed or judged yet
    dead_alerts._judged.cache_clear()
    analyzer = servicer()
    for resource in shipped_plan:
        analyzer.Analyze(analyze_request(resource), None)
    assert not parses
    analyzer.AnalyzeStack(analyze_stack_request(list(shipped_plan)), None)
    assert any("groups" in text for text in parses)


def test_a_prepare_step_that_fails_is_left_to_the_check_which_reports_it(monkeypatch, shipped_plan):
    """The step reports nothing and raises nothing out of Analyze; the check, meeting the same input in
    AnalyzeStack, says it could not judge."""
    calls: list[str] = []

    def failing(*_):
        calls.append("called")
        raise ValueError("a form the rule does not read")

    monkeypatch.setattr(monitoring_rules, "dead_alerts_in_uploads", failing)  # in the step and the check
    analyzer = servicer()
    prometheus = next(r for r in shipped_plan if "scrape_configs" in str(r.inputs.get("uploads")))
    reply = analyzer.Analyze(analyze_request(prometheus), None)
    assert calls == ["called"], "the step ran once in Analyze, for all of the resource's policies"
    assert not [d for d in reply.diagnostics if "could not judge" in d.message]
    stack = analyzer.AnalyzeStack(analyze_stack_request(list(shipped_plan)), None)
    assert [d.urn for d in stack.diagnostics if d.policyName == "no-dead-alert" and "could not judge" in d.message] == [""]


@pytest.mark.parametrize(("stack", "in_analyze"), [("prod", 1), ("prod-k8s", 0)])
def test_prometheus_files_are_judged_once_in_a_run(monkeypatch, stack, in_analyze):
    """On the droplet, no-dead-alert's step judges the Prometheus container's files in its Analyze call
    and the check finds them judged; on the cluster the files come from ConfigMaps, which only the
    stack call puts together, and it judges them once."""
    plan = run_plan(stack=stack)
    judged: list[int] = []
    real = dead_alerts.dead_alerts
    monkeypatch.setattr(dead_alerts, "dead_alerts", lambda config, rules: judged.append(len(rules)) or real(config, rules))
    analyzer = servicer()
    for resource in plan:
        analyzer.Analyze(analyze_request(resource), None)
    assert len(judged) == in_analyze
    reply = analyzer.AnalyzeStack(analyze_stack_request(plan), None)
    assert not [d for d in reply.diagnostics if d.policyName == "no-dead-alert"]
    assert len(judged) == 1 and judged[0] >= 1, "one Prometheus, its rule files judged once"


def test_files_that_cannot_be_a_key_are_judged_all_the_same(shipped_plan):
    prometheus = next(r for r in shipped_plan if "scrape_configs" in str(r.inputs.get("uploads")))
    uploads = monitoring_rules.as_list(pack.thaw(prometheus.inputs)["uploads"])
    odd = [*uploads, {"file": "/etc/odd.json", "content": ["not", "text"]}]
    assert dead_alerts.dead_alerts_in_uploads(odd) == dead_alerts.dead_alerts_in_uploads(uploads) == []


def test_only_a_stack_rule_takes_a_prepare_step():
    with pytest.raises(ValueError, match="only a stack rule"):
        policy("x", description="x", severity="low", prepare=lambda resource_type, props: None)
