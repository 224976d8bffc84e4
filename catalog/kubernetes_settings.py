"""The DigitalOcean Kubernetes (DOKS) target's stack settings: `devtools:kubernetes` in Pulumi.<stack>.yaml."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from catalog.errors import Invalid, Problem
from catalog.model import StrictModel
from catalog.sizes import SIZES

# DOKS version slugs: <major>.<minor>.<patch>-do.<n>; the minor selects the API schemas the manifests are held to.
VERSION = re.compile(r"^1\.(\d{2})\.\d+-do\.\d+$")
START_TIME = re.compile(r"^([01]\d|2[0-3]):00$")
WEEKDAY = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

# Managed database sizes: memory, vCPUs and the monthly list price of one node (DigitalOcean, USD).
DATABASE_SIZES: dict[str, tuple[int, int, float]] = {
    "db-s-1vcpu-1gb": (1, 1, 15.0),
    "db-s-1vcpu-2gb": (2, 1, 30.0),
    "db-s-2vcpu-4gb": (4, 2, 60.0),
    "db-s-4vcpu-8gb": (8, 4, 120.0),
    "db-s-6vcpu-16gb": (16, 6, 240.0),
}
HA_CONTROL_PLANE_USD = 40.0
LOAD_BALANCER_USD = 12.0


class KubernetesSettings(StrictModel):
    """The cluster, its node pool and where the datastores run; camelCase keys as in the stack file."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)

    version: str = "1.33.1-do.5"
    node_size: str = "s-4vcpu-8gb"
    min_nodes: int = Field(default=3, ge=1, le=100)
    max_nodes: int = Field(default=5, ge=1, le=100)
    ha: bool = False
    surge_upgrade: bool = True
    auto_upgrade: bool = True
    maintenance_day: WEEKDAY = "sunday"
    maintenance_start: str = "04:00"
    namespace: str = "devtools"
    # managed: DigitalOcean managed Postgres and Valkey; statefulset: the catalog's datastores in the cluster.
    datastores: Literal["managed", "statefulset"] = "managed"
    database_size: str = "db-s-1vcpu-2gb"
    database_nodes: int = Field(default=1, ge=1, le=3)
    cache_size: str = "db-s-1vcpu-2gb"
    storage_class: str = "do-block-storage"
    storage_gb: int = Field(default=10, ge=1, le=16384)
    # Claim size per catalog volume where the default does not fit (e.g. Prometheus' retention).
    volume_sizes_gb: dict[str, Annotated[int, Field(ge=1, le=16384)]] = {}

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not VERSION.match(value):
            raise Invalid(f"{value!r} is not a DOKS version slug", "write it like 1.33.1-do.5 (`doctl kubernetes options versions` lists them)")
        return value

    @field_validator("node_size")
    @classmethod
    def _node_size(cls, value: str) -> str:
        if value not in SIZES:
            raise Invalid(f"node size {value!r} is not one this project knows", f"pick one of {', '.join(SIZES)}")
        return value

    @field_validator("database_size", "cache_size")
    @classmethod
    def _database_size(cls, value: str) -> str:
        if value not in DATABASE_SIZES:
            raise Invalid(f"database size {value!r} is not one this project knows", f"pick one of {', '.join(DATABASE_SIZES)}")
        return value

    @field_validator("maintenance_start")
    @classmethod
    def _start(cls, value: str) -> str:
        if not START_TIME.match(value):
            raise Invalid(f"{value!r} is not a whole hour", "write it like 04:00 (UTC)")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not re.match(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", value):
            raise Invalid(f"{value!r} is not a DNS-1123 label", "use lower case letters, digits and hyphens, e.g. devtools")
        return value

    @model_validator(mode="after")
    def _bounds(self) -> KubernetesSettings:
        if self.min_nodes > self.max_nodes:
            raise Invalid(f"minNodes {self.min_nodes} is above maxNodes {self.max_nodes}", "raise maxNodes or lower minNodes")
        if self.min_nodes < 2:
            # One node lost must leave somewhere for its pods to go.
            raise Invalid("minNodes below 2 leaves no node to fail over to", "set minNodes to 2 or more")
        return self

    @property
    def minor(self) -> str:
        """The Kubernetes minor, e.g. `1.33`, whose API schemas the manifests must pass."""
        return ".".join(self.version.split(".")[:2])

    @property
    def node(self):
        return SIZES[self.node_size]

    def claim_gb(self, volume: str) -> int:
        return self.volume_sizes_gb.get(volume, self.storage_gb)


if TYPE_CHECKING:
    from catalog.services import Catalog


def kubernetes_problems(settings: KubernetesSettings, catalog: Catalog, file: str, namespace: str) -> list[Problem]:
    """What the cluster settings must agree on with the catalog: volume names, and Prometheus' retention fitting its claim."""
    from render.observability.prometheus_config import RETENTION_SIZE_FLAG  # render/ imports catalog/: import late

    key = f"{namespace}:kubernetes.volumeSizesGb"
    problems = [Problem(file, f"{key}.{volume}", "names no volume in the catalog", f"use one of {sorted(catalog.volumes)}")
                for volume in settings.volume_sizes_gb if volume not in catalog.volumes]
    for name, svc in catalog.services.items():
        volumes = [volume for volume, _, read_only in svc.volume_mounts() if not read_only]
        for arg in svc.command or []:
            match = RETENTION_SIZE_FLAG.match(arg)
            for volume in volumes if match else []:
                if int(match.group(1)) > settings.claim_gb(volume):
                    problems.append(Problem(file, f"{key}.{volume}",
                                            f"a {settings.claim_gb(volume)} GB claim cannot hold {name}'s {match.group(1)} GB retention",
                                            f"set {key}.{volume} to {int(match.group(1)) + 5} or more"))
    return problems
