"""no-dead-alert and scrape-target-reachable on the DOKS plan: they judge the files Prometheus's pod mounts from
its ConfigMap, fire on a broken one and stay quiet on the shipped stack, as functions and over gRPC."""

from __future__ import annotations

import copy

import pytest
import yaml
from conftest import run_plan
from policy_helpers import check_stack, stack_form

from ops.policy_config import resolve
from ops.preview import EXIT_VIOLATION, evaluate, exit_code

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


@pytest.fixture(scope="module")
def k8s_plan():
    return run_plan(stack="prod-k8s")


def _with_prometheus_config(plan, change):
    """A copy of the plan whose cluster prometheus.yml (the ConfigMap key holding `scrape_configs`) is changed."""
    plan = copy.deepcopy(list(plan))
    for r in plan:
        if r.type != CONFIG_MAP:
            continue
        for key, text in r.inputs.get("data", {}).items():
            if isinstance(text, str) and "scrape_configs" in text:
                config = yaml.safe_load(text)
                change(config)
                r.inputs["data"][key] = yaml.safe_dump(config)
                return plan
    raise AssertionError("no ConfigMap carries a prometheus.yml")


def _drop_kubelet_job(config):
    config["scrape_configs"] = [j for j in config["scrape_configs"] if j["kubernetes_sd_configs"] != [{"role": "node"}]]


def _rename_a_pod_job(config):
    job = next(j for j in config["scrape_configs"] if j["kubernetes_sd_configs"][0]["role"] == "pod")
    job["relabel_configs"][0]["regex"] = "no-such-service"


@pytest.mark.parametrize("rule", ["no-dead-alert", "scrape-target-reachable"])
def test_quiet_on_the_shipped_cluster(k8s_plan, rule):
    assert check_stack(rule, stack_form(k8s_plan)) == []


def test_no_dead_alert_fires_when_the_cluster_stops_collecting_container_metrics(k8s_plan):
    found = check_stack("no-dead-alert", stack_form(_with_prometheus_config(k8s_plan, _drop_kubelet_job)))
    assert found and all(urn.endswith("Deployment::prometheus") for urn, _ in found)
    assert any("container_memory_working_set_bytes" in message for _, message in found)


def test_no_dead_alert_fires_when_a_rule_file_is_not_in_the_config_map(k8s_plan):
    found = check_stack("no-dead-alert", stack_form(_with_prometheus_config(
        k8s_plan, lambda config: config["rule_files"].append("/etc/prometheus/rules/missing.yml"))))
    assert [m for _, m in found] == ["prometheus.yml: rule file /etc/prometheus/rules/missing.yml is not uploaded "
                                     "(an alert on a metric nothing collects can never fire)"]


def test_scrape_target_reachable_fires_on_a_job_that_keeps_no_pod(k8s_plan):
    found = check_stack("scrape-target-reachable", stack_form(_with_prometheus_config(k8s_plan, _rename_a_pod_job)))
    assert len(found) == 1 and "no-such-service" in found[0][1] and "finds no target" in found[0][1]


def test_over_grpc_both_fire_on_the_broken_cluster_and_stay_quiet_on_the_shipped_one(policy_pack, k8s_plan):
    policy_pack.configure(resolve({}, policy_pack.info()))
    rules = {"no-dead-alert", "scrape-target-reachable"}
    assert not [v for v in policy_pack.analyze_stack(k8s_plan) if v.policy in rules]
    dead = [v for v in policy_pack.analyze_stack(_with_prometheus_config(k8s_plan, _drop_kubelet_job)) if v.policy in rules]
    assert dead and {(v.policy, v.enforcement) for v in dead} == {("no-dead-alert", "mandatory")}
    lost = [v for v in policy_pack.analyze_stack(_with_prometheus_config(k8s_plan, _rename_a_pod_job)) if v.policy in rules]
    assert {(v.policy, v.enforcement) for v in lost} == {("scrape-target-reachable", "advisory")}


def test_a_dead_alert_on_the_cluster_fails_the_whole_preview(policy_pack, k8s_plan):
    """As `preview --stack prod-k8s` runs the pack: the shipped plan has no finding of either rule, a cluster
    Prometheus that stops collecting the container metrics fails the preview."""
    rules = {"no-dead-alert", "scrape-target-reachable"}
    _, shipped = evaluate(policy_pack, list(k8s_plan))
    assert not [v for v in shipped if v.policy in rules]
    _, violations = evaluate(policy_pack, _with_prometheus_config(k8s_plan, _drop_kubelet_job))
    assert {v.policy for v in violations if v.policy in rules} == {"no-dead-alert"}
    assert exit_code(violations) == EXIT_VIOLATION
