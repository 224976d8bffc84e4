"""redis.conf for the event bus: durable (AOF + RDB), bounded, authenticated."""

from __future__ import annotations

from catalog.errors import InputError, Problem
from catalog.services import Service, secret_path
from catalog.settings import Settings

# RDB snapshot rules: after 900 s if 1 key changed, 300 s if 10, 60 s if 10000 (the audit's PR-97).
SAVE_RULES = ((900, 1), (300, 10), (60, 10000))
# The secret whose file is the ACL (catalog `secrets:` entry derived from redis_password).
ACL_SECRET = "redis_acl"
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


def render_redis_conf(service: Service, settings: Settings) -> str:
    data_dir = next(path for _, path, _ in service.volume_mounts())
    if ACL_SECRET not in {m.source for m in service.secret_mounts}:
        raise InputError([Problem(
            "config/services.yaml", "services.redis.secrets", f"does not mount the {ACL_SECRET} secret the redis.conf reads",
            f"add {ACL_SECRET} (derived from redis_password with renderer redis_acl) to the service's secrets",
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
        f"aclfile {secret_path(ACL_SECRET)}",
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
