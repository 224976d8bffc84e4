"""The migrate job's runner and the rendered migrations, against a real PostgreSQL."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from catalog.errors import InputError
from ops.contract import load_contract
from ops.local_servers import PostgresServer, render_config
from render.migrations import RUNNER, load_migrations, render_migrations_script
from tests.conftest import ROOT

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
    path.write_text(render_config("migrations"))  # the program's renderer, shipped catalog
    return path


# The tables each service's code uses come from the platform contract (config/platform-contract.yaml,
# each with its source path at b7cfbe3). Here, per table: the columns its statements name and the
# column its upsert / lookup needs unique, read from the same source files.
COLUMNS: dict[str, tuple[tuple[str, ...], str]] = {
    # shared/services/agent-registry/main.py (register, list, heartbeat, health)
    "agent_registry": (("agent_id", "agent_name", "base_url", "status", "capabilities", "metadata",
                        "last_heartbeat", "created_at", "updated_at"), "agent_id"),
    # shared/lib/hitl_manager.py (create, status, approve, reject, list pending, expire)
    "approval_requests": (("id", "workflow_id", "thread_id", "checkpoint_id", "task_type", "task_description",
                           "agent_name", "risk_level", "risk_score", "risk_factors", "action_type", "action_details",
                           "action_impact", "status", "approver_id", "approver_role", "approved_at", "rejected_at",
                           "rejection_reason", "approval_justification", "expires_at", "created_at", "updated_at"), "id"),
    # shared/lib/session_manager.py (create, add message, history, cleanup)
    "chat_sessions": (("session_id", "user_id", "created_at", "updated_at", "metadata"), "session_id"),
    "chat_messages": (("message_id", "session_id", "role", "content", "created_at", "metadata"), "message_id"),
    # shared/services/state/main.py (tasks, logs, workflows and compliance endpoints)
    "tasks": (("id", "task_id", "type", "status", "assigned_agent", "payload", "result", "created_at", "updated_at"),
              "task_id"),
    "agent_logs": (("id", "task_id", "agent", "log_level", "message", "metadata", "timestamp"), "id"),
    "workflows": (("id", "workflow_id", "name", "steps", "status", "created_at", "completed_at"), "workflow_id"),
    "compliance_runs": (("id", "run_id", "agent", "task_id", "status", "summary", "checks", "metadata",
                         "started_at", "completed_at", "created_at"), "run_id"),
}
# Created by the service itself, not by the migrations: LangGraph's PostgresSaver.setup()
# (shared/services/langgraph/checkpointer.py), for the library version its image installed.
SELF_CREATED = {"checkpoints"}


def contract_tables() -> list[tuple[str, str, str]]:
    """(service, table, source path) for every table the contract says a service's code uses."""
    return [(service, table["name"], table["source"])
            for service, needs in load_contract()["services"].items() for table in needs.get("tables", [])]


COLUMNS_QUERY = """
SELECT coalesce(string_agg(c.column_name || ' ' || c.data_type, ',' ORDER BY c.column_name), '')
FROM information_schema.columns c WHERE c.table_schema = 'public' AND c.table_name = '{table}'
"""
UNIQUE_QUERY = """
SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE i.indrelid = 'public.{table}'::regclass AND i.indisunique AND i.indnatts = 1 AND a.attname = '{column}'
"""


def missing_from_schema(server: PostgresServer, database: str) -> list[str]:
    """What a service's code needs that the database lacks, each with the source file that needs it."""
    missing = []
    for service, table, source in contract_tables():
        if table in SELF_CREATED:
            continue
        columns, unique = COLUMNS[table]
        where = f"{service} ({source}): table {table}"
        found = dict(item.split(" ", 1) for item in
                     server.query(COLUMNS_QUERY.format(table=table), database).split(",") if item)
        if not found:
            missing.append(f"{where} does not exist")
            continue
        missing += [f"{where} lacks column {column}" for column in columns if column not in found]
        # The code writes and compares naive UTC datetimes; a timestamptz column returns aware ones.
        missing += [f"{where}.{column} is {kind}, the code needs timestamp without time zone"
                    for column, kind in found.items() if kind == "timestamp with time zone"]
        if server.query(UNIQUE_QUERY.format(table=table, column=unique), database) == "0":
            missing.append(f"{where} has no unique index on {unique} (its upsert / lookup key)")
    return missing


def test_every_table_of_the_contract_has_its_columns_here():
    tables = {table for _, table, _ in contract_tables()}
    assert {"agent_registry", "tasks", "chat_sessions", "approval_requests"} <= tables
    assert tables - SELF_CREATED == set(COLUMNS)


def test_fresh_database_has_every_table_the_services_query_then_second_run_is_a_no_op(
        postgres_server: PostgresServer, script: Path):
    db = postgres_server.fresh_database("mig_fresh")
    assert missing_from_schema(postgres_server, db)  # the check sees an empty database for what it is
    first = run_migrate(postgres_server, db, script)
    assert first.returncode == 0, first.stderr
    versions = [m.name for m in load_migrations()]
    assert [line for line in first.stdout.splitlines() if line.startswith("applying")] == [f"applying {v}" for v in versions]
    assert missing_from_schema(postgres_server, db) == []

    before = (postgres_server.query("SELECT string_agg(version || ' ' || applied_at, ',' ORDER BY version) FROM schema_migrations", db),
              postgres_server.query(SCHEMA_QUERY, db), postgres_server.query(INDEX_QUERY, db))
    second = run_migrate(postgres_server, db, script)
    assert second.returncode == 0, second.stderr
    assert "applying" not in second.stdout
    after = (postgres_server.query("SELECT string_agg(version || ' ' || applied_at, ',' ORDER BY version) FROM schema_migrations", db),
             postgres_server.query(SCHEMA_QUERY, db), postgres_server.query(INDEX_QUERY, db))
    assert after == before


def test_the_services_statements_run_on_the_migrated_schema(postgres_server: PostgresServer, script: Path):
    """Upserts and inserts in the shape the services send them: conflict targets, defaults, cascades."""
    db = postgres_server.fresh_database("mig_statements")
    assert run_migrate(postgres_server, db, script).returncode == 0
    q = lambda sql: postgres_server.query(sql, db)  # noqa: E731
    for _ in range(2):  # registration is an upsert on agent_id
        q("INSERT INTO agent_registry (agent_id, agent_name, base_url, status, capabilities, metadata, last_heartbeat,"
          " created_at, updated_at) VALUES ('a', 'A', 'http://a:1', 'active', '[]'::jsonb, '{}'::jsonb, now(), now(), now())"
          " ON CONFLICT (agent_id) DO UPDATE SET last_heartbeat = EXCLUDED.last_heartbeat")
    assert q("SELECT count(*) FROM agent_registry") == "1"
    assert q("INSERT INTO tasks (task_id, type, status, assigned_agent, payload, updated_at) VALUES"
             " ('t1', 'review', 'pending', NULL, '{}', CURRENT_TIMESTAMP) RETURNING id") == "1"
    q("INSERT INTO agent_logs (task_id, agent, log_level, message, metadata) VALUES ('t1', 'cr', 'INFO', 'm', NULL)")
    q("INSERT INTO chat_sessions (session_id, user_id, created_at, updated_at, metadata) VALUES"
      " ('s1', NULL, now(), now(), '{}'::jsonb) ON CONFLICT (session_id) DO NOTHING")
    q("INSERT INTO chat_messages (message_id, session_id, role, content, created_at, metadata) VALUES"
      " ('m1', 's1', 'user', 'hi', now(), '{}'::jsonb)")
    q("DELETE FROM chat_sessions WHERE session_id = 's1'")
    assert q("SELECT count(*) FROM chat_messages") == "0"
    q("INSERT INTO approval_requests (id, workflow_id, thread_id, checkpoint_id, task_type, task_description, agent_name,"
      " risk_level, risk_score, risk_factors, action_type, action_details, action_impact, status, expires_at, created_at)"
      " VALUES (gen_random_uuid(), 'w', 't', 'c', 'deploy', '', 'orchestrator', 'high', 7.5, '[]', 'deploy', '{}', '',"
      " 'pending', now() + interval '30 minutes', now())")
    assert q("SELECT count(*) FROM approval_requests WHERE status = 'pending' AND expires_at > now()") == "1"


def test_upgrade_adopts_the_tables_the_old_deployment_created(postgres_server: PostgresServer, script: Path):
    old = postgres_server.fresh_database("mig_legacy")
    postgres_server.query(LEGACY.read_text(), old)

    upgrade = run_migrate(postgres_server, old, script)
    assert upgrade.returncode == 0, upgrade.stderr
    assert missing_from_schema(postgres_server, old) == []
    # The rows the services wrote before are kept.
    assert postgres_server.query("SELECT capabilities->0->>'name' || ' ' || last_heartbeat FROM agent_registry", old) \
        == "plan 2026-01-02 03:04:05"
    assert postgres_server.query("SELECT t.payload->>'pr' || ' ' || l.message FROM tasks t JOIN agent_logs l USING (task_id)",
                                 old) == "42 reviewed"
    assert postgres_server.query("SELECT user_id FROM chat_sessions", old) == "alice"
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
    (tmp_path / "0003_pg16.sql").write_text("-- JSON_OBJECT( in a comment is fine\nSELECT JSON_OBJECT('a': 1), 1_000;")
    (tmp_path / "0004_portable.sql").write_text("SELECT jsonb_build_object('a', 1000), 'x_1';")
    with pytest.raises(InputError) as caught:
        load_migrations(tmp_path)
    text = caught.value.render()
    assert "config/migrations/1_short.sql" in text and "NNNN_name.sql" in text
    assert "config/migrations/0002_tx.sql" in text and "remove BEGIN/COMMIT" in text
    assert "config/migrations/0003_pg16.sql" in text and "use jsonb_build_array / jsonb_build_object" in text
    assert "write plain decimal numbers" in text and text.count("0003_pg16.sql") == 2
    assert "0004_portable" not in text



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
