"""The label index finds exactly what comparing every label set finds, and the Kubernetes coverage rules
built on it judge selectors as before: by namespace and matchLabels, never by matchExpressions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from policy_helpers import check_stack

from policies.devtools_policy.kubernetes_rules import AUTOSCALER, DISRUPTION_BUDGET, NETWORK_POLICY
from policies.devtools_policy.label_index import LabelIndex
from policies.devtools_policy.stack_rules import StackResource

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
EXAMPLES = settings(max_examples=300, deadline=None, database=None, derandomize=True)

# Few keys and values, so that sets and requirements meet; equal values of other types (1, 1.0, True),
# None (what an absent label also gives), and values no dict can be keyed on.
KEYS = st.sampled_from(["app", "tier", "team"])
VALUES = st.one_of(st.sampled_from(["a", "b", "c"]), st.sampled_from([1, 1.0, True, 0]), st.none(),
                   st.lists(st.sampled_from(["a", "b"]), max_size=2), st.dictionaries(KEYS, st.just("a"), max_size=1))
LABELS = st.dictionaries(KEYS, VALUES, max_size=3)


def compared(label_sets, required) -> list[int]:
    return [i for i, labels in enumerate(label_sets) if all(labels.get(k) == v for k, v in required.items())]


@EXAMPLES
@given(st.lists(LABELS, max_size=12), st.lists(LABELS, min_size=1, max_size=6))
def test_the_index_finds_what_comparing_every_set_finds(label_sets, requirements):
    index = LabelIndex(label_sets)
    for required in requirements:
        assert index.matching(required) == compared(label_sets, required), required


def test_a_requirement_of_no_labels_matches_every_set_and_none_matches_absence():
    index = LabelIndex([{"app": "a"}, {}, {"app": None}])
    assert index.matching({}) == [0, 1, 2]
    assert index.matching({"app": None}) == [1, 2]
    assert index.matching({"app": "a", "tier": None}) == [0]


# --- the coverage rules, on hand-made plans ------------------------------------------------------

def deployment(name: str, labels: dict, namespace: str = "apps", replicas: int = 1) -> StackResource:
    return StackResource(DEPLOYMENT, f"urn:{name}", name, {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": replicas, "template": {"metadata": {"labels": labels}, "spec": {"containers": []}}}})


def network_policy(name: str, selector: object, namespace: str = "apps", types=("Ingress", "Egress")) -> StackResource:
    return StackResource(NETWORK_POLICY, f"urn:{name}", name, {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"podSelector": selector, "policyTypes": list(types)}})


def budget(name: str, selector: object, namespace: str = "apps") -> StackResource:
    return StackResource(DISRUPTION_BUDGET, f"urn:{name}", name, {
        "metadata": {"name": name, "namespace": namespace}, "spec": {"selector": selector}})


def autoscaler(target: str, minimum: int, namespace: str = "apps") -> StackResource:
    return StackResource(AUTOSCALER, f"urn:hpa-{target}", f"hpa-{target}", {
        "metadata": {"name": f"hpa-{target}", "namespace": namespace},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": target}, "minReplicas": minimum}})


def uncovered(rule: str, resources: list[StackResource]) -> list[str]:
    return [urn for urn, _ in check_stack(rule, resources)]


def test_a_network_policy_covers_the_pods_of_its_namespace_that_its_labels_select():
    api, web, other = deployment("api", {"app": "api", "tier": "back"}), deployment("web", {"app": "web"}), \
        deployment("api-elsewhere", {"app": "api", "tier": "back"}, namespace="other")
    plan = [api, web, other, network_policy("api-only", {"matchLabels": {"app": "api", "tier": "back"}})]
    assert uncovered("k8s-network-policy-coverage", plan) == ["urn:web", "urn:api-elsewhere"]
    plan.append(network_policy("deny-all", {}, namespace="other"))
    assert uncovered("k8s-network-policy-coverage", plan) == ["urn:web"]


def test_a_network_policy_that_does_not_restrict_both_ways_or_uses_expressions_covers_nothing():
    api = deployment("api", {"app": "api"})
    for policy in (network_policy("ingress-only", {}, types=("Ingress",)),
                   network_policy("expressions", {"matchExpressions": [{"key": "app", "operator": "Exists"}]}),
                   network_policy("labels-as-a-list", {"matchLabels": ["app", "api"]}),
                   network_policy("too-narrow", {"matchLabels": {"app": "api", "tier": "back"}})):
        assert uncovered("k8s-network-policy-coverage", [api, policy]) == ["urn:api"], policy.name
    assert uncovered("k8s-network-policy-coverage", [api, network_policy("all", {"matchLabels": {}})]) == []


def test_a_label_value_no_selector_can_name_is_not_covered_by_a_selector_of_it():
    odd = deployment("odd", {"app": ["a", "list"]})
    assert uncovered("k8s-network-policy-coverage", [odd, network_policy("p", {"matchLabels": {"app": ["a", "list"]}})]) \
        == []  # compared as before: equal values select, whatever their type
    assert uncovered("k8s-network-policy-coverage", [odd, network_policy("p", {"matchLabels": {"app": "a"}})]) == ["urn:odd"]


def test_a_replicated_workload_needs_a_budget_of_its_namespace_selecting_its_pods():
    api = deployment("api", {"app": "api"}, replicas=2)
    single = deployment("single", {"app": "single"})
    assert uncovered("k8s-disruption-budget", [api, single]) == ["urn:api"]
    assert uncovered("k8s-disruption-budget", [api, single, budget("b", {"matchLabels": {"app": "api"}}, "other")]) == ["urn:api"]
    assert uncovered("k8s-disruption-budget", [api, single, budget("b", {"matchLabels": {"app": "api"}})]) == []


def test_an_autoscaler_of_a_minimum_above_one_makes_its_target_need_a_budget():
    single = deployment("single", {"app": "single"})
    assert uncovered("k8s-disruption-budget", [single, autoscaler("single", 3)]) == ["urn:single"]
    assert uncovered("k8s-disruption-budget", [single, autoscaler("single", 3, namespace="other")]) == []
    assert uncovered("k8s-disruption-budget", [single, autoscaler("single", 3), budget("b", {"matchLabels": {"app": "single"}})]) == []


def test_findings_keep_the_plans_order():
    plan = [deployment(f"d{i}", {"app": f"d{i}"}, replicas="many" if i % 2 else 2) for i in range(6)]
    found = check_stack("k8s-disruption-budget", plan)
    assert [urn for urn, _ in found] == [f"urn:d{i}" for i in range(6)]
    assert ["not a number" in message for _, message in found] == [bool(i % 2) for i in range(6)]
