"""Config files the program renders from the catalog, by the name a catalog `configs:` entry gives."""

from __future__ import annotations

from collections.abc import Callable

from components.catalog import Service
from components.redis_conf import render_redis_conf
from components.settings import Settings

Renderer = Callable[[Service, Settings], str]

RENDERERS: dict[str, Renderer] = {
    "redis_conf": render_redis_conf,
}

# --- datastores: Postgres tuning, migrations, backups -------------------------------------
from components.backup_conf import render_backup_conf, render_backup_script  # noqa: E402
from components.migrations import render_migrate_runner, render_migrations  # noqa: E402
from components.postgres_conf import render_postgres_conf  # noqa: E402

RENDERERS.update({
    "postgres_conf": render_postgres_conf,
    "migrations": render_migrations,
    "migrate_runner": render_migrate_runner,
    "backup_conf": render_backup_conf,
    "backup_script": render_backup_script,
})
