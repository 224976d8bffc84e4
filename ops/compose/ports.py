"""Compose's port forms, read once: the loader refuses what does not parse, the importer uses the result."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PortMapping:
    container: int
    host: int | None


PORT_OR_RANGE = re.compile(r"^\d+(?:-\d+)?(?:/\w+)?$")
# `[IP:][HOST:]CONTAINER[/proto]`, ports or ranges, the IP possibly an IPv6 address in brackets.
_SHORT_PORT = re.compile(r"^(?:(?:\[[^\]]+\]|[^:\[\]]+):(?=\d*(?:-\d+)?:))?(?:(?P<host>\d*)(?:-\d+)?:)?(?P<container>\d+)(?:-\d+)?(?:/\w+)?$")


def port_mappings(ports: list[Any]) -> list[PortMapping]:
    """Compose's short (`[IP:][HOST:]CONTAINER[/proto]`) and long (`{target, published}`) port forms.

    A range keeps its first port. Raises ValueError for an entry that is neither form.
    """
    out = []
    for entry in ports or []:
        if isinstance(entry, dict):
            published = str(entry.get("published") or "").split("-")[0]
            out.append(PortMapping(int(str(entry["target"]).split("-")[0]), int(published) if published else None))
            continue
        match = _SHORT_PORT.match(str(entry))
        if match is None:
            raise ValueError(f"port {entry!r} is not [IP:][HOST:]CONTAINER[/protocol]")
        host = match.group("host")
        out.append(PortMapping(int(match.group("container")), int(host) if host else None))
    return out
