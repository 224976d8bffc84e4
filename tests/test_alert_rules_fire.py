"""Each rendered alert fires on a series that should trigger it and stays quiet on a healthy one.

The unit-test file for `promtool test rules` is generated here, from a scenario per
alert name: the input series are written from what the alert is meant to catch (an
error ratio of 10%, memory at 95% of the catalog limit...), not from the rule text.
Annotations are dropped from the copy under test: their templates are checked by
`promtool check rules`, and promtool would otherwise compare their expanded text.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import yaml

from catalog.services import Catalog
from catalog.settings import Settings
from render.cloud_init import DATA_ROOT
from tests.conftest import shipped_catalog
from tests.observability_support import catalog_from, render_all, shipped_settings


def selector(name: str, labels: dict[str, str]) -> str:
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


@dataclass
class Case:
    series: list[tuple[str, dict[str, str], str]]   # metric, labels, promtool values
    kept: dict[str, str]                             # labels the expression's result keeps
    eval_time: str


@dataclass
class Scenario:
    firing: Case
    healthy: Case
    # Further situations, for alerts that catch more than one way of failing.
    also_firing: tuple[Case, ...] = ()
    also_healthy: tuple[Case, ...] = ()


Builder = Callable[[str, Catalog, Settings], Scenario]


def _target_down(job: str) -> Scenario:
    labels = {"job": job, "instance": f"{job}:9999"}
    return Scenario(Case([("up", labels, "0x15")], labels, "10m"), Case([("up", labels, "1x15")], labels, "10m"))


def _error_ratio(failing: float, healthy: float) -> Builder:
    def build(service: str, catalog: Catalog, settings: Settings) -> Scenario:
        def case(ratio: float) -> Case:
            errors, ok = round(100 * ratio), round(100 * (1 - ratio))
            return Case([("http_requests_total", {"job": service, "status": "5xx", "handler": "/run"}, f"0+{errors}x30"),
                         ("http_requests_total", {"job": service, "status": "2xx", "handler": "/run"}, f"0+{ok}x30")],
                        {}, "15m")
        return Scenario(case(failing), case(healthy))
    return build


def _slow(service: str, catalog: Catalog, settings: Settings) -> Scenario:
    def case(slowest_bucket: str) -> Case:
        buckets = ["0.5", "1", "2.5", "5", "+Inf"]
        start = buckets.index(slowest_bucket)
        series = [("http_request_duration_seconds_bucket", {"job": service, "le": le},
                   "0+10x40" if i >= start else "0x40") for i, le in enumerate(buckets)]
        return Case(series, {}, "25m")
    # Every request between 2.5 s and 5 s, against every request under 0.5 s.
    return Scenario(case("5"), case("0.5"))


def _cadvisor(service: str) -> dict[str, str]:
    return {"job": "cadvisor", "container_label_devtools_service": service, "name": f"{service}-1a2b3c"}


def _memory(service: str, catalog: Catalog, settings: Settings) -> Scenario:
    limit = catalog.services[service].deploy.resources.limits.memory
    def case(share: float) -> Case:
        return Case([("container_memory_working_set_bytes", _cadvisor(service), f"{int(limit * share)}x20")], {}, "10m")
    return Scenario(case(0.95), case(0.5))


def _cpu(service: str, catalog: Catalog, settings: Settings) -> Scenario:
    cpus = catalog.services[service].deploy.resources.limits.cpus
    def case(share: float) -> Case:
        return Case([("container_cpu_usage_seconds_total", _cadvisor(service), f"0+{cpus * share * 60:g}x40")], {}, "25m")
    return Scenario(case(0.97), case(0.3))


def _restarts(service: str, catalog: Catalog, settings: Settings) -> Scenario:
    return Scenario(Case([("container_start_time_seconds", _cadvisor(service), "0+60x30")], {}, "20m"),
                    Case([("container_start_time_seconds", _cadvisor(service), "1000x30")], {}, "20m"))


def _filesystem(mountpoint: str, avail_firing: str, avail_healthy: str, eval_time: str) -> Scenario:
    labels = {"job": "node-exporter", "mountpoint": mountpoint, "device": "/dev/sda", "fstype": "ext4"}
    samples = avail_firing.rsplit("x", 1)[1]
    def case(avail: str) -> Case:
        return Case([("node_filesystem_avail_bytes", labels, avail),
                     ("node_filesystem_size_bytes", labels, f"1000000x{samples}")], labels, eval_time)
    return Scenario(case(avail_firing), case(avail_healthy))


def _gauge_down(metric: str, job: str) -> Scenario:
    labels = {"job": job, "instance": f"{job}:9999"}
    return Scenario(Case([(metric, labels, "0x15")], labels, "10m"), Case([(metric, labels, "1x15")], labels, "10m"))


def _backup(service: str, catalog: Catalog, settings: Settings) -> Scenario:
    # promtool's clock starts at 0: a value of -N seconds is N seconds before the start.
    # One failed run is tolerated: the last success 1.5 intervals old is quiet, 3 intervals
    # (plus the slack a slow run may take) is two missed runs and pages.
    labels = {"job": service}
    interval = settings.backup_interval_hours * 3600
    missed_two, missed_one = -(3 * interval + 2 * 3600), -(3 * interval // 2)
    success, started = "devtools_backup_last_success_timestamp_seconds", "process_start_time_seconds"
    def case(*series: tuple[str, int]) -> Case:
        return Case([(metric, labels, f"{value}x40") for metric, value in series], {}, "30m")
    return Scenario(
        firing=case((success, missed_two), (started, missed_two)),
        # A program running for long whose last backup is recent: its start time does not page.
        healthy=case((success, missed_one), (started, missed_two)),
        # No success since the program started: the start time stands in for it.
        also_firing=(case((started, missed_two)),),
        also_healthy=(case((started, missed_one)),),
    )


def _certificate(days_left_firing: float, days_left_healthy: float) -> Builder:
    def build(service: str, catalog: Catalog, settings: Settings) -> Scenario:
        labels = {"job": service, "cn": "devtools.example.org"}
        def case(days: float) -> Case:
            return Case([("traefik_tls_certs_not_after", labels, f"{int(7200 + days * 86400)}x130")],
                        {"cn": "devtools.example.org"}, "2h")
        return Scenario(case(days_left_firing), case(days_left_healthy))
    return build


SCENARIOS: dict[str, Builder] = {
    "AgentDown": lambda s, c, st: _target_down(s),
    "ServiceDown": lambda s, c, st: _target_down(s),
    "EdgeDown": lambda s, c, st: _target_down(s),
    "MonitoringTargetDown": lambda s, c, st: _target_down(s),
    "HostDown": lambda s, c, st: _target_down("node-exporter"),
    "HighErrorRate": _error_ratio(0.10, 0.01),
    "CriticalErrorRate": _error_ratio(0.30, 0.10),
    "SlowResponseTime": _slow,
    "HighMemoryUsage": _memory,
    "HighCPUUsage": _cpu,
    "ContainerRestarting": _restarts,
    "LowDiskSpace": lambda s, c, st: _filesystem("/", "50000x15", "500000x15", "10m"),
    "VolumeFillingUp": lambda s, c, st: _filesystem(DATA_ROOT, "1000000-1000x500", "900000x500", "7h"),
    "PostgresDown": lambda s, c, st: _gauge_down("pg_up", "postgres-exporter"),
    "RedisDown": lambda s, c, st: _gauge_down("redis_up", "redis-exporter"),
    "BackupNotRun": _backup,
    "TLSCertificateExpiring": _certificate(7, 60),
    "TLSCertificateExpiryImminent": _certificate(1, 7),
}


def _test_group(rule: dict, case: Case, firing: bool) -> dict:
    expected = [{"exp_labels": {**case.kept, **rule["labels"]}}] if firing else []
    return {
        "interval": "1m",
        "input_series": [{"series": selector(m, labels), "values": values} for m, labels, values in case.series],
        "alert_rule_test": [{"eval_time": case.eval_time, "alertname": rule["alert"], "exp_alerts": expected}],
    }


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    catalog = catalog_from(shipped_catalog())
    return render_all(catalog, shipped_settings(), tmp_path_factory.mktemp("rules"))


def test_every_alert_fires_when_it_should_and_only_then(rendered, tmp_path):
    rules = yaml.safe_load(rendered.file("prometheus", "prometheus_rules").read_text())
    all_rules = [r for g in rules["groups"] for r in g["rules"]]
    names = {r["alert"] for r in all_rules}
    assert not names - set(SCENARIOS), f"alerts without a firing scenario: {sorted(names - set(SCENARIOS))}"
    assert names == set(SCENARIOS), f"scenarios for alerts no longer rendered: {sorted(set(SCENARIOS) - names)}"

    # One rule file and one test file per alert name: promtool evaluates every rule of a file
    # at every step of every test, so small files keep the run short.
    test_files = []
    for name in sorted(names):
        same_name = [{k: v for k, v in r.items() if k != "annotations"} for r in all_rules if r["alert"] == name]
        tests = []
        for rule in same_name:
            scenario = SCENARIOS[name](rule["labels"].get("service", ""), rendered.catalog, rendered.settings)
            tests += [_test_group(rule, case, firing=True) for case in (scenario.firing, *scenario.also_firing)]
            tests += [_test_group(rule, case, firing=False) for case in (scenario.healthy, *scenario.also_healthy)]
        (tmp_path / f"{name}.rules.yml").write_text(yaml.safe_dump({"groups": [{"name": name, "rules": same_name}]}))
        (tmp_path / f"{name}.test.yml").write_text(yaml.safe_dump(
            {"rule_files": [f"{name}.rules.yml"], "evaluation_interval": "1m", "tests": tests}, sort_keys=False))
        test_files.append(f"{name}.test.yml")

    result = subprocess.run(["promtool", "test", "rules", *test_files], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert result.stdout.count("SUCCESS") == len(test_files)


def test_promtool_unit_tests_can_fail(tmp_path):
    """A healthy series declared as firing must be reported: the harness is not a rubber stamp."""
    rule = {"alert": "RedisDown", "expr": 'redis_up{job="redis-exporter"} == 0', "for": "1m",
            "labels": {"severity": "critical", "service": "redis"}}
    (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}))
    healthy = _gauge_down("redis_up", "redis-exporter").healthy
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(
        {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [_test_group(rule, healthy, firing=True)]}))
    result = subprocess.run(["promtool", "test", "rules", "tests.yml"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr
