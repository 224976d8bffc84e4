"""What the declared containers ask of the droplet (limits and reservations against its size), or the pods
of the cluster's node pool with one node lost; and what it costs a month.

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
from policies.devtools_policy.kubernetes_rules import AUTOSCALER, DATABASE
from policies.devtools_policy.kubernetes_rules import quantity as read_quantity

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


# --- the Kubernetes target: the node pool against the pods' requests, with one node lost ---

WORKLOAD_TYPES = {
    "kubernetes:apps/v1:Deployment": "replicas",
    "kubernetes:apps/v1:StatefulSet": "replicas",
    "kubernetes:apps/v1:DaemonSet": "per-node",
}
CLAIM = "kubernetes:core/v1:PersistentVolumeClaim"


def quantity(value: object) -> float:
    """A Kubernetes quantity as a number of cores or bytes, read as the pack reads it. One it cannot
    read counts as nothing here: the pack's k8s-requests-and-limits rule reports it."""
    return read_quantity(value) or 0.0


@dataclass(frozen=True)
class ClusterCapacity:
    node: DropletSize
    min_nodes: int
    max_nodes: int
    node_reserve: int
    memory_requests: int
    cpu_requests: float
    databases: tuple[tuple[str, str, int], ...]   # (engine, size, nodes)
    monthly_usd: float

    @property
    def fits_with_one_node_lost(self) -> bool:
        survivors = self.min_nodes - 1
        return (self.memory_requests <= survivors * (self.node.memory_bytes - self.node_reserve)
                and self.cpu_requests <= survivors * self.node.vcpus)

    def line(self) -> str:
        gib = 1024**3
        survivors = self.min_nodes - 1
        dbs = ", ".join(f"{engine} {size} x{nodes}" for engine, size, nodes in self.databases) or "none"
        return (
            f"capacity: DOKS {self.min_nodes}-{self.max_nodes} x {self.node.slug} "
            f"({self.node.memory_bytes / gib:g} GiB, {self.node.vcpus} vCPU each, {self.node_reserve / gib:.1f} GiB kept per node) | "
            f"pods request {self.memory_requests / gib:.2f} GiB, {self.cpu_requests:.2f} CPU; with one node lost "
            f"{survivors} nodes offer {survivors * (self.node.memory_bytes - self.node_reserve) / gib:.2f} GiB, "
            f"{survivors * self.node.vcpus} CPU: {'fits' if self.fits_with_one_node_lost else 'DOES NOT FIT'} | "
            f"managed databases: {dbs} | about ${self.monthly_usd:.2f}/month at {self.min_nodes} nodes"
        )


def measure_cluster(resources: list[Recorded], settings) -> ClusterCapacity:
    """What the declared pods request of the node pool, and what cluster, databases and disks cost a month."""
    from catalog.kubernetes_settings import DATABASE_SIZES, HA_CONTROL_PLANE_USD, LOAD_BALANCER_USD

    k8s = settings.kubernetes
    # An autoscaled workload runs at least its autoscaler's minimum.
    minimum = {(r.inputs.get("spec") or {}).get("scaleTargetRef", {}).get("name"): _plain(r.inputs["spec"].get("minReplicas", 1))
               for r in resources if r.type == AUTOSCALER}
    memory = cpu = 0.0
    for r in resources:
        how = WORKLOAD_TYPES.get(r.type)
        if how is None:
            continue
        spec = r.inputs.get("spec") or {}
        name = (r.inputs.get("metadata") or {}).get("name")
        copies = k8s.min_nodes if how == "per-node" else minimum.get(name, _plain(spec.get("replicas", 1)))
        for container in ((spec.get("template") or {}).get("spec") or {}).get("containers", []):
            requests = (container.get("resources") or {}).get("requests") or {}
            memory += copies * quantity(requests.get("memory", 0))
            cpu += copies * quantity(requests.get("cpu", 0))
    claims_gib = sum(quantity(((r.inputs.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage", 0))
                     for r in resources if r.type == CLAIM) / (1024 * MIB)
    for r in resources:
        if r.type in WORKLOAD_TYPES:
            for template in (r.inputs.get("spec") or {}).get("volumeClaimTemplates", []) or []:
                claims_gib += quantity(template["spec"]["resources"]["requests"]["storage"]) / (1024 * MIB)
    databases = tuple(sorted((str(r.inputs.get("engine")), str(r.inputs.get("size")), int(_plain(r.inputs.get("nodeCount")) or 1))
                             for r in resources if r.type == DATABASE))
    database_usd = sum(DATABASE_SIZES[size][2] * nodes for _, size, nodes in databases if size in DATABASE_SIZES)
    has_balancer = any(r.type == "kubernetes:core/v1:Service" and (r.inputs.get("spec") or {}).get("type") == "LoadBalancer"
                       for r in resources)
    monthly = (k8s.min_nodes * k8s.node.monthly_usd + (HA_CONTROL_PLANE_USD if k8s.ha else 0.0)
               + (LOAD_BALANCER_USD if has_balancer else 0.0) + database_usd + claims_gib * VOLUME_USD_PER_GIB)
    return ClusterCapacity(k8s.node, k8s.min_nodes, k8s.max_nodes, settings.host_memory_reserve, int(memory), cpu,
                           databases, monthly)
