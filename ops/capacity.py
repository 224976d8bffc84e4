"""What the declared containers ask of the droplet: limits and reservations against its size.

The host reserve is read where the memory-capacity policy reads it: the droplet's
`devtools-host-reserve-mib` tag in the plan, which the program sets from `devtools:hostMemoryReserve`.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.sizes import BACKUP_SURCHARGE, VOLUME_USD_PER_GIB, DropletSize
from ops.engine import Recorded
from policies.devtools_policy.docker import CONTAINER
from policies.devtools_policy.host_reserve import declared_reserve
from policies.devtools_policy.host_rules import DROPLET

MIB = 1024**2


@dataclass(frozen=True)
class Capacity:
    size: DropletSize
    host_reserve: int
    memory_limits: int
    memory_reservations: int
    cpu_limits: float
    cpu_reservations: float
    monthly_usd: float

    @property
    def allocatable_memory(self) -> int:
        return self.size.memory_bytes - self.host_reserve

    def line(self) -> str:
        gib = 1024**3
        if self.allocatable_memory <= 0:
            return (f"capacity: {self.size.slug} ({self.size.memory_bytes / gib:g} GiB): the host reserve of "
                    f"{self.host_reserve / gib:.1f} GiB leaves nothing for the containers")
        return (
            f"capacity: {self.size.slug} ({self.size.memory_bytes / gib:g} GiB, {self.size.vcpus} vCPU, "
            f"{self.host_reserve / gib:.1f} GiB kept for the host) | "
            f"memory reserved {self.memory_reservations / gib:.2f} GiB, limits {self.memory_limits / gib:.2f} GiB "
            f"({self.memory_limits / self.allocatable_memory:.2f}x of allocatable) | "
            f"CPU reserved {self.cpu_reservations:.2f}, limits {self.cpu_limits:.2f} ({self.cpu_limits / self.size.vcpus:.2f}x) | "
            f"about ${self.monthly_usd:.2f}/month"
        )


def _plain(value):
    # Unknown or secret-wrapped numbers count as zero: capacity only reads plain numbers.
    return value if isinstance(value, (int, float)) else 0


def host_reserve(resources: list[Recorded]) -> int:
    """Bytes the droplet's tag declares for the host (0 when the plan has no such tag)."""
    for r in resources:
        if r.type == DROPLET:
            try:
                declared = declared_reserve(r.inputs.get("tags"))
            except ValueError:
                return 0
            return declared if isinstance(declared, int) else 0
    return 0


def measure(resources: list[Recorded], size: DropletSize, volume_gib: int) -> Capacity:
    containers = [r.inputs for r in resources if r.type == CONTAINER]
    return Capacity(
        size=size,
        host_reserve=host_reserve(resources),
        memory_limits=int(sum(_plain(c.get("memory")) for c in containers) * MIB),
        memory_reservations=int(sum(_plain(c.get("memoryReservation")) for c in containers) * MIB),
        cpu_limits=sum(float(c.get("cpus", 0) or 0) for c in containers),
        cpu_reservations=sum(_plain(c.get("cpuShares")) for c in containers) / 1024,
        monthly_usd=size.monthly_usd * (1 + BACKUP_SURCHARGE) + volume_gib * VOLUME_USD_PER_GIB,
    )
