"""The pack thaws each resource's properties once and shares them across its policies.

The SDK's own servicer runs in-process here, fed the requests the engine sends, so the test can count
how often the pack walks each resource's properties while every policy still judges it.
"""

from __future__ import annotations

import copy
from collections import Counter

import pytest
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from ops.analyzer import analyze_request, analyze_stack_request
from ops.engine import Recorded
from policies.devtools_policy import pack
from policies.devtools_policy.docker import CONTAINER
from policies.devtools_policy.registry import RULES


class CountingProps(pack.SharedProps):
    """Shared props that count, per place (a URN in Analyze, a position in AnalyzeStack), the walks
    actually made and every policy that asked, and keep a copy of what each walk gave."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: Counter[object] = Counter()
        self.walked: Counter[object] = Counter()
        self.given: list[tuple[object, object]] = []

    def props(self, report, place, value):
        self.asked[place] += 1
        before = self.thawed
        plain = super().props(report, place, value)
        if self.thawed > before:
            self.walked[place] += 1
            self.given.append((plain, copy.deepcopy(plain)))
        return plain


class Unshared(pack.SharedProps):
    """The pack as it would be without sharing: every policy thaws its own copy."""

    def props(self, report, place, value):
        return pack.thaw(value)


def servicer() -> _PolicyAnalyzerServicer:
    return _PolicyAnalyzerServicer(pack.PACK_NAME, "0.0.1", pack.policies(), EnforcementLevel.ADVISORY)


def diagnostics(plan: list[Recorded]) -> list[tuple[str, str, str]]:
    analyzer = servicer()
    replies = [analyzer.Analyze(analyze_request(r), None) for r in plan]
    replies.append(analyzer.AnalyzeStack(analyze_stack_request(plan), None))
    return [(d.policyName, d.urn, d.message) for reply in replies for d in reply.diagnostics]


@pytest.fixture
def counting(monkeypatch) -> CountingProps:
    shared = CountingProps()
    monkeypatch.setattr(pack, "SHARED_PROPS", shared)
    return shared


def test_each_resource_is_thawed_once_for_all_its_policies_and_once_for_all_stack_policies(counting, shipped_plan):
    plan = list(shipped_plan)
    analyzer = servicer()
    for resource in plan:
        analyzer.Analyze(analyze_request(resource), None)
    resource_policies = sum(not rule.stack for rule in RULES)
    assert resource_policies > 1
    for resource in plan:
        assert counting.asked[resource.urn] == resource_policies
        assert counting.walked[resource.urn] == 1, resource.urn

    analyzer.AnalyzeStack(analyze_stack_request(plan), None)
    stack_policies = sum(rule.stack for rule in RULES)
    assert stack_policies > 1
    for position, resource in enumerate(plan):
        assert counting.asked[position] == stack_policies
        assert counting.walked[position] == 1, resource.urn


def test_a_second_call_for_the_same_resource_thaws_it_again(counting, shipped_plan):
    resource = shipped_plan[0]
    analyzer = servicer()
    analyzer.Analyze(analyze_request(resource), None)
    analyzer.Analyze(analyze_request(resource), None)
    assert counting.walked[resource.urn] == 2


def test_sharing_leaves_every_finding_as_it_was_and_no_rule_changes_what_it_shares(monkeypatch, shipped_plan):
    plan = list(shipped_plan)
    monkeypatch.setattr(pack, "SHARED_PROPS", Unshared())
    unshared = diagnostics(plan)
    counting = CountingProps()
    monkeypatch.setattr(pack, "SHARED_PROPS", counting)
    assert diagnostics(plan) == unshared
    assert counting.given
    for shared, as_thawed in counting.given:
        assert shared == as_thawed, "a rule changed the properties it shares with the other policies"


def test_a_resource_sent_again_with_other_properties_is_judged_on_the_new_ones(counting):
    def container(privileged: object) -> Recorded:
        return Recorded(type=CONTAINER, urn="urn:pulumi:prod::devtools::docker:index/container:Container::app",
                        name="app", parent=None, dependencies=[], custom=True,
                        inputs={"name": "app", "image": "app:1", "privileged": privileged})

    analyzer = servicer()
    # Same URN, other properties: nothing of the first call is shared with the second.
    first = analyzer.Analyze(analyze_request(container(True)), None)
    second = analyzer.Analyze(analyze_request(container(1.0)), None)
    assert counting.walked[container(True).urn] == 2
    assert [d.message for d in first.diagnostics] != [d.message for d in second.diagnostics]
