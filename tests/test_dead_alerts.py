"""No dead alert: every metric and job an alert uses is produced by a configured scrape job."""

from __future__ import annotations

import yaml

from components.catalog import Catalog
from components.observability.scrape import unreachable_jobs
from ops.observability_findings import observability_findings
from policies.devtools_policy.dead_alerts import dead_alerts, dead_alerts_in_uploads, dead_references, scrape_jobs
from tests.conftest import run_plan, shipped_catalog
from tests.observability_support import catalog_from, render_all, shipped_settings


def _rendered(tmp_path, data=None):
    return render_all(catalog_from(data or shipped_catalog()), shipped_settings(), tmp_path)


def _config_and_rules(rendered):
    return rendered.yaml("prometheus", "prometheus_yml"), rendered.yaml("prometheus", "prometheus_rules")


def test_the_shipped_rules_have_no_dead_alert(tmp_path):
    config, rules = _config_and_rules(_rendered(tmp_path))
    assert sum(len(g["rules"]) for g in rules["groups"]) > 50
    assert dead_alerts(config, [rules]) == []


def test_rules_for_the_edge_and_backup_are_alive_once_they_are_scraped(tmp_path):
    rendered = _rendered(tmp_path)
    config, rules = _config_and_rules(rendered)
    names = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert {"BackupNotRun", "TLSCertificateExpiring", "TLSCertificateExpiryImminent"} <= names
    assert dead_alerts(config, [rules]) == []
    # Scraped for real: both are jobs, on a network Prometheus shares.
    assert {"edge", "backup"} <= {job["job_name"] for job in config["scrape_configs"]}
    assert unreachable_jobs(rendered.catalog) == []


def test_a_rule_on_an_unscraped_job_is_reported(tmp_path):
    config, rules = _config_and_rules(_rendered(tmp_path))
    rules["groups"].append({"name": "extra", "rules": [
        {"alert": "MysqlDown", "expr": 'mysql_up{job="mysql-exporter"} == 0'},
    ]})
    dead = [str(d) for d in dead_alerts(config, [rules])]
    assert any("job 'mysql-exporter' is not scraped" in d and "MysqlDown" in d for d in dead), dead
    assert any("metric 'mysql_up' is not produced" in d for d in dead), dead


def test_a_metric_no_job_produces_is_reported_even_without_a_job_matcher(tmp_path):
    config, _ = _config_and_rules(_rendered(tmp_path))
    jobs = scrape_jobs(config)
    assert [str(d) for d in dead_references("alert X", "rate(nginx_http_requests_total[5m]) > 1", jobs)] == [
        "alert X: metric 'nginx_http_requests_total' is not produced by any scrape job"]
    # A real metric asked of the wrong job is dead too: pg_up comes from the Postgres exporter only.
    assert dead_references("alert Y", 'pg_up{job="redis-exporter"} == 0', jobs)
    assert dead_references("alert Z", 'pg_up{job="postgres-exporter"} == 0', jobs) == []


def test_an_expression_that_does_not_parse_is_reported(tmp_path):
    config, _ = _config_and_rules(_rendered(tmp_path))
    (dead,) = dead_references("alert Broken", "sum(up", scrape_jobs(config))
    assert "does not parse" in dead.problem


def test_the_check_works_on_a_containers_uploads_as_a_stack_policy_sees_them(tmp_path):
    rendered = _rendered(tmp_path)
    config_text = rendered.file("prometheus", "prometheus_yml").read_text()
    rules = rendered.yaml("prometheus", "prometheus_rules")
    (rule_path,) = yaml.safe_load(config_text)["rule_files"]
    uploads = [{"file": "/etc/prometheus/prometheus.yml", "content": config_text},
               {"file": rule_path, "content": yaml.safe_dump(rules)}]
    assert dead_alerts_in_uploads(uploads) == []
    rules["groups"][0]["rules"].append({"alert": "Dead", "expr": 'up{job="nowhere"} == 0'})
    uploads[1]["content"] = yaml.safe_dump(rules)
    assert [d.where for d in dead_alerts_in_uploads(uploads)] == ["alert Dead (group platform)"] * 2
    assert dead_alerts_in_uploads(uploads[:1])[0].problem == f"rule file {rule_path} is not uploaded"
    assert dead_alerts_in_uploads([{"file": "/etc/redis.conf", "content": "port 6379\n"}]) is None


def test_the_preview_reports_a_dead_alert_as_a_mandatory_stack_finding(shipped_plan):
    catalog = Catalog.model_validate(shipped_catalog())
    assert observability_findings(list(shipped_plan), catalog) == []
    prometheus = shipped_plan.containers()["prometheus"]
    uploads = [dict(u) for u in prometheus.inputs["uploads"]]
    rules_upload = next(u for u in uploads if u["file"].endswith(".rules.yml"))
    rules = yaml.safe_load(rules_upload["content"])
    rules["groups"][0]["rules"].append({"alert": "GhostDown", "expr": 'up{job="ghost"} == 0'})
    rules_upload["content"] = yaml.safe_dump(rules)
    changed = type(prometheus)(**{**prometheus.__dict__, "inputs": {**prometheus.inputs, "uploads": uploads}})
    findings = observability_findings([changed], catalog)
    assert findings and all(f.policy == "no-dead-alert" and f.enforcement == "mandatory" for f in findings)
    assert "GhostDown" in findings[0].message


def test_the_preview_flags_a_scrape_target_prometheus_cannot_reach(tmp_path):
    data = shipped_catalog()
    data["services"]["rag-context"]["networks"] = ["data"]  # no network in common with prometheus
    plan = run_plan(data, tmp_path)
    findings = observability_findings(list(plan), Catalog.model_validate(data))
    assert [f.policy for f in findings] == ["scrape-target-reachable"]
    assert "'rag-context'" in findings[0].message
