"""The SQL migrations in config/migrations/, rendered into one psql script the migrate job runs.

Each file `NNNN_name.sql` is one version. The script takes an advisory lock, keeps a
`schema_migrations` table (version, name, checksum, applied_at), applies each pending
version in its own transaction together with its row, skips applied ones, and stops if an
applied file was edited afterwards (its checksum changed): a migration is never rewritten,
a new one is added. Running it again therefore changes nothing.

The platform runs PostgreSQL 16; the tests run Debian's 15. A migration may therefore use only
what both accept and treat alike: `PG16_ONLY` names the constructs 16 added (or changed), and a
file using one is refused before anything is rendered.
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
# What PostgreSQL 16 accepts or treats differently from 15 (release notes of 16), with the 15-and-16 way.
PG16_ONLY = (
    (re.compile(r"\bJSON_(ARRAY|OBJECT|ARRAYAGG|OBJECTAGG)\s*\(", re.I), "SQL/JSON constructors",
     "use jsonb_build_array / jsonb_build_object / jsonb_agg / jsonb_object_agg"),
    (re.compile(r"\bIS\s+(NOT\s+)?JSON\b", re.I), "the IS JSON predicate", "test the value with a cast to jsonb"),
    (re.compile(r"\bANY_VALUE\s*\(", re.I), "ANY_VALUE()", "use min() or max(), or group by the column"),
    (re.compile(r"\bpg_input_is_valid\s*\(", re.I), "pg_input_is_valid()", "cast inside a PL/pgSQL block that catches the error"),
    (re.compile(r"\bSYSTEM_USER\b", re.I), "SYSTEM_USER", "use session_user"),
    (re.compile(r"(?<![\w.'])0[xob][0-9a-f_]+\b|(?<![\w.'])\d+_\d", re.I), "non-decimal or underscored number literals",
     "write plain decimal numbers"),
    (re.compile(r"\bWITH\s+(INHERIT|SET)\s+(TRUE|FALSE|OPTION)\b|\bGRANTED\s+BY\b", re.I),
     "role membership options (GRANT ... WITH INHERIT/SET), whose semantics 16 changed",
     "leave roles to the postgres image and grant privileges on objects only"),
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
        elif version_specific := pg16_only_constructs(sql):
            problems.extend(Problem(label, "(content)", f"uses {what}, which PostgreSQL 15 and 16 treat differently", fix)
                            for what, fix in version_specific)
        else:
            found[version] = Migration(version, path.stem, sql)
    if problems:
        raise InputError(problems)
    return [found[v] for v in sorted(found)]


def _without_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def pg16_only_constructs(sql: str) -> list[tuple[str, str]]:
    """(what, fix) for each construct of `PG16_ONLY` the SQL uses (comments aside)."""
    code = _without_comments(sql)
    return [(what, fix) for pattern, what, fix in PG16_ONLY if pattern.search(code)]


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
