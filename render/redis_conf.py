"""redis.conf for the event bus: durable (AOF + RDB), bounded, authenticated."""

from __future__ import annotations

from catalog.errors import InputError, Problem
from catalog.services import Catalog, Service, secret_path
from catalog.settings import Settings
from render.secret_renderers import ACL_RENDERER

# RDB snapshot rules: after 900 s if 1 key changed, 300 s if 10, 60 s if 10000 (the audit's PR-97).
SAVE_RULES = ((900, 1), (300, 10), (60, 10000))
# Share of the container's memory limit Redis may fill with data. A BGSAVE or AOF rewrite
# forks, and every page the parent writes meanwhile is copied: under a steady write load
# the child can need as much again as the dataset. Half the limit keeps parent + child +
# client buffers under the cgroup limit, so the kernel's OOM killer never picks Redis.
MAXMEMORY_SHARE = 0.5
# An event bus holds streams, queues and locks: dropping any key silently loses an event
# or a lock. With noeviction a full Redis refuses writes with an OOM error the producer
# sees (and the alert fires), instead of quietly deleting data nobody chose to delete.
EVICTION_POLICY = "noeviction"


def maxmemory_bytes(service: Service) -> int:
    return int(service.deploy.resources.limits.memory * MAXMEMORY_SHARE)


def acl_secret(catalog: Catalog, service: Service) -> str | None:
    """The mounted secret that is the ACL file: the one derived with the ACL renderer."""
    return next((m.source for m in service.secret_mounts
                 if (s := catalog.secrets.get(m.source)) and s.derive and s.derive.renderer == ACL_RENDERER), None)


def render_redis_conf(catalog: Catalog, service: Service, settings: Settings) -> str:
    data_dir = next(path for _, path, _ in service.volume_mounts())
    acl = acl_secret(catalog, service)
    if acl is None:
        name = next((n for n, s in catalog.services.items() if s is service), "<redis>")
        raise InputError([Problem(
            "config/services.yaml", f"services.{name}.secrets", "mounts no ACL file, which the redis.conf reads",
            f"add a secret derived with renderer {ACL_RENDERER} (derive: {{from: <its password>, renderer: {ACL_RENDERER}}}) to its secrets",
        )])
    lines = [
        "# Rendered by the devtools Pulumi program from config/services.yaml; do not edit on the host.",
        f"port {service.port}",
        "bind 0.0.0.0",
        "protected-mode yes",
        "daemonize no",
        'logfile ""',
        f"dir {data_dir}",
        # Users and passwords come only from the ACL file (a secret); no requirepass anywhere.
        f"aclfile {secret_path(acl)}",
        "appendonly yes",
        "appendfsync everysec",
        "appendfilename appendonly.aof",
        "aof-use-rdb-preamble yes",
        # Keep fsyncing while a rewrite runs: durability over latency.
        "no-appendfsync-on-rewrite no",
        # After a crash the AOF tail may be cut mid-command: load what is whole, keep serving.
        "aof-load-truncated yes",
        "auto-aof-rewrite-percentage 100",
        "auto-aof-rewrite-min-size 64mb",
        "dbfilename dump.rdb",
        *(f"save {seconds} {changes}" for seconds, changes in SAVE_RULES),
        "stop-writes-on-bgsave-error yes",
        "rdbcompression yes",
        "rdbchecksum yes",
        f"maxmemory {maxmemory_bytes(service)}",
        f"maxmemory-policy {EVICTION_POLICY}",
        "tcp-keepalive 60",
        # The backup job copies the RDB over the replication protocol (redis-cli --rdb); it is
        # the only "replica", so do not wait the default 5 s for others to join the transfer.
        "repl-diskless-sync-delay 0",
    ]
    return "\n".join(lines) + "\n"
