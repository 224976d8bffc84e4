"""Adding a service to the catalog adds its scrape job, its alerts and its dashboard row; nothing else to edit."""

from __future__ import annotations

import copy
import json

import yaml

from tests.conftest import run_plan

NEW_AGENT = {
    "image": "ghcr.io/appsmithery/dev-tools-security-review:0.1.0",
    "role": "agent",
    "description": "Reviews changes for security issues.",
    "port": 8011,
    "healthcheck": {"path": "/health", "probe": "curl"},
    "readiness": {"path": "/ready"},
    "metrics": {"path": "/metrics", "yields": ["http", "python", "agent"]},
    "networks": ["app", "data"],
    # As every agent: it uses the event bus on `data` (a network is joined only by its users).
    "depends_on": {"redis": {"condition": "service_healthy"}},
    "deploy": {"resources": {"limits": {"cpus": "0.5", "memory": "512M"},
                             "reservations": {"cpus": "0.1", "memory": "256M"}}},
}


def _uploaded(plan, service: str, suffix: str) -> str:
    uploads = plan.containers()[service].inputs["uploads"]
    uploads = uploads["value"] if isinstance(uploads, dict) else uploads  # a list holding a secret is wrapped
    return next(u["content"] for u in uploads if u["file"].endswith(suffix))


def _alerts(plan) -> dict[str, set[str]]:
    rules = yaml.safe_load(_uploaded(plan, "prometheus", ".rules.yml"))
    by_service: dict[str, set[str]] = {}
    for group in rules["groups"]:
        for rule in group["rules"]:
            by_service.setdefault(rule["labels"].get("service", ""), set()).add(rule["alert"])
    return by_service


def test_a_new_agent_gets_a_scrape_job_alerts_and_a_dashboard_row(shipped_plan, catalog, tmp_path):
    before_jobs = yaml.safe_load(_uploaded(shipped_plan, "prometheus", "prometheus.yml"))["scrape_configs"]
    assert "security-review" not in {j["job_name"] for j in before_jobs}

    changed = copy.deepcopy(catalog)
    changed["services"]["security-review"] = NEW_AGENT
    plan = run_plan(changed, tmp_path)

    jobs = {j["job_name"]: j for j in yaml.safe_load(_uploaded(plan, "prometheus", "prometheus.yml"))["scrape_configs"]}
    assert jobs["security-review"]["static_configs"] == [
        {"targets": ["security-review:8011"], "labels": {"service": "security-review", "role": "agent",
                                                          "__devtools_yields": "http,python,agent"}}]
    assert len(jobs) == len(before_jobs) + 1

    alerts = _alerts(plan)["security-review"]
    assert {"AgentDown", "HighErrorRate", "CriticalErrorRate", "SlowResponseTime",
            "HighMemoryUsage", "HighCPUUsage", "ContainerRestarting"} == alerts
    memory_rule = next(r for g in yaml.safe_load(_uploaded(plan, "prometheus", ".rules.yml"))["groups"]
                       for r in g["rules"] if r["alert"] == "HighMemoryUsage" and r["labels"]["service"] == "security-review")
    assert str(512 * 1024**2) in memory_rule["expr"]  # against this service's own limit

    dashboard = json.loads(_uploaded(plan, "grafana", ".json"))
    assert "security-review (agent)" in [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    exprs = [t["expr"] for p in dashboard["panels"] if p["type"] != "row" for t in p["targets"]]
    assert any('job="security-review"' in e for e in exprs)
    assert any('container_label_devtools_service="security-review"' in e for e in exprs)


def test_removing_an_exporter_removes_the_alerts_that_depended_on_it(catalog, tmp_path):
    del catalog["services"]["redis-exporter"]
    plan = run_plan(catalog, tmp_path)
    alerts = _alerts(plan)
    assert "RedisDown" not in alerts.get("redis", set())
    jobs = {j["job_name"] for j in yaml.safe_load(_uploaded(plan, "prometheus", "prometheus.yml"))["scrape_configs"]}
    assert "redis-exporter" not in jobs
    dashboard = json.loads(_uploaded(plan, "grafana", ".json"))
    assert "Redis up" not in [p["title"] for p in dashboard["panels"]]
