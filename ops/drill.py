"""`python -m ops drill`: back up, destroy, restore, compare, against real PostgreSQL and Redis.

    python -m ops drill                      start its own servers, run, print the figures
    python -m ops drill --write docs/DR.md   ... and put them between the drill markers of that file

It plays a droplet's life: the platform's schema (the migrate job's runner), the catalog's
agents in the registry, and writers streaming rows into Postgres and events into Redis. While
they write, the backup program (images/backup/datastore_backup.py, the file the backup image
runs) ships a backup set to an S3-compatible server standing in for Spaces (moto, on 127.0.0.1).
Then the disaster: the database is dropped, Redis is killed and its data directory deleted.
A fresh droplet comes up (empty Redis, migrations applied to an empty database) and the same
program restores the newest set; a small supervisor restarts Redis when it exits, as Docker's
restart policy does. The restored state is compared with what was there, and the figures are
printed (and written where `--write` says).

It runs the local servers of ops/local_servers.py (Debian's PostgreSQL and redis-server, moto),
so it needs what `scripts/setup-system` and `scripts/setup --dev` install; boto3 and moto are
imported when the drill runs, so the other commands never need them.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from catalog.model import PROGRAM_DIR
from ops.local_servers import (
    NotInstalled,
    PostgresServer,
    RedisServer,
    render_config,
    running_postgres,
    running_redis,
    running_s3,
    shipped_catalog_and_settings,
)
from ops.resp import Resp
from render.backup_conf import BACKUP_SCRIPT as BACKUP_PROGRAM

MIGRATE_RUNNER = PROGRAM_DIR / "config" / "migrations" / "migrate.sh"
BEGIN_MARK = "<!-- drill:begin -->"
END_MARK = "<!-- drill:end -->"
DATABASE = "drill"
BUCKET = "drill-backups"
S3_REGION = "us-east-1"


@dataclass
class DrillResult:
    backup_seconds: float
    restore_seconds: float
    loss_window_postgres_seconds: float
    loss_window_redis_seconds: float
    rows_before_backup: int
    rows_restored: int
    events_before_backup: int
    events_restored: int
    mismatches: list[str] = field(default_factory=list)

    @property
    def loss_window_seconds(self) -> float:
        return max(self.loss_window_postgres_seconds, self.loss_window_redis_seconds)


class Writers:
    """Stream workflow rows into Postgres and events into Redis, each stamped with its commit time."""

    def __init__(self, pg: PostgresServer, redis: RedisServer):
        self.pg, self.redis = pg, redis
        self.stop = threading.Event()
        self.rows: list[tuple[int, float]] = []    # (n, time acknowledged)
        self.events: list[tuple[int, float]] = []
        self.threads = [threading.Thread(target=self._postgres), threading.Thread(target=self._redis)]

    def __enter__(self) -> Writers:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)

    def _postgres(self) -> None:
        env = {**self.pg.env(DATABASE), "PGPASSWORD": self.pg.password_file.read_text().strip()}
        psql = subprocess.Popen(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=env)
        n = 0
        try:
            while not self.stop.is_set():
                # Each statement commits on its own; the echo after it is the acknowledgement.
                psql.stdin.write(
                    f"INSERT INTO tasks (task_id, type, status, payload) VALUES "
                    f"('drill-{n}', 'drill', 'done', jsonb_build_object('n', {n}, 'at', extract(epoch FROM clock_timestamp())));\n"
                    f"SELECT {n};\n")
                psql.stdin.flush()
                assert psql.stdout.readline().strip() == str(n)
                self.rows.append((n, time.time()))
                n += 1
                time.sleep(0.002)
        finally:
            psql.stdin.close()
            psql.wait(10)

    def _redis(self) -> None:
        client = Resp(self.redis.port, self.redis.password)
        n = 0
        while not self.stop.is_set():
            client.call("SET", f"drill:event:{n}", repr(time.time()))
            self.events.append((n, time.time()))
            n += 1
            time.sleep(0.001)
        client.close()


class RestartPolicy:
    """Start Redis again whenever it exits, like the container's `unless-stopped`."""

    def __init__(self, server: RedisServer):
        self.server = server
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> RestartPolicy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join(10)

    def _watch(self) -> None:
        while not self.done.is_set():
            process = self.server.process
            if process is not None and process.poll() is not None:
                self.server.start()
            time.sleep(0.05)


def backup_env(pg: PostgresServer, redis: RedisServer, base: Path, endpoint: str) -> dict[str, str]:
    """The backup container's environment, with this drill's servers, files and S3 endpoint."""
    config = json.loads(render_config("backup_conf"))  # the program's own rendering
    # Spaces -> the local S3 stand-in, which knows AWS's region names only.
    config.update(endpoint=endpoint, bucket=BUCKET, region=S3_REGION)
    (base / "backup.json").write_text(json.dumps(config))
    for name, value in (("spaces_key", "drill-key-id"), ("spaces_secret", "drill-secret"), ("redis_auth", redis.password)):
        (base / name).write_text(value)
    return {
        **pg.env(DATABASE),
        "BACKUP_CONFIG": str(base / "backup.json"),
        "BACKUP_STATE_DIR": str(base / "state"),
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(redis.port),
        "REDIS_PASSWORD_FILE": str(base / "redis_auth"),
        "REDIS_DATA_DIR": str(base / "data"),
        "SPACES_ACCESS_KEY_ID_FILE": str(base / "spaces_key"),
        "SPACES_SECRET_ACCESS_KEY_FILE": str(base / "spaces_secret"),
    }


def run_program(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(BACKUP_PROGRAM), *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"datastore_backup.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def migrate(pg: PostgresServer, base: Path) -> None:
    script = base / "migrations.sql"
    script.write_text(render_config("migrations"))
    subprocess.run(["sh", str(MIGRATE_RUNNER)], check=True, capture_output=True,
                   env={**pg.env(DATABASE), "MIGRATIONS_FILE": str(script)})


def register_agents(pg: PostgresServer) -> list[str]:
    catalog, _ = shipped_catalog_and_settings()
    agents = [name for name, svc in catalog.services.items() if svc.role == "agent"]
    values = ", ".join(
        f"('{name}', '{name}', 'http://{name}:{catalog.services[name].port}', 'active', '[\"{name}\"]')" for name in agents
    )
    pg.query(f"INSERT INTO agent_registry (agent_id, agent_name, base_url, status, capabilities) VALUES {values}", DATABASE)
    return agents


STATIC_QUERY = (
    "SELECT md5(string_agg(t, '|' ORDER BY t)) FROM ("
    " SELECT row(agent_id, agent_name, base_url, status, capabilities, metadata, created_at)::text AS t FROM agent_registry"
    " UNION ALL SELECT row(version, name, checksum, applied_at)::text FROM schema_migrations) s"
)


def redis_events(redis: RedisServer) -> dict[int, float]:
    client = Resp(redis.port, redis.password)
    keys = client.call("KEYS", "drill:event:*")
    values = client.call("MGET", *keys) if keys else []
    client.close()
    return {int(k.rsplit(":", 1)[1]): float(v) for k, v in zip(keys, values, strict=True)}


def run_drill(pg: PostgresServer, endpoint: str, base: Path, settle: float = 1.0,
              log: Callable[[str], None] = print) -> DrillResult:
    import boto3

    pg.fresh_database(DATABASE)
    redis_dir = base / "redis-server"
    with running_redis(redis_dir) as redis:
        env = backup_env(pg, redis, redis_dir, endpoint)
        boto3.client("s3", endpoint_url=endpoint, region_name=S3_REGION, aws_access_key_id="drill-key-id",
                     aws_secret_access_key="drill-secret").create_bucket(Bucket=BUCKET)
        migrate(pg, base)
        agents = register_agents(pg)
        static_before = pg.query(STATIC_QUERY, DATABASE)
        log(f"drill: {len(agents)} agents registered, writers starting")

        with Writers(pg, redis) as writers:
            time.sleep(settle)
            rows_before = len(writers.rows)
            events_before = len(writers.events)
            started = time.monotonic()
            run_program(env, "backup")
            backup_seconds = time.monotonic() - started
            time.sleep(settle)
        disaster_at = time.time()

        # The disaster: the database is gone, Redis dies and its disk with it.
        pg.admin(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
        redis.kill()
        shutil.rmtree(redis_dir / "data")
        log("drill: database dropped, Redis killed and its data deleted")

        # A fresh droplet: empty datastores, the migrate job has run; then the restore.
        (redis_dir / "data").mkdir()
        redis.start()
        pg.fresh_database(DATABASE)
        migrate(pg, base)
        started = time.monotonic()
        with RestartPolicy(redis):
            run_program(env, "restore", "--redis-timeout", "60")
        restore_seconds = time.monotonic() - started

        mismatches = []
        if pg.query(STATIC_QUERY, DATABASE) != static_before:
            mismatches.append("agent registry or migration history differ after restore")
        restored_rows = [int(x) for x in pg.query(
            "SELECT string_agg(substr(task_id, 7), ',') FROM tasks WHERE type = 'drill'", DATABASE
        ).split(",") if x]
        if sorted(restored_rows) != list(range(len(restored_rows))):
            mismatches.append("restored workflow rows have gaps")
        if len(restored_rows) < rows_before:
            mismatches.append(f"rows written before the backup are missing: {len(restored_rows)} < {rows_before}")
        events = redis_events(redis)
        if sorted(events) != list(range(len(events))):
            mismatches.append("restored Redis events have gaps")
        if len(events) < events_before:
            mismatches.append(f"events written before the backup are missing: {len(events)} < {events_before}")
        newest_row = float(pg.query(
            "SELECT coalesce(max((payload->>'at')::float8), 0) FROM tasks WHERE type = 'drill'", DATABASE))
        newest_event = max(events.values(), default=0.0)
        return DrillResult(
            backup_seconds=round(backup_seconds, 3),
            restore_seconds=round(restore_seconds, 3),
            loss_window_postgres_seconds=round(disaster_at - newest_row, 3),
            loss_window_redis_seconds=round(disaster_at - newest_event, 3),
            rows_before_backup=rows_before,
            rows_restored=len(restored_rows),
            events_before_backup=events_before,
            events_restored=len(events),
            mismatches=mismatches,
        )


def render_figures(result: DrillResult, when: dt.datetime) -> str:
    rows = [
        ("restore time (download, verify, pg_restore, Redis restart on the RDB)", f"{result.restore_seconds:.2f} s"),
        ("backup time (pg_dump + RDB copy + upload)", f"{result.backup_seconds:.2f} s"),
        ("data-loss window: disaster minus newest restored Postgres write", f"{result.loss_window_postgres_seconds:.2f} s"),
        ("data-loss window: disaster minus newest restored Redis write", f"{result.loss_window_redis_seconds:.2f} s"),
        ("Postgres rows written before the backup / restored", f"{result.rows_before_backup} / {result.rows_restored}"),
        ("Redis events written before the backup / restored", f"{result.events_before_backup} / {result.events_restored}"),
        ("restored state matches", "yes" if not result.mismatches else "NO: " + "; ".join(result.mismatches)),
    ]
    lines = [
        BEGIN_MARK,
        f"Last drill: {when:%Y-%m-%d %H:%M} UTC, `python -m ops drill --write docs/DR.md`.",
        "",
        "| measured | value |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
        "```json",
        figures_json(result),
        "```",
        END_MARK,
    ]
    return "\n".join(lines)


def figures_json(result: DrillResult) -> str:
    return json.dumps({**asdict(result), "loss_window_seconds": result.loss_window_seconds}, indent=2)


def marker_problem(doc: Path) -> str | None:
    """Why the figures cannot go into `doc`, or None: checked before the drill starts."""
    try:
        text = doc.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"{doc}: cannot be read ({exc.__class__.__name__}); name an existing Markdown file, e.g. --write docs/DR.md"
    if BEGIN_MARK not in text or END_MARK not in text.partition(BEGIN_MARK)[2]:
        return f"{doc}: lacks the {BEGIN_MARK} ... {END_MARK} markers; add them where the figures go"
    return None


def write_figures(result: DrillResult, doc: Path, when: dt.datetime | None = None) -> None:
    """Replace what is between the markers in `doc` with this drill's figures."""
    text = doc.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN_MARK)
    _, _, tail = rest.partition(END_MARK)
    doc.write_text(head + render_figures(result, when or dt.datetime.now(dt.UTC)) + tail, encoding="utf-8")


def add_arguments(parser) -> None:
    parser.add_argument("--write", metavar="FILE", type=Path,
                        help="also put the figures between the drill markers of FILE (e.g. docs/DR.md)")


def run(args) -> int:
    if args.write is not None and (problem := marker_problem(args.write)):
        print(problem, file=sys.stderr)
        return 2
    try:
        import boto3  # noqa: F401  (the drill's S3 client)
        import moto.server  # noqa: F401  (its S3 stand-in)
    except ImportError as exc:
        print(f"the drill needs the development install ({exc.name} is missing): run scripts/setup-system and "
              "scripts/setup --dev", file=sys.stderr)
        return 2
    base = Path(tempfile.mkdtemp(prefix="devtools-drill-"))
    try:
        with running_postgres() as pg, running_s3() as endpoint:
            result = run_drill(pg, endpoint, base)
    except NotInstalled as missing:
        print(f"the drill needs the development install: {missing}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(figures_json(result))
    if args.write is not None:
        write_figures(result, args.write)
        print(f"figures written to {args.write}")
    return 0 if not result.mismatches else 1
