#!/usr/bin/env python3
"""Backups of the platform's datastores, shipped to S3-compatible storage (DigitalOcean Spaces).

The backup container runs this file as uploaded by the Pulumi program; the tests and the
recovery drill run the same file against real PostgreSQL and Redis. It needs only the
standard library, boto3, and the pg_dump / pg_restore / psql / redis-cli binaries.

  schedule   run `backup` (and a volume snapshot) every interval, forever; serves /metrics
  backup     one backup set: pg_dump (custom format) + Redis RDB + manifest.json, then prune
  snapshot   snapshot the droplet's block volumes through the DigitalOcean API, then prune
  check      exit 0 while the last backup is recent enough (the container's health check)
  list       the backup sets in the bucket, newest first
  restore    bring Postgres and Redis back from the newest (or a named) backup set

A backup set is `<prefix>/<id>/{postgres.dump,redis.rdb,manifest.json}`; the manifest is
written last, so a set without one is incomplete and never restored.

Configuration: BACKUP_CONFIG (JSON: bucket, region, endpoint, prefix, interval_seconds,
retention_days, snapshots, metrics), libpq's PGHOST/PGPORT/PGUSER/PGDATABASE, REDIS_HOST/REDIS_PORT,
REDIS_DATA_DIR (Redis's data directory, for restore) and BACKUP_STATE_DIR. Credentials are
files named by POSTGRES_PASSWORD_FILE, REDIS_PASSWORD_FILE, SPACES_ACCESS_KEY_ID_FILE,
SPACES_SECRET_ACCESS_KEY_FILE and DO_SNAPSHOT_TOKEN_FILE; they are passed to the tools
through their own environment variables, never on a command line, never printed.

While `schedule` runs, it serves Prometheus metrics on the settings' `metrics` address, port
and path (when given): the Unix time and duration of the last successful backup, read from
the state directory at each scrape, and the program's start time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PG_FILE = "postgres.dump"
REDIS_FILE = "redis.rdb"
MANIFEST = "manifest.json"
SNAPSHOT_PREFIX = "devtools-auto-"
ID_FORMAT = "%Y%m%dT%H%M%SZ"
MIN_KEEP = 1  # retention never deletes the newest complete set
# Redis's AOF directory and file names (redis.conf: appenddirname default, appendfilename).
AOF_DIR = "appendonlydir"
AOF_NAME = "appendonly.aof"


class BackupError(Exception):
    """A step failed; the message says which and why (never a secret)."""


def log(message: str) -> None:
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ} backup: {message}", flush=True)


def read_secret(env: str) -> str:
    path = os.environ.get(env)
    if not path:
        raise BackupError(f"{env} is not set (it names the secret file)")
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise BackupError(f"cannot read the secret file named by {env}: {exc.strerror}") from None


@dataclass(frozen=True)
class Config:
    bucket: str
    region: str
    endpoint: str
    prefix: str
    interval_seconds: int
    retention_days: int
    snapshots: dict
    state_dir: Path
    metrics: dict = field(default_factory=dict)  # address, port, path; empty: no metrics endpoint

    @classmethod
    def load(cls) -> Config:
        path = Path(os.environ.get("BACKUP_CONFIG", "/etc/devtools/backup.json"))
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BackupError(f"cannot read the backup settings {path}: {exc}") from None
        state = Path(os.environ.get("BACKUP_STATE_DIR", "/tmp/backup-state"))
        return cls(raw["bucket"], raw["region"], raw["endpoint"], raw.get("prefix", "devtools"),
                   int(raw["interval_seconds"]), int(raw["retention_days"]), raw.get("snapshots") or {}, state,
                   raw.get("metrics") or {})


# --- storage -------------------------------------------------------------------------------

class Storage:
    """The bucket, through boto3's S3 client (Spaces speaks the S3 API)."""

    def __init__(self, config: Config):
        import boto3  # imported here so `check` works without it

        self.config = config
        self.client = boto3.client(
            "s3",
            endpoint_url=config.endpoint,
            region_name=config.region,
            aws_access_key_id=read_secret("SPACES_ACCESS_KEY_ID_FILE"),
            aws_secret_access_key=read_secret("SPACES_SECRET_ACCESS_KEY_FILE"),
        )

    def key(self, backup_id: str, name: str) -> str:
        return f"{self.config.prefix}/{backup_id}/{name}"

    def upload(self, path: Path, key: str) -> None:
        self.client.upload_file(str(path), self.config.bucket, key)

    def download(self, key: str, path: Path) -> None:
        self.client.download_file(self.config.bucket, key, str(path))

    def complete_sets(self) -> list[str]:
        """Ids of the backup sets that have a manifest, newest first."""
        ids = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.config.bucket, Prefix=f"{self.config.prefix}/"):
            for obj in page.get("Contents", []):
                parts = obj["Key"].split("/")
                if len(parts) == 3 and parts[2] == MANIFEST:
                    ids.append(parts[1])
        return sorted(ids, reverse=True)

    def delete_set(self, backup_id: str) -> None:
        prefix = f"{self.config.prefix}/{backup_id}/"
        listed = self.client.list_objects_v2(Bucket=self.config.bucket, Prefix=prefix)
        keys = [{"Key": o["Key"]} for o in listed.get("Contents", [])]
        # The manifest goes first: a half-deleted set is then incomplete, never restorable.
        keys.sort(key=lambda k: not k["Key"].endswith(MANIFEST))
        for key in keys:
            self.client.delete_object(Bucket=self.config.bucket, Key=key["Key"])


# --- the datastores ------------------------------------------------------------------------

def _run(argv: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}): {result.stderr.strip()[-800:]}")
    return result


def pg_env() -> dict[str, str]:
    return {**os.environ, "PGPASSWORD": read_secret("POSTGRES_PASSWORD_FILE"), "PGCONNECT_TIMEOUT": "10"}


def redis_argv() -> list[str]:
    # No default host: the catalog's backup service names the Redis it backs up.
    host = os.environ.get("REDIS_HOST")
    if not host:
        raise BackupError("REDIS_HOST is not set (it names the Redis server to back up)")
    return ["redis-cli", "--no-auth-warning", "-h", host, "-p", os.environ.get("REDIS_PORT", "6379")]


def redis_env() -> dict[str, str]:
    return {**os.environ, "REDISCLI_AUTH": read_secret("REDIS_PASSWORD_FILE")}


def redis(*args: str) -> str:
    return _run([*redis_argv(), *args], redis_env(), f"redis-cli {args[0]}").stdout.strip()


def dump_postgres(target: Path) -> None:
    # Custom format: compressed, and pg_restore can --clean an existing database with it.
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"], pg_env(), "pg_dump")


def copy_redis_rdb(target: Path) -> int:
    """A point-in-time RDB of the running Redis, over the replication protocol (no shared disk)."""
    keys = int(redis("DBSIZE"))
    _run([*redis_argv(), "--rdb", str(target)], redis_env(), "redis-cli --rdb")
    return keys


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- backup ----------------------------------------------------------------------------------

def backup(config: Config, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    backup_id = now.strftime(ID_FORMAT)
    began = time.monotonic()
    storage = Storage(config)
    with tempfile.TemporaryDirectory(prefix="backup-") as tmp:
        work = Path(tmp)
        started = time.monotonic()
        dump_postgres(work / PG_FILE)
        redis_keys = copy_redis_rdb(work / REDIS_FILE)
        manifest = {
            "id": backup_id,
            "taken_at": now.isoformat(),
            "files": {name: {"sha256": sha256(work / name), "bytes": (work / name).stat().st_size}
                      for name in (PG_FILE, REDIS_FILE)},
            "redis_keys": redis_keys,
            "seconds": round(time.monotonic() - started, 3),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
        for name in (PG_FILE, REDIS_FILE, MANIFEST):  # manifest last: it marks the set complete
            storage.upload(work / name, storage.key(backup_id, name))
    log(f"backup {backup_id} shipped to {config.bucket} ({manifest['files'][PG_FILE]['bytes']} B dump, "
        f"{manifest['files'][REDIS_FILE]['bytes']} B rdb)")
    prune(storage, config.retention_days, now)
    mark_success(config, now, time.monotonic() - began)
    return backup_id


def prune(storage: Storage, retention_days: int, now: dt.datetime) -> list[str]:
    """Delete complete sets older than the retention, always keeping the newest.

    The bucket's lifecycle rule expires objects too; this keeps the count right even where
    lifecycle rules are not enforced, and never leaves the bucket empty.
    """
    cutoff = now - dt.timedelta(days=retention_days)
    sets = storage.complete_sets()
    deleted = []
    for backup_id in sets[MIN_KEEP:]:
        taken = dt.datetime.strptime(backup_id, ID_FORMAT).replace(tzinfo=dt.UTC)
        if taken < cutoff:
            storage.delete_set(backup_id)
            deleted.append(backup_id)
    if deleted:
        log(f"pruned {len(deleted)} backup set(s) older than {retention_days} days")
    return deleted


LAST_SUCCESS = "last-success"
LAST_DURATION = "last-duration-seconds"


def _replace_text(path: Path, text: str) -> None:
    """Write a file whole: a scrape or health check reading it meanwhile sees the old or the new text."""
    staged = path.with_name(path.name + ".new")
    staged.write_text(text)
    os.replace(staged, path)


def mark_success(config: Config, when: dt.datetime, seconds: float | None = None) -> None:
    config.state_dir.mkdir(parents=True, exist_ok=True)
    if seconds is not None:  # written first: a scrape between the two never pairs a new time with an old duration
        _replace_text(config.state_dir / LAST_DURATION, f"{seconds:.3f}")
    _replace_text(config.state_dir / LAST_SUCCESS, when.isoformat())


def last_success(config: Config) -> dt.datetime | None:
    marker = config.state_dir / LAST_SUCCESS
    return dt.datetime.fromisoformat(marker.read_text().strip()) if marker.exists() else None


def check(config: Config, now: dt.datetime | None = None) -> tuple[bool, str]:
    """Healthy while the last backup is younger than two intervals (one missed run is tolerated),
    or, before the first backup, while the schedule started less than one interval ago."""
    now = now or dt.datetime.now(dt.UTC)
    limit = dt.timedelta(seconds=2 * config.interval_seconds)
    last = last_success(config)
    if last is not None:
        age = now - last
        return age <= limit, f"last backup {int(age.total_seconds())} s ago (limit {int(limit.total_seconds())} s)"
    started = config.state_dir / "schedule-started"
    if started.exists():
        age = now - dt.datetime.fromisoformat(started.read_text().strip())
        return age <= dt.timedelta(seconds=config.interval_seconds + 600), f"no backup yet; schedule started {int(age.total_seconds())} s ago"
    return False, "no backup yet and the schedule is not running"


def schedule(config: Config) -> None:
    """Backups every interval. The first waits one interval: a fresh droplet must not ship its
    empty datastores as the newest backup before the operator restored the real one."""
    config.state_dir.mkdir(parents=True, exist_ok=True)
    (config.state_dir / "schedule-started").write_text(dt.datetime.now(dt.UTC).isoformat())
    serve_metrics(config, time.time())
    log(f"first backup in {config.interval_seconds} s, then every {config.interval_seconds} s")
    while True:
        time.sleep(config.interval_seconds)
        try:
            backup(config)
        except Exception as exc:  # keep the schedule alive; the health check turns red
            log(f"backup failed: {exc}")
        if config.snapshots.get("api_url"):
            try:
                snapshot(config)
            except Exception as exc:
                log(f"volume snapshot failed: {exc}")


# --- metrics ---------------------------------------------------------------------------------

def metrics_text(config: Config, started: float) -> str:
    """The Prometheus text format. The last-success gauge is absent until a backup succeeded here;
    BackupNotRun then goes by the start time, so a backup that never succeeds still alerts."""
    def gauge(name: str, help_text: str, value: float) -> list[str]:
        return [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:.3f}"]

    lines = gauge("process_start_time_seconds", "Unix time the backup program started.", started)
    last = last_success(config)
    if last is not None:
        lines += gauge("devtools_backup_last_success_timestamp_seconds",
                       "Unix time of the last successful backup.", last.timestamp())
    duration = config.state_dir / LAST_DURATION
    if last is not None and duration.exists():
        lines += gauge("devtools_backup_last_duration_seconds",
                       "Seconds the last successful backup took.", float(duration.read_text()))
    return "\n".join(lines) + "\n"


def serve_metrics(config: Config, started: float) -> ThreadingHTTPServer | None:
    """Serve metrics_text on the settings' metrics address, port and path, from a daemon thread."""
    if not config.metrics:
        return None
    path = config.metrics.get("path", "/metrics")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != path:
                self.send_error(404)
                return
            body = metrics_text(config, started).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # a line per scrape would bury the backup log

    address, port = config.metrics.get("address", "0.0.0.0"), int(config.metrics["port"])
    try:
        server = ThreadingHTTPServer((address, port), Handler)
    except OSError as exc:
        raise BackupError(f"cannot serve metrics on {address}:{port}: {exc.strerror}") from None
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log(f"metrics on {server.server_address[0]}:{server.server_address[1]}{path}")
    return server


# --- volume snapshots ------------------------------------------------------------------------

def _api(url: str, token: str | None, method: str = "GET", body: dict | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return json.loads(text) if text.strip() else {}


def snapshot(config: Config, now: dt.datetime | None = None) -> list[str]:
    """Snapshot every block volume attached to this droplet; delete our own snapshots past retention.

    DigitalOcean's droplet backups do not cover attached volumes, and volumes have no
    snapshot schedule of their own, so the job takes them. A snapshot of a live volume is
    crash-consistent: Postgres replays its WAL and Redis its AOF on start, as after a power cut.
    """
    now = now or dt.datetime.now(dt.UTC)
    api, metadata = config.snapshots["api_url"].rstrip("/"), config.snapshots["metadata_url"].rstrip("/")
    token = read_secret("DO_SNAPSHOT_TOKEN_FILE")
    with urllib.request.urlopen(f"{metadata}/id", timeout=10) as response:
        droplet_id = response.read().decode().strip()
    volume_ids = _api(f"{api}/v2/droplets/{droplet_id}", token)["droplet"]["volume_ids"]
    retention = dt.timedelta(days=int(config.snapshots.get("retention_days", config.retention_days)))
    taken = []
    for volume_id in volume_ids:
        name = f"{SNAPSHOT_PREFIX}{now.strftime(ID_FORMAT)}"
        _api(f"{api}/v2/volumes/{volume_id}/snapshots", token, "POST", {"name": name, "tags": ["devtools-backup"]})
        taken.append(name)
        listed = _api(f"{api}/v2/volumes/{volume_id}/snapshots?per_page=200", token)["snapshots"]
        ours = sorted((s for s in listed if s["name"].startswith(SNAPSHOT_PREFIX)), key=lambda s: s["created_at"])
        for old in ours[:-1]:  # never the newest
            created = dt.datetime.fromisoformat(old["created_at"].replace("Z", "+00:00"))
            if now - created > retention:
                _api(f"{api}/v2/snapshots/{old['id']}", token, "DELETE")
                log(f"deleted volume snapshot {old['name']}")
    log(f"volume snapshots taken: {', '.join(taken) or 'none (no volume attached)'}")
    return taken


# --- restore ---------------------------------------------------------------------------------

def restore(config: Config, backup_id: str | None = None, redis_timeout: float = 120.0) -> dict:
    """Fetch a complete set, check its checksums, then restore Postgres and Redis from it."""
    storage = Storage(config)
    sets = storage.complete_sets()
    if not sets:
        raise BackupError(f"no complete backup set under {config.bucket}/{config.prefix}/")
    backup_id = backup_id or sets[0]
    if backup_id not in sets:
        raise BackupError(f"backup set {backup_id} is not in the bucket (or has no manifest); newest is {sets[0]}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="restore-") as tmp:
        work = Path(tmp)
        storage.download(storage.key(backup_id, MANIFEST), work / MANIFEST)
        manifest = json.loads((work / MANIFEST).read_text())
        for name, meta in manifest["files"].items():
            storage.download(storage.key(backup_id, name), work / name)
            if sha256(work / name) != meta["sha256"]:
                raise BackupError(f"{name} of backup {backup_id} does not match its checksum; try an older set")
        restore_postgres(work / PG_FILE)
        restore_redis(work / REDIS_FILE, redis_timeout)
    seconds = round(time.monotonic() - started, 3)
    log(f"restored backup {backup_id} (taken {manifest['taken_at']}) in {seconds} s")
    return {"id": backup_id, "taken_at": manifest["taken_at"], "seconds": seconds}


def restore_postgres(dump: Path) -> None:
    # One transaction: a restore that fails half-way leaves the database as it was.
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
          "--exit-on-error", f"--dbname={os.environ.get('PGDATABASE', 'devtools')}", str(dump)],
         pg_env(), "pg_restore")


def restore_redis(rdb: Path, timeout: float) -> None:
    """Make the RDB Redis's AOF base and restart Redis on it.

    Redis cannot load an RDB over the network. With appendonly on, Redis 7 loads only its AOF
    (a directory of a manifest, an RDB-format base and incremental files) and ignores dump.rdb,
    so the RDB becomes the base of a new AOF directory. First Redis stops writing files (no
    RDB saves, AOF off) so nothing overwrites them; then the directory is swapped in and
    Redis is shut down without saving. The container's restart policy starts it again on it.
    """
    data_dir = Path(os.environ.get("REDIS_DATA_DIR", "/restore/redis-data"))
    if not data_dir.is_dir():
        raise BackupError(f"Redis's data directory {data_dir} is not mounted here")
    redis("CONFIG", "SET", "save", "")
    redis("CONFIG", "SET", "appendonly", "no")
    staged = data_dir / f"{AOF_DIR}.restoring"
    if staged.exists():
        shutil.rmtree(staged)
    staged.mkdir()
    base = f"{AOF_NAME}.1.base.rdb"
    shutil.copyfile(rdb, staged / base)
    (staged / f"{AOF_NAME}.manifest").write_text(f"file {base} seq 1 type b\n")
    shutil.copyfile(rdb, data_dir / "dump.rdb.restoring")
    for path in (staged, staged / base, staged / f"{AOF_NAME}.manifest", data_dir / "dump.rdb.restoring"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    if (data_dir / AOF_DIR).exists():
        shutil.rmtree(data_dir / AOF_DIR)
    os.replace(staged, data_dir / AOF_DIR)
    os.replace(data_dir / "dump.rdb.restoring", data_dir / "dump.rdb")
    subprocess.run([*redis_argv(), "SHUTDOWN", "NOSAVE"], env=redis_env(), capture_output=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = subprocess.run([*redis_argv(), "PING"], env=redis_env(), capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == "PONG":
            return
        time.sleep(0.2)
    raise BackupError(f"Redis did not come back within {timeout:g} s after the restart; check its container")


# --- command line ----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="datastore_backup.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("schedule", "backup", "snapshot", "check", "list"):
        sub.add_parser(name)
    restore_cmd = sub.add_parser("restore")
    restore_cmd.add_argument("--backup", help="backup set id (default: the newest complete one)")
    restore_cmd.add_argument("--redis-timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    try:
        config = Config.load()
        if args.command == "schedule":
            schedule(config)
        elif args.command == "backup":
            print(backup(config))
        elif args.command == "snapshot":
            snapshot(config)
        elif args.command == "check":
            ok, why = check(config)
            print(why)
            return 0 if ok else 1
        elif args.command == "list":
            print("\n".join(Storage(config).complete_sets()))
        elif args.command == "restore":
            print(json.dumps(restore(config, args.backup, args.redis_timeout)))
    except BackupError as exc:
        log(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
