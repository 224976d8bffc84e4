"""Rules on the whole stack: `check(resources, config) -> [(urn or None, message)]`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .docker import (
    CONTAINER,
    DATASTORE_ROLE,
    EDGE_ROLE,
    NETWORK,
    NETWORK_LABEL,
    host_mounts,
    label,
    role,
    service_name,
)
from .host_rules import DROPLET
from .metadata import ADVISORY, SERVICES, policy
from .sizes import SIZES
from .values import UNKNOWN, as_list, is_unknown

MIB = 1024**2
GIB = 1024**3


@dataclass(frozen=True)
class StackResource:
    type: str
    urn: str
    name: str
    props: Mapping[str, Any]
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)


Finding = tuple[str | None, str]


def container_resources(resources: Sequence[StackResource]) -> list[StackResource]:
    return [r for r in resources if r.type == CONTAINER]


def _droplet_size(resources: Sequence[StackResource]) -> tuple[Any, list[Finding]]:
    droplets = [r for r in resources if r.type == DROPLET]
    if len(droplets) != 1:
        return None, []  # no single droplet: capacity is not this stack's question
    slug = droplets[0].props.get("size")
    if is_unknown(slug):
        return None, []
    size = SIZES.get(str(slug))
    if size is None:
        return None, [(droplets[0].urn, f"droplet size {slug!r} is not in the pack's size table, so capacity cannot be judged")]
    return size, []


def _total(containers: Sequence[StackResource], key: str, scale: float = 1.0) -> float | None:
    """Sum of a numeric input over the containers; None when any of them is unknown."""
    total = 0.0
    for c in containers:
        value = c.props.get(key)
        if is_unknown(value):
            return None
        try:
            total += float(value or 0) * scale
        except (TypeError, ValueError):
            continue
    return total


@policy("memory-capacity", severity="high", stack=True,
      description="Container memory reservations must fit the droplet's memory minus the host reserve, and "
                  "limits must not overcommit it beyond the allowed factor: lower the services' memory or pick "
                  "a larger devtools:dropletSize.",
      settings={"hostReserveMiB": {"type": "number", "minimum": 0, "default": 1536,
                                   "description": "memory kept for the OS, Docker and the agents (MiB)"},
                "limitOvercommitFactor": {"type": "number", "minimum": 1, "default": 1.5,
                                          "description": "sum of limits / allocatable memory, at most"}},
      covers=("audit: resource limits missing (P0)", "audit: missing capacity planning guide"))
def memory_capacity(resources: Sequence[StackResource], config: Mapping[str, Any]) -> list[Finding]:
    size, found = _droplet_size(resources)
    if size is None:
        return found
    containers = container_resources(resources)
    reserve = float(config.get("hostReserveMiB", 1536)) * MIB
    factor = float(config.get("limitOvercommitFactor", 1.5))
    allocatable = size.memory_bytes - reserve
    reserved = _total(containers, "memoryReservation", MIB)
    limits = _total(containers, "memory", MIB)
    if reserved is not None and reserved > allocatable:
        found.append((None, f"memory reservations total {reserved / GIB:.2f} GiB, more than the {allocatable / GIB:.2f} GiB "
                            f"a {size.slug} droplet has after {reserve / GIB:.2f} GiB for the host"))
    if limits is not None and limits > factor * allocatable:
        found.append((None, f"memory limits total {limits / GIB:.2f} GiB, {limits / allocatable:.2f}x the {allocatable / GIB:.2f} GiB "
                            f"allocatable on {size.slug} (at most {factor:g}x allowed)"))
    return found


@policy("cpu-capacity", severity="medium", stack=True,
      description="Container CPU reservations must fit the droplet's vCPUs, and limits must not overcommit "
                  "them beyond the allowed factor: lower the services' cpus or pick a larger "
                  "devtools:dropletSize.",
      settings={"hostReserveCpus": {"type": "number", "minimum": 0, "default": 0,
                                    "description": "vCPUs kept for the host"},
                "limitOvercommitFactor": {"type": "number", "minimum": 1, "default": 2.0,
                                          "description": "sum of CPU limits / vCPUs, at most"}},
      covers=("audit: resource limits missing (P0)", "audit: missing capacity planning guide"))
def cpu_capacity(resources: Sequence[StackResource], config: Mapping[str, Any]) -> list[Finding]:
    size, found = _droplet_size(resources)
    if size is None:
        return found
    containers = container_resources(resources)
    reserve = float(config.get("hostReserveCpus", 0.0))
    factor = float(config.get("limitOvercommitFactor", 2.0))
    allocatable = size.vcpus - reserve
    # Docker has no CPU reservation; the program turns a reservation into cpuShares (1024 = one CPU).
    reserved = _total(containers, "cpuShares", 1 / 1024)
    limits = _total(containers, "cpus")
    if reserved is not None and reserved > allocatable:
        found.append((None, f"CPU reservations total {reserved:.2f} CPUs, more than the {allocatable:g} a {size.slug} droplet offers"))
    if limits is not None and limits > factor * allocatable:
        found.append((None, f"CPU limits total {limits:.2f} CPUs, {limits / allocatable:.2f}x the {allocatable:g} vCPUs "
                            f"of {size.slug} (at most {factor:g}x allowed)"))
    return found


def network_names(resources: Sequence[StackResource]) -> tuple[dict[str, str], dict[str, StackResource]]:
    """Docker network name -> catalog network name, and catalog name -> the Network resource."""
    by_docker_name, by_logical = {}, {}
    for r in resources:
        if r.type != NETWORK:
            continue
        logical = label(r.props, NETWORK_LABEL)
        if not isinstance(logical, str):
            continue
        by_logical[logical] = r
        if isinstance(r.props.get("name"), str):
            by_docker_name[r.props["name"]] = logical
    return by_docker_name, by_logical


def joined_networks(container: StackResource, by_docker_name: dict[str, str], by_urn: dict[str, str]) -> set[str] | None:
    """Catalog networks a container joins; None when it cannot be told yet."""
    joined = set()
    entries = container.props.get("networksAdvanced")
    # A list not known as a whole is read like one entry whose name is not known.
    for entry in [UNKNOWN] if is_unknown(entries) else as_list(entries):
        name = entry.get("name") if isinstance(entry, Mapping) else None
        if isinstance(name, str):
            joined.add(by_docker_name.get(name, name))
        else:
            # The network's name is not known yet: the container's dependencies on the Network resources say.
            deps = {by_urn[u] for u in container.property_dependencies.get("networksAdvanced", []) if u in by_urn}
            if not deps:
                return None
            joined |= deps
    return joined


@policy("network-segmentation", severity="critical", stack=True,
      description="Nothing on the data network is reachable from the edge network: no datastore joins the edge "
                  "network, the edge proxy does not join the data network, and the data network is internal. "
                  "Fix the services' networks: in config/services.yaml.",
      settings={"edgeNetwork": {"type": "string", "default": "edge"},
                "dataNetwork": {"type": "string", "default": "data"}},
      covers=("audit: no network policies",))
def network_segmentation(resources: Sequence[StackResource], config: Mapping[str, Any]) -> list[Finding]:
    """Nothing on the data network is reachable from the edge network.

    A datastore never joins the edge network and the edge proxy never joins the data network; services
    on both tiers (e.g. the orchestrator: edge + app + data) are the application tier in between.
    """
    edge_net, data_net = config.get("edgeNetwork", "edge"), config.get("dataNetwork", "data")
    by_docker_name, by_logical = network_names(resources)
    by_urn = {r.urn: logical for logical, r in by_logical.items()}
    found: list[Finding] = []
    data = by_logical.get(data_net)
    if data is not None and data.props.get("internal") is not True and not is_unknown(data.props.get("internal")):
        found.append((data.urn, f"the {data_net} network is not internal, so its containers have a route out of the host"))
    for c in container_resources(resources):
        joined = joined_networks(c, by_docker_name, by_urn)
        if joined is None:
            continue
        name = service_name(c.props, c.name)
        if role(c.props) == DATASTORE_ROLE and edge_net in joined:
            found.append((c.urn, f"datastore {name} joins the {edge_net} network"))
        if role(c.props) == EDGE_ROLE and data_net in joined:
            found.append((c.urn, f"the edge proxy joins the {data_net} network"))
    return found


@policy("volumes-not-shared", severity="low", enforcement=ADVISORY, stack=True,
      description="A host directory that a container writes to belongs to that container alone: give each "
                  "service its own volume, or mount the other's read-only.",
      settings={"allowedServices": {**SERVICES, "default": [], "description": "services allowed to share"}},
      covers=("KICS shared_volumes_between_containers", "KICS volume_mounted_in_multiple_containers"))
def volumes_not_shared(resources: Sequence[StackResource], config: Mapping[str, Any]) -> list[Finding]:
    """A host directory written by two containers: one can corrupt or read the other's data."""
    allowed = set(config.get("allowedServices") or [])
    users: dict[str, list[tuple[StackResource, bool]]] = defaultdict(list)
    for c in container_resources(resources):
        for mount in host_mounts(c.props):
            if isinstance(mount.source, str):
                users[mount.source.rstrip("/")].append((c, mount.read_only))
    found: list[Finding] = []
    for source, mounted in sorted(users.items()):
        writers = [c for c, read_only in mounted if read_only is False]  # an unknown flag is not a known writer
        if len(mounted) > 1 and writers:
            others = [service_name(c.props, c.name) for c, _ in mounted]
            for c, _ in mounted:
                if service_name(c.props, c.name) not in allowed:
                    found.append((c.urn, f"host directory {source} is shared by {', '.join(sorted(others))}"))
    return found
