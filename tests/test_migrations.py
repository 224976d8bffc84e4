"""The migrate job's runner and the rendered migrations, against a real PostgreSQL."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from catalog.errors import InputError
from render.migrations import RUNNER, load_migrations, render_migrations_script
from tests.servers import ROOT, PostgresServer, render_config

LEGACY = ROOT / "tests" / "fixtures" / "legacy_schema.sql"
SCHEMA_QUERY = """
SELECT string_agg(format('%s.%s %s %s %s', table_name, column_name, data_type, is_nullable,
                         coalesce(column_default, '-')), E'\\n' ORDER BY table_name, column_name)
FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_migrations'
"""
INDEX_QUERY = "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'"


def run_migrate(server: PostgresServer, database: str, script: Path) -> subprocess.CompletedProcess:
    """The job's own entry point (config/migrations/migrate.sh) on the rendered script."""
    env = {**server.env(database), "MIGRATIONS_FILE": str(script), "MIGRATE_CONNECT_TRIES": "3"}
    return subprocess.run(["sh", str(RUNNER)], env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("migrations") / "migrations.sql"
    path.write_text(render_config("migrate", "migrations"))  # the program's renderer, shipped catalog
    return path


def test_fresh_database_then_second_run_is_a_no_op(postgres_server: PostgresServer, script: Path):
    db = postgres_server.fresh_database("mig_fresh")
    first = run_migrate(postgres_server, db, script)
    assert first.returncode == 0, first.stderr
    versions = [m.name for m in load_migrations()]
    assert [line for line in first.stdout.splitlines() if line.startswith("applying")] == [f"applying {v}" for v in versions]
    tables = postgres_server.query("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname='public'", db)
    assert set(tables.split(",")) >= {"agent_registry", "workflow_state", "approval_requests", "checkpoints",
                                      "checkpoint_blobs", "checkpoint_writes", "checkpoint_migrations", "schema_migrations"}
    columns = postgres_server.query(
        "SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY column_name) FROM information_schema.columns "
        "WHERE table_name = 'agent_registry'", db)
    assert "capabilities:jsonb" in columns and "last_heartbeat:timestamp with time zone" in columns
    assert postgres_server.query("SELECT max(v) FROM checkpoint_migrations", db) == "9"

    before = (postgres_server.query("SELECT string_agg(version || ' ' || applied_at, ',' ORDER BY version) FROM schema_migrations", db),
              postgres_server.query(SCHEMA_QUERY, db), postgres_server.query(INDEX_QUERY, db))
    second = run_migrate(postgres_server, db, script)
    assert second.returncode == 0, second.stderr
    assert "applying" not in second.stdout
    after = (postgres_server.query("SELECT string_agg(version || ' ' || applied_at, ',' ORDER BY version) FROM schema_migrations", db),
             postgres_server.query(SCHEMA_QUERY, db), postgres_server.query(INDEX_QUERY, db))
    assert after == before


def test_upgrade_adopts_the_old_unversioned_tables(postgres_server: PostgresServer, script: Path):
    fresh = postgres_server.fresh_database("mig_reference")
    assert run_migrate(postgres_server, fresh, script).returncode == 0
    old = postgres_server.fresh_database("mig_legacy")
    postgres_server.query(LEGACY.read_text(), old)

    upgrade = run_migrate(postgres_server, old, script)
    assert upgrade.returncode == 0, upgrade.stderr
    # Same schema as a fresh database, data kept and converted.
    assert postgres_server.query(SCHEMA_QUERY, old) == postgres_server.query(SCHEMA_QUERY, fresh)
    assert postgres_server.query(INDEX_QUERY, old) == postgres_server.query(INDEX_QUERY, fresh)
    assert postgres_server.query("SELECT to_regclass('public.agents') IS NULL", old) == "t"
    assert postgres_server.query(
        "SELECT capabilities->>1 || ' ' || last_heartbeat AT TIME ZONE 'UTC' FROM agent_registry WHERE agent_id='orchestrator'", old
    ) == "delegate 2026-01-02 03:04:05"
    assert postgres_server.query("SELECT workflow_type || ' ' || version || ' ' || (state->>'pr') FROM workflow_state", old) == "unknown 1 42"
    assert postgres_server.query("SELECT count(*) FROM checkpoints", old) == "1"
    assert run_migrate(postgres_server, old, script).stdout.count("applying") == 0


def test_an_edited_migration_is_refused(postgres_server: PostgresServer, script: Path, tmp_path: Path):
    db = postgres_server.fresh_database("mig_edited")
    assert run_migrate(postgres_server, db, script).returncode == 0
    migrations = load_migrations()
    first = migrations[0]
    edited = [type(first)(first.version, first.name, first.sql + "\n-- edited\n"), *migrations[1:]]
    tampered = tmp_path / "edited.sql"
    tampered.write_text(render_migrations_script(edited))
    result = run_migrate(postgres_server, db, tampered)
    assert result.returncode != 0
    assert f"migration {first.name} was edited after it was applied" in result.stderr


def test_a_failing_migration_leaves_no_trace(postgres_server: PostgresServer, tmp_path: Path):
    db = postgres_server.fresh_database("mig_failing")
    broken = [*load_migrations()]
    broken.append(type(broken[0])(99, "0099_broken", "CREATE TABLE half_done (id int);\nSELECT no_such_function();"))
    path = tmp_path / "broken.sql"
    path.write_text(render_migrations_script(broken))
    result = run_migrate(postgres_server, db, path)
    assert result.returncode != 0 and "no_such_function" in result.stderr
    assert postgres_server.query("SELECT to_regclass('public.half_done') IS NULL", db) == "t"
    assert postgres_server.query("SELECT count(*) FROM schema_migrations WHERE version = 99", db) == "0"


def test_bad_migration_files_are_named(tmp_path: Path):
    (tmp_path / "1_short.sql").write_text("SELECT 1;")
    (tmp_path / "0002_tx.sql").write_text("BEGIN;\nSELECT 1;\nCOMMIT;")
    with pytest.raises(InputError) as caught:
        load_migrations(tmp_path)
    text = caught.value.render()
    assert "config/migrations/1_short.sql" in text and "NNNN_name.sql" in text
    assert "config/migrations/0002_tx.sql" in text and "remove BEGIN/COMMIT" in text


def test_postgres_runs_the_rendered_conf(postgres_server: PostgresServer):
    # The session server runs with the rendered postgresql.conf: its sizing is in effect.
    assert postgres_server.admin("SHOW shared_buffers") == "384MB"
    assert postgres_server.admin("SHOW max_connections") == "100"
    assert postgres_server.admin("SHOW password_encryption") == "scram-sha-256"


@pytest.mark.parametrize("limit_mb", [1536, 4096, 16384])
def test_postgres_memory_fits_its_limit(limit_mb: int):
    from render.postgres_conf import MAX_CONNECTIONS, memory_settings

    memory = memory_settings(limit_mb * 1024**2)
    # Shared memory, one maintenance job and every connection running two sort/hash nodes at once.
    worst_case = memory["shared_buffers"] + memory["wal_buffers"] + memory["maintenance_work_mem"] \
        + MAX_CONNECTIONS * 2 * memory["work_mem"]
    assert worst_case <= limit_mb
    assert memory["shared_buffers"] == limit_mb // 4
    assert memory["effective_cache_size"] < limit_mb


def test_postgres_work_mem_has_a_floor():
    from render.postgres_conf import memory_settings

    # On a small limit the per-connection share would be useless; 4 MB is Postgres's own default.
    assert memory_settings(512 * 1024**2)["work_mem"] == 4
