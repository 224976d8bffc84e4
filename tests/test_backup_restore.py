"""Backup -> destroy -> restore -> compare against real PostgreSQL and Redis, and the backup program's rules."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest

from ops import drill as dr_drill
from ops.local_servers import free_port, render_config
from tests.conftest import ROOT
from tests.support.backup_program import backup_program

UTC = dt.UTC
job = backup_program()  # the file the backup image runs, imported as a module


def test_drill_command_restores_what_was_backed_up_and_writes_only_where_told(tmp_path: Path):
    tracked = (ROOT / "docs" / "DR.md").read_bytes()
    doc = tmp_path / "DR.md"
    doc.write_text("intro\n" + dr_drill.BEGIN_MARK + "\nold\n" + dr_drill.END_MARK + "\noutro\n")
    ran = subprocess.run([sys.executable, "-m", "ops", "drill", "--write", str(doc)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    result = json.loads(ran.stdout[ran.stdout.index("{"):ran.stdout.rindex("}") + 1])
    assert result["mismatches"] == []
    assert result["rows_before_backup"] > 0 and result["events_before_backup"] > 0
    assert result["rows_restored"] >= result["rows_before_backup"]
    assert result["events_restored"] >= result["events_before_backup"]
    # The figures go where the operator says (timings are reported, never asserted): here a copy.
    text = doc.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old" not in text
    assert f"| Postgres rows written before the backup / restored | {result['rows_before_backup']} / " \
           f"{result['rows_restored']} |" in text
    assert (ROOT / "docs" / "DR.md").read_bytes() == tracked


def test_drill_refuses_a_file_without_markers_before_starting(tmp_path: Path):
    doc = tmp_path / "notes.md"
    doc.write_text("no markers here\n")
    ran = subprocess.run([sys.executable, "-m", "ops", "drill", "--write", str(doc)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 2 and ran.stdout == ""
    assert f"{doc}: lacks the {dr_drill.BEGIN_MARK} ... {dr_drill.END_MARK} markers" in ran.stderr
    assert doc.read_text() == "no markers here\n"


def test_drill_without_postgresql_says_what_installs_it(tmp_path: Path):
    missing = tmp_path / "no-postgresql"
    ran = subprocess.run([sys.executable, "-m", "ops", "drill"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PG_BIN": str(missing)})
    assert ran.returncode == 2 and ran.stdout == "" and "Traceback" not in ran.stderr
    assert f"PostgreSQL is not installed (looked in {missing}); run scripts/setup-system" in ran.stderr


@pytest.fixture
def storage(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> job.Storage:
    bucket = f"prune-{tmp_path.name.lower().replace('_', '-')[-40:]}"
    (tmp_path / "key").write_text("k")
    (tmp_path / "secret").write_text("s")
    monkeypatch.setenv("SPACES_ACCESS_KEY_ID_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("SPACES_SECRET_ACCESS_KEY_FILE", str(tmp_path / "secret"))
    config = job.Config(bucket, "us-east-1", s3_endpoint, "devtools", 3600, 14, {}, tmp_path / "state")
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="k",
                 aws_secret_access_key="s").create_bucket(Bucket=bucket)
    return job.Storage(config)


def _put_set(storage: job.Storage, when: dt.datetime, complete: bool = True) -> str:
    backup_id = when.strftime(job.ID_FORMAT)
    names = [job.PG_FILE, job.REDIS_FILE] + ([job.MANIFEST] if complete else [])
    for name in names:
        storage.client.put_object(Bucket=storage.config.bucket, Key=storage.key(backup_id, name), Body=b"x")
    return backup_id


def test_retention_deletes_old_sets_but_never_the_newest(storage: job.Storage):
    now = dt.datetime(2026, 6, 30, 12, tzinfo=UTC)
    old = [_put_set(storage, now - dt.timedelta(days=d)) for d in (40, 20, 15)]
    recent = [_put_set(storage, now - dt.timedelta(days=d)) for d in (3, 1)]
    incomplete = _put_set(storage, now - dt.timedelta(hours=1), complete=False)
    assert sorted(job.prune(storage, 14, now)) == sorted(old)
    assert storage.complete_sets() == sorted(recent, reverse=True)
    assert incomplete not in storage.complete_sets()  # no manifest: never listed, never restored

    # Backups stopped for a month: the last one stays.
    later = now + dt.timedelta(days=60)
    assert job.prune(storage, 14, later) == [sorted(recent)[0]]
    assert storage.complete_sets() == [max(recent)]


def test_health_check_follows_the_last_backup(tmp_path: Path):
    config = job.Config("b", "r", "e", "p", 3600, 14, {}, tmp_path / "state")
    now = dt.datetime(2026, 6, 30, 12, tzinfo=UTC)
    assert job.check(config, now)[0] is False  # nothing running, nothing backed up
    config.state_dir.mkdir()
    (config.state_dir / "schedule-started").write_text((now - dt.timedelta(minutes=30)).isoformat())
    assert job.check(config, now)[0] is True   # waiting for the first run
    job.mark_success(config, now - dt.timedelta(hours=1, minutes=59))
    assert job.check(config, now)[0] is True
    job.mark_success(config, now - dt.timedelta(hours=2, minutes=1))
    ok, why = job.check(config, now)
    assert ok is False and "limit 7200 s" in why


class FakeDigitalOcean(BaseHTTPRequestHandler):
    """The few DigitalOcean API and metadata calls the snapshot step makes, recorded."""

    calls: list[tuple[str, str, dict | None]] = []
    snapshots: list[dict] = []

    def _reply(self, body: dict | str, status: int = 200) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.calls.append(("GET", self.path, None))
        if self.path == "/metadata/v1/id":
            self._reply("4242")
        elif self.path == "/v2/droplets/4242":
            assert self.headers["Authorization"] == "Bearer do-token"
            self._reply({"droplet": {"id": 4242, "volume_ids": ["vol-1"]}})
        elif self.path.startswith("/v2/volumes/vol-1/snapshots"):
            self._reply({"snapshots": self.snapshots})
        else:
            self._reply({"message": "not found"}, 404)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append(("POST", self.path, body))
        self.snapshots.append({"id": "new", "name": body["name"], "created_at": "2026-06-30T12:00:00Z"})
        self._reply({"snapshot": {"id": "new"}}, 201)

    def do_DELETE(self) -> None:
        self.calls.append(("DELETE", self.path, None))
        self._reply("", 204)

    def log_message(self, *args) -> None:
        pass


def test_volume_snapshot_taken_and_old_ones_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), FakeDigitalOcean)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        FakeDigitalOcean.calls = []
        FakeDigitalOcean.snapshots = [
            {"id": "s-old", "name": "devtools-auto-20260501T000000Z", "created_at": "2026-05-01T00:00:00Z"},
            {"id": "s-recent", "name": "devtools-auto-20260625T000000Z", "created_at": "2026-06-25T00:00:00Z"},
            {"id": "s-manual", "name": "before-upgrade", "created_at": "2026-01-01T00:00:00Z"},
        ]
        (tmp_path / "token").write_text("do-token")
        monkeypatch.setenv("DO_SNAPSHOT_TOKEN_FILE", str(tmp_path / "token"))
        snapshots = json.loads(render_config("backup_conf"))["snapshots"]
        assert snapshots["api_url"] == "https://api.digitalocean.com"
        snapshots.update(api_url=base, metadata_url=f"{base}/metadata/v1")
        config = job.Config("b", "r", "e", "p", 3600, 14, snapshots, tmp_path / "state")
        taken = job.snapshot(config, dt.datetime(2026, 6, 30, 12, tzinfo=UTC))
    finally:
        server.shutdown()
    assert taken == ["devtools-auto-20260630T120000Z"]
    assert ("POST", "/v2/volumes/vol-1/snapshots", {"name": taken[0], "tags": ["devtools-backup"]}) in FakeDigitalOcean.calls
    deletes = [path for method, path, _ in FakeDigitalOcean.calls if method == "DELETE"]
    assert deletes == ["/v2/snapshots/s-old"]  # not the recent one, never a snapshot it did not take


def test_restore_refuses_a_corrupted_set(storage: job.Storage, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    backup_id = _put_set(storage, dt.datetime(2026, 6, 30, tzinfo=UTC), complete=False)
    manifest = {"id": backup_id, "taken_at": "2026-06-30T00:00:00+00:00",
                "files": {job.PG_FILE: {"sha256": "0" * 64, "bytes": 1}, job.REDIS_FILE: {"sha256": "0" * 64, "bytes": 1}}}
    storage.client.put_object(Bucket=storage.config.bucket, Key=storage.key(backup_id, job.MANIFEST),
                              Body=json.dumps(manifest).encode())
    with pytest.raises(job.BackupError, match="does not match its checksum"):
        job.restore(storage.config)
    with pytest.raises(job.BackupError, match="not in the bucket"):
        job.restore(storage.config, "20200101T000000Z")


def test_the_program_refuses_to_guess_the_redis_host(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("REDIS_HOST", raising=False)
    with pytest.raises(job.BackupError, match="REDIS_HOST is not set"):
        job.redis_argv()
    monkeypatch.setenv("REDIS_HOST", "cache.internal")
    assert job.redis_argv()[2:4] == ["-h", "cache.internal"]
