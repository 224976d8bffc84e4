"""The rendered Prometheus and Alertmanager files, run through the real promtool and amtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import shipped_catalog
from tests.observability_support import catalog_from, render_all, shipped_settings, without_edge_and_backup


def run(*cmd: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module", params=["shipped", "without-edge-and-backup"])
def rendered(request, tmp_path_factory):
    """The shipped catalog, and one without the edge and the backup: the rules that exist only
    when a service produces their metric (TLS, backups) are left out, and the files stay valid."""
    data = shipped_catalog()
    if request.param != "shipped":
        data = without_edge_and_backup(data)
    return render_all(catalog_from(data), shipped_settings(), tmp_path_factory.mktemp(request.param))


def test_promtool_accepts_the_prometheus_config(rendered):
    config_file = rendered.file("prometheus", "prometheus_yml")
    config = yaml.safe_load(config_file.read_text())
    # Rule files are named by their path in the container; point them at where the test wrote them.
    config["rule_files"] = [str(rendered.path("prometheus", p)) for p in config["rule_files"]]
    local = config_file.with_name("prometheus.local.yml")
    local.write_text(yaml.safe_dump(config))
    result = run("promtool", "check", "config", str(local))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout and "1 rule files found" in result.stdout


def test_promtool_accepts_the_rules(rendered):
    rules = rendered.file("prometheus", "prometheus_rules")
    result = run("promtool", "check", "rules", str(rules))
    assert result.returncode == 0, result.stdout + result.stderr
    count = sum(len(g["rules"]) for g in yaml.safe_load(rules.read_text())["groups"])
    assert f"SUCCESS: {count} rules found" in result.stdout


def test_tls_and_backup_rules_exist_exactly_when_their_service_does(rendered):
    rules = yaml.safe_load(rendered.file("prometheus", "prometheus_rules").read_text())
    names = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    services = rendered.catalog.services
    backup, tls = {"BackupNotRun"}, {"TLSCertificateExpiring", "TLSCertificateExpiryImminent"}
    assert names & backup == (backup if "backup" in services else set())
    assert names & tls == (tls if "edge" in services else set())


def test_promtool_rejects_a_broken_rule_file(tmp_path):
    # The check above can fail: promtool refuses an expression that does not parse.
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "sum(up"}]}]}))
    assert run("promtool", "check", "rules", str(broken)).returncode != 0


def test_amtool_accepts_the_alertmanager_config(rendered):
    result = run("amtool", "check-config", str(rendered.file("alertmanager", "alertmanager_yml")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(("labels", "receiver"), [
    (["severity=critical", "alertname=PostgresDown", "service=postgres"], "critical"),
    (["severity=critical", "alertname=AgentDown", "service=orchestrator"], "critical"),
    (["severity=warning", "alertname=HighMemoryUsage", "service=redis", "scope=container"], "warning"),
])
def test_alerts_reach_the_receiver_of_their_severity(rendered, labels, receiver):
    config = rendered.file("alertmanager", "alertmanager_yml")
    result = run("amtool", "config", "routes", "test", f"--config.file={config}", *labels)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [receiver]


def test_critical_alerts_page_on_slack_and_mail(rendered):
    config = rendered.yaml("alertmanager", "alertmanager_yml")
    critical = next(r for r in config["receivers"] if r["name"] == "critical")
    assert critical["slack_configs"] and critical["email_configs"][0]["to"] == rendered.settings.alert_email
    # The webhook and the SMTP password are files under /run/secrets, never values in the config.
    assert config["global"]["slack_api_url_file"] == "/run/secrets/alert_slack_webhook_url"
    assert config["global"]["smtp_auth_password_file"] == "/run/secrets/alert_smtp_password"


def test_host_down_inhibits_per_container_alerts(rendered):
    config = rendered.yaml("alertmanager", "alertmanager_yml")
    rules = yaml.safe_load(rendered.file("prometheus", "prometheus_rules").read_text())
    inhibit = next(r for r in config["inhibit_rules"] if r["source_matchers"] == ['alertname="HostDown"'])
    assert inhibit["target_matchers"] == ['scope="container"']
    container_alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if r["labels"].get("scope") == "container"}
    assert {"HighMemoryUsage", "HighCPUUsage", "ContainerRestarting"} <= container_alerts
