"""The backup job's settings file, as delivered into its container.

The program (images/backup/datastore_backup.py) is not uploaded: it is baked into the backup
image, which is built from that folder, so the container runs the very file the tests and the
drill run (BACKUP_SCRIPT). The settings file carries what the stack decides (bucket, region,
schedule, retention).
"""

from __future__ import annotations

import json
from pathlib import Path

from catalog.services import Service
from catalog.settings import Settings

BACKUP_SCRIPT = Path(__file__).resolve().parent.parent / "images" / "backup" / "datastore_backup.py"
DO_API_URL = "https://api.digitalocean.com"
# The droplet's metadata service: tells the job which droplet (and so which volume) it runs on.
METADATA_URL = "http://169.254.169.254/metadata/v1"
BACKUP_PREFIX = "devtools"
# Inside its container the program listens on every interface, so Prometheus reaches it by alias.
METRICS_ADDRESS = "0.0.0.0"


def spaces_endpoint(region: str) -> str:
    return f"https://{region}.digitaloceanspaces.com"


def metrics_endpoint(service: Service) -> dict:
    """Where the program serves its metrics: the catalog's `metrics:` of the backup service, if any."""
    if service.metrics is None:
        return {}
    return {"address": METRICS_ADDRESS, "port": service.metrics.port or service.port, "path": service.metrics.path}


def backup_config(settings: Settings, service: Service) -> dict:
    return {
        "bucket": settings.backup_bucket,
        "region": settings.region,
        "endpoint": spaces_endpoint(settings.region),
        "prefix": BACKUP_PREFIX,
        "interval_seconds": settings.backup_interval_hours * 3600,
        "retention_days": settings.backup_retention_days,
        "snapshots": {"api_url": DO_API_URL, "metadata_url": METADATA_URL, "retention_days": settings.backup_retention_days},
        "metrics": metrics_endpoint(service),
    }


def render_backup_conf(service: Service, settings: Settings) -> str:
    return json.dumps(backup_config(settings, service), indent=2) + "\n"
