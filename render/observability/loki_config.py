"""loki.yaml: one Loki process on the droplet, filesystem storage, retention from the stack settings."""

from __future__ import annotations

from catalog.model import dump_yaml
from catalog.services import Catalog, Service
from catalog.settings import Settings

HEADER = "# Rendered by the devtools Pulumi program from config/services.yaml; do not edit on the host.\n"
SCHEMA_FROM = "2025-01-01"  # the day this schema starts; never change it once logs exist


def loki_config(service: Service, settings: Settings) -> dict:
    data = next(path for _, path, _ in service.volume_mounts())
    retention = f"{settings.log_retention_days * 24}h"
    return {
        "auth_enabled": False,
        "server": {"http_listen_port": service.port, "grpc_listen_port": 9096, "log_level": "warn"},
        "common": {
            "instance_addr": "127.0.0.1",
            "path_prefix": data,
            "storage": {"filesystem": {"chunks_directory": f"{data}/chunks", "rules_directory": f"{data}/rules"}},
            "replication_factor": 1,
            "ring": {"kvstore": {"store": "inmemory"}},
        },
        "schema_config": {"configs": [{
            "from": SCHEMA_FROM, "store": "tsdb", "object_store": "filesystem", "schema": "v13",
            "index": {"prefix": "index_", "period": "24h"},
        }]},
        "limits_config": {
            "retention_period": retention,
            "reject_old_samples": True,
            "reject_old_samples_max_age": "168h",
            "ingestion_rate_mb": 8,
            "ingestion_burst_size_mb": 16,
        },
        # The compactor is what deletes chunks older than retention_period.
        "compactor": {
            "working_directory": f"{data}/compactor",
            "retention_enabled": True,
            "delete_request_store": "filesystem",
            "compaction_interval": "10m",
            "retention_delete_delay": "2h",
        },
        "analytics": {"reporting_enabled": False},
    }


def render_loki_yaml(catalog: Catalog, service: Service, settings: Settings) -> str:
    return HEADER + dump_yaml(loki_config(service, settings))
