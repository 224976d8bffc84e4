"""DigitalOcean droplet sizes the stack may use: memory, vCPUs and monthly list price.

Kept in the code (not fetched) so the policy pack and the offline preview can judge capacity and cost
without an account. Prices are DigitalOcean's published USD list prices per month.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DropletSize:
    slug: str
    memory_bytes: int
    vcpus: int
    monthly_usd: float


_GIB = 1024**3

SIZES: dict[str, DropletSize] = {
    size.slug: size
    for size in (
        DropletSize("s-1vcpu-2gb", 2 * _GIB, 1, 12.0),
        DropletSize("s-2vcpu-2gb", 2 * _GIB, 2, 18.0),
        DropletSize("s-2vcpu-4gb", 4 * _GIB, 2, 24.0),
        DropletSize("s-4vcpu-8gb", 8 * _GIB, 4, 48.0),
        DropletSize("s-8vcpu-16gb", 16 * _GIB, 8, 96.0),
        DropletSize("g-2vcpu-8gb", 8 * _GIB, 2, 63.0),
        DropletSize("g-4vcpu-16gb", 16 * _GIB, 4, 126.0),
        DropletSize("m-2vcpu-16gb", 16 * _GIB, 2, 84.0),
        DropletSize("c-4", 8 * _GIB, 4, 84.0),
        DropletSize("c-8", 16 * _GIB, 8, 168.0),
        DropletSize("s-8vcpu-32gb", 32 * _GIB, 8, 192.0),
    )
}

# Weekly droplet backups cost 20% of the droplet; block storage is per GiB-month.
BACKUP_SURCHARGE = 0.20
VOLUME_USD_PER_GIB = 0.10
