"""postgresql.conf for the platform's Postgres, sized from the container's memory limit in the catalog.

The container runs `postgres -c config_file=<this file>`; the data directory stays
PGDATA on the persistent volume, and pg_hba.conf stays the one the image's entrypoint
writes there (password auth, scram-sha-256).
"""

from __future__ import annotations

from catalog.services import Service
from catalog.settings import Settings

MB = 1024**2
# Connections: eleven catalog services with pools of a few connections each, plus the
# migrate and backup jobs and an operator's psql. More would only shrink work_mem.
MAX_CONNECTIONS = 100


def memory_settings(limit_bytes: int) -> dict[str, int]:
    """Memory parameters in MiB for a server that must stay inside `limit_bytes` (cgroup limit).

    shared_buffers takes a quarter, the usual starting point when the OS cache shares the
    same limit. maintenance_work_mem (vacuum, index builds) gets a sixteenth. work_mem is what
    is left divided over every connection running two sort/hash nodes at once, so even a
    full server with busy queries stays under the limit.
    """
    limit = limit_bytes // MB
    shared_buffers = limit // 4
    maintenance = min(limit // 16, 1024)
    work_mem = max(4, (limit - shared_buffers - maintenance) // (MAX_CONNECTIONS * 2))
    return {
        "shared_buffers": shared_buffers,
        # A planner hint, not an allocation: what Postgres may expect to find cached.
        "effective_cache_size": limit * 3 // 4,
        "maintenance_work_mem": maintenance,
        "work_mem": work_mem,
        "wal_buffers": min(16, max(1, shared_buffers // 32)),
    }


def render_postgres_conf(service: Service, settings: Settings) -> str:
    memory = memory_settings(service.deploy.resources.limits.memory)
    lines = [
        "# Rendered by the devtools Pulumi program from config/services.yaml; do not edit on the host.",
        "listen_addresses = '*'",
        f"port = {service.port}",
        f"max_connections = {MAX_CONNECTIONS}",
        "password_encryption = 'scram-sha-256'",
        *(f"{name} = {value}MB" for name, value in memory.items()),
        # Durability: every commit reaches the disk before it is acknowledged.
        "fsync = on",
        "synchronous_commit = on",
        "full_page_writes = on",
        "wal_level = replica",
        "max_wal_size = 1GB",
        "min_wal_size = 256MB",
        "checkpoint_completion_target = 0.9",
        # Docker gives a container 64 MB of /dev/shm; parallel workers share memory there.
        "max_parallel_workers_per_gather = 1",
        "log_min_duration_statement = 1000",
        "log_lock_waits = on",
        "log_temp_files = 0",
        "log_checkpoints = on",
        "log_timezone = 'UTC'",
        "timezone = 'UTC'",
        "idle_in_transaction_session_timeout = '10min'",
    ]
    return "\n".join(lines) + "\n"
