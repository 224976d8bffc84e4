"""The backup program serves the metrics BackupNotRun alerts on, where Prometheus scrapes them.

The program runs as the container runs it (`datastore_backup.py schedule`), on its rendered
settings with only the listen address and port moved to a free port on 127.0.0.1; a backup is
then taken by the same file against real PostgreSQL, Redis and an S3 stand-in, and the scrape
must report it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
import yaml

from ops import drill as dr_drill
from ops.local_servers import (
    PostgresServer,
    RedisServer,
    free_port,
    render_config,
    shipped_catalog_and_settings,
    wait_for_port,
)
from render.observability.alert_rules import BACKUP_METRIC, START_METRIC
from render.observability.scrape import scrape_jobs
from tests.conftest import shipped_catalog
from tests.observability_support import catalog_from, render_all, shipped_settings

BUCKET = "metrics-backups"
DURATION_METRIC = "devtools_backup_last_duration_seconds"


def scrape(url: str) -> tuple[str, dict[str, float]]:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.split(" ")
            samples[name] = float(value)
    return text, samples


def test_the_rendered_settings_put_the_metrics_where_prometheus_scrapes_them():
    catalog, _ = shipped_catalog_and_settings()
    metrics = json.loads(render_config("backup_conf"))["metrics"]
    (job,) = [j for j in scrape_jobs(catalog) if j.job == "backup"]
    assert job.target == f"backup:{metrics['port']}" and job.path == metrics["path"]
    assert metrics["address"] == "0.0.0.0"  # in its container: reachable by its alias on `observability`


def test_the_alert_asks_for_what_the_program_serves(tmp_path):
    rendered = render_all(catalog_from(shipped_catalog()), shipped_settings(), tmp_path)
    rules = yaml.safe_load(rendered.file("prometheus", "prometheus_rules").read_text())
    (rule,) = [r for g in rules["groups"] for r in g["rules"] if r["alert"] == "BackupNotRun"]
    assert f'{BACKUP_METRIC}{{job="backup"}}' in rule["expr"] and f'{START_METRIC}{{job="backup"}}' in rule["expr"]


@pytest.fixture
def backup_env(postgres_server: PostgresServer, redis_server: RedisServer, s3_endpoint: str, tmp_path: Path) -> dict:
    env = dr_drill.backup_env(postgres_server, redis_server, tmp_path, s3_endpoint)
    env["PGDATABASE"] = postgres_server.fresh_database("backup_metrics")
    config = json.loads(Path(env["BACKUP_CONFIG"]).read_text())
    config.update(bucket=BUCKET, snapshots={})
    config["metrics"].update(address="127.0.0.1", port=free_port())
    Path(env["BACKUP_CONFIG"]).write_text(json.dumps(config))
    boto3.client("s3", endpoint_url=s3_endpoint, region_name=dr_drill.S3_REGION, aws_access_key_id="drill-key-id",
                 aws_secret_access_key="drill-secret").create_bucket(Bucket=BUCKET)
    return env


def test_the_schedule_serves_the_time_of_the_last_backup(backup_env: dict):
    metrics = json.loads(Path(backup_env["BACKUP_CONFIG"]).read_text())["metrics"]
    url = f"http://127.0.0.1:{metrics['port']}{metrics['path']}"
    started = time.time()
    schedule = subprocess.Popen([sys.executable, str(dr_drill.BACKUP_PROGRAM), "schedule"], env=backup_env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(metrics["port"])
        # Before any backup: the start time only, which BackupNotRun falls back on.
        text, samples = scrape(url)
        assert set(samples) == {START_METRIC}
        assert started - 1 <= samples[START_METRIC] <= time.time()

        before = time.time()
        dr_drill.run_program(backup_env, "backup")  # as `docker exec ... backup` would, sharing the state
        after = time.time()
        text, samples = scrape(url)
        assert before - 1 <= samples[BACKUP_METRIC] <= after
        assert 0 < samples[DURATION_METRIC] <= after - before

        # Prometheus' own parser accepts the exposition.
        checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        with pytest.raises(urllib.error.HTTPError) as other:
            urllib.request.urlopen(url.replace(metrics["path"], "/elsewhere"), timeout=5)
        assert other.value.code == 404
    finally:
        schedule.terminate()
        output, _ = schedule.communicate(timeout=10)
    assert f"metrics on 127.0.0.1:{metrics['port']}{metrics['path']}" in output
