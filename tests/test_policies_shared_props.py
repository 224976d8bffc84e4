"""The pack converts each resource's properties once per analyzer call and shares them across its policies.

The SDK's own servicer runs in-process here, fed the requests the engine sends. Spy policies beside the
pack's own see what each policy is handed; the servicer's unwrapped methods (`__wrapped__`) show what
the SDK does without sharing, so the findings of both can be compared.
"""

from __future__ import annotations

import copy
from collections import Counter

import pulumi_policy.policy as sdk
import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from ops.analyzer import analyze_request, analyze_stack_request
from ops.engine import Recorded
from policies.devtools_policy import once_per_call, pack
from policies.devtools_policy.docker import CONTAINER


class Spies:
    """Two resource and two stack policies that keep the property objects the SDK hands them."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []  # (URN, the props object), one entry per policy and resource

    def policies(self) -> list:
        def resource(args, report):
            self.seen.append((args.urn, args.props))

        def stack(args, report):
            self.seen.extend((r.urn, r.props) for r in args.resources)

        return [ResourceValidationPolicy(name=f"spy-resource-{i}", description="spy", validate=resource) for i in (1, 2)] + [
            StackValidationPolicy(name=f"spy-stack-{i}", description="spy", validate=stack) for i in (1, 2)]


def servicer(*extra) -> _PolicyAnalyzerServicer:
    return _PolicyAnalyzerServicer(pack.PACK_NAME, "0.0.1", [*pack.policies(), *extra], EnforcementLevel.ADVISORY)


def diagnostics(plan: list[Recorded], shared: bool) -> list[tuple[str, str, str]]:
    analyzer = servicer()
    analyze, analyze_stack = _PolicyAnalyzerServicer.Analyze, _PolicyAnalyzerServicer.AnalyzeStack
    if not shared:
        analyze, analyze_stack = analyze.__wrapped__, analyze_stack.__wrapped__
    replies = [analyze(analyzer, analyze_request(r), None) for r in plan]
    replies.append(analyze_stack(analyzer, analyze_stack_request(plan), None))
    return [(d.policyName, d.urn, d.message) for reply in replies for d in reply.diagnostics]


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
    assert once_per_call.install()
    assert _PolicyAnalyzerServicer.Analyze.once_per_call and _PolicyAnalyzerServicer.AnalyzeStack.once_per_call
    assert isinstance(sdk.json_format, once_per_call._JsonFormat)


def test_every_policy_of_one_call_is_handed_one_conversion_and_the_pack_walks_it_once(thaws, shipped_plan):
    spies = Spies()
    analyzer = servicer(*spies.policies())
    for resource in shipped_plan:
        spies.seen.clear()
        before = len(thaws)
        analyzer.Analyze(analyze_request(resource), None)
        handed = [props for urn, props in spies.seen if urn == resource.urn]
        assert len(handed) == 2 and handed[0] is handed[1], resource.urn
        assert len(thaws) - before == 1, resource.urn

    spies.seen.clear()
    before = len(thaws)
    analyzer.AnalyzeStack(analyze_stack_request(shipped_plan), None)
    by_urn: dict[str, list[object]] = {}
    for urn, props in spies.seen:
        by_urn.setdefault(urn, []).append(props)
    assert len(by_urn) == len(shipped_plan)
    assert all(len(handed) == 2 and handed[0] is handed[1] for handed in by_urn.values())
    assert len(thaws) - before == len(shipped_plan)


def test_without_the_sharing_the_sdk_converts_again_for_each_policy(thaws, shipped_plan):
    """The baseline the sharing removes, measured by the same spies: the check above can fail."""
    spies = Spies()
    analyzer = servicer(*spies.policies())
    resource = shipped_plan[0]
    _PolicyAnalyzerServicer.Analyze.__wrapped__(analyzer, analyze_request(resource), None)
    first, second = (props for _, props in spies.seen)
    assert first is not second and dict(first) == dict(second)
    assert len(thaws) == sum(not rule.stack for rule in pack.RULES)


def test_a_second_call_for_the_same_resource_converts_it_again(thaws, shipped_plan):
    spies = Spies()
    analyzer = servicer(*spies.policies())
    resource = shipped_plan[0]
    analyzer.Analyze(analyze_request(resource), None)
    analyzer.Analyze(analyze_request(resource), None)
    first, _, second, _ = (props for _, props in spies.seen)
    assert first is not second
    assert len(thaws) == 2


def test_sharing_leaves_every_finding_as_it_was_and_no_rule_changes_what_it_shares(thaws, shipped_plan):
    unshared = diagnostics(list(shipped_plan), shared=False)
    del thaws[:]
    assert diagnostics(list(shipped_plan), shared=True) == unshared
    assert thaws
    for shared, as_thawed in thaws:
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


def test_outside_an_analyzer_call_each_conversion_is_the_sdks_own():
    value = {"a": [1, {"b": "c"}]}
    assert sdk.deserialize_properties(value) is not sdk.deserialize_properties(value)
    converted = Counter()

    def convert(v):
        converted[id(v)] += 1
        return dict(v)

    once_per_call.once(value, convert)
    once_per_call.once(value, convert)
    assert converted[id(value)] == 2


def test_an_sdk_of_another_shape_is_left_as_it_is(monkeypatch):
    monkeypatch.delattr(sdk, "unknown_checking_proxy")
    assert once_per_call.install() is False
