"""redis.conf for the event bus: durable (AOF + RDB), bounded, authenticated."""

from __future__ import annotations

from components.catalog import Service
from components.settings import Settings

# RDB snapshot rules: after 900 s if 1 key changed, 300 s if 10, 60 s if 10000 (the audit's PR-97).
SAVE_RULES = ((900, 1), (300, 10), (60, 10000))


def render_redis_conf(service: Service, settings: Settings) -> str:
    data_dir = next(path for _, path, _ in service.volume_mounts())
    lines = [
        "# Rendered by the devtools Pulumi program from config/services.yaml; do not edit on the host.",
        f"port {service.port}",
        "bind 0.0.0.0",
        "protected-mode yes",
        f"dir {data_dir}",
        "appendonly yes",
        "appendfsync everysec",
        "appendfilename appendonly.aof",
        "aof-use-rdb-preamble yes",
        "dbfilename dump.rdb",
        *(f"save {seconds} {changes}" for seconds, changes in SAVE_RULES),
        "stop-writes-on-bgsave-error yes",
    ]
    return "\n".join(lines) + "\n"
