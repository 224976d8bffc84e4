"""The SQL migrations in config/migrations/, rendered into one psql script the migrate job runs.

Each file `NNNN_name.sql` is one version. The script takes an advisory lock, keeps a
`schema_migrations` table (version, name, checksum, applied_at), applies each pending
version in its own transaction together with its row, skips applied ones, and stops if an
applied file was edited afterwards (its checksum changed): a migration is never rewritten,
a new one is added. Running it again therefore changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from catalog.errors import InputError, Problem
from catalog.services import Service
from catalog.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "config" / "migrations"
RUNNER = MIGRATIONS_DIR / "migrate.sh"
FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Each migration runs inside the transaction the script opens; its own would break that.
# (A PL/pgSQL block's BEGIN ends its line; a transaction's BEGIN is followed by ; or a keyword.)
TRANSACTION_CONTROL = re.compile(
    r"^\s*(BEGIN\s*(;|TRANSACTION|WORK)|START\s+TRANSACTION|(COMMIT|ROLLBACK)\s*(;|TRANSACTION|WORK))", re.I | re.M
)
LOCK_KEY = 7402731  # pg_advisory_lock key: one migrate run at a time


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    problems: list[Problem] = []
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        label = f"config/migrations/{path.name}"
        match = FILE_NAME.match(path.name)
        if not match:
            problems.append(Problem(label, "(file name)", "is not NNNN_name.sql", "rename it like 0005_add_column.sql"))
            continue
        version = int(match.group(1))
        sql = path.read_text(encoding="utf-8")
        if version in found:
            problems.append(Problem(label, "(file name)", f"version {version} is also {found[version].name}.sql", "give it the next free number"))
        elif TRANSACTION_CONTROL.search(sql):
            problems.append(Problem(label, "(content)", "controls transactions itself", "remove BEGIN/COMMIT: each migration already runs in one transaction"))
        else:
            found[version] = Migration(version, path.stem, sql)
    if problems:
        raise InputError(problems)
    return [found[v] for v in sorted(found)]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def render_migrations_script(migrations: list[Migration]) -> str:
    out = [
        "-- Rendered by the devtools Pulumi program from config/migrations/; run with psql -v ON_ERROR_STOP=1.",
        "\\set ON_ERROR_STOP on",
        "SET client_min_messages = warning;",
        f"SELECT pg_advisory_lock({LOCK_KEY}) AS locked \\gset",
        "CREATE TABLE IF NOT EXISTS schema_migrations (",
        "    version    integer PRIMARY KEY,",
        "    name       text NOT NULL,",
        "    checksum   text NOT NULL,",
        "    applied_at timestamptz NOT NULL DEFAULT now()",
        ");",
    ]
    for m in migrations:
        out += [
            "",
            f"-- {m.name}",
            "SELECT count(*) = 0 AS pending, coalesce(bool_or(checksum <> "
            f"{_literal(m.checksum)}), false) AS changed FROM schema_migrations WHERE version = {m.version} \\gset",
            "\\if :changed",
            f"DO $migrate$ BEGIN RAISE EXCEPTION 'migration {m.name} was edited after it was applied; "
            "add a new migration instead'; END $migrate$;",
            "\\endif",
            "\\if :pending",
            f"\\echo applying {m.name}",
            "BEGIN;",
            m.sql.rstrip(),
            f"INSERT INTO schema_migrations (version, name, checksum) VALUES ({m.version}, {_literal(m.name)}, {_literal(m.checksum)});",
            "COMMIT;",
            "\\else",
            f"\\echo up to date: {m.name}",
            "\\endif",
        ]
    out += ["", f"SELECT pg_advisory_unlock({LOCK_KEY}) AS unlocked \\gset", ""]
    return "\n".join(out)


def render_migrations(service: Service, settings: Settings) -> str:
    return render_migrations_script(load_migrations())


def render_migrate_runner(service: Service, settings: Settings) -> str:
    return RUNNER.read_text(encoding="utf-8")
