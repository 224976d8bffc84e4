"""The addresses a service's code is given must be edges of the catalog's dependency graph.

Every target builds its network from `depends_on`: the droplet's segmented Docker networks, and on
Kubernetes one NetworkPolicy allow edge per dependency. A variable holding another service's
address (`http://gateway-mcp:8000`, or `DB_HOST: postgres`) that is not backed by a `depends_on` entry would pass on a flat
network and fail, connection refused, behind a default-deny policy. So it is refused here, before
anything is declared, together with an address whose port is not the one that service listens on.
"""

from __future__ import annotations

import re

from catalog.errors import Problem
from catalog.services import Catalog

# scheme://[user[:password]@]host[:port]: only the host and the port are read, never a credential.
_ADDRESS = re.compile(r"[a-z][a-z0-9+.-]*://(?:[^@/\s]*@)?(?P<host>[a-z][a-z0-9-]*)(?::(?P<port>\d+))?")


# A bare `host` or `host:port` is an address only where the variable's name says so (`DB_HOST:
# postgres`, `REDIS_ADDR: redis:6379`); elsewhere a word such as `redis` may be a mode or a backend.
_BARE = re.compile(r"(?P<host>[a-z][a-z0-9-]*)(?::(?P<port>\d+))?")
_ADDRESS_NAMES = ("HOST", "ADDR", "ADDRESS", "SERVER", "ENDPOINT", "URL", "URI")


def addressed_hosts(value: str, variable: str = "") -> list[tuple[str, str | None]]:
    """The (host, port) of every address in one environment value."""
    found = [(a.group("host"), a.group("port")) for a in _ADDRESS.finditer(value)]
    bare = _BARE.fullmatch(value)
    if not found and bare and variable.upper().rsplit("_", 1)[-1] in _ADDRESS_NAMES:
        found.append((bare.group("host"), bare.group("port")))
    return found


def wiring_problems(catalog: Catalog, file: str) -> list[Problem]:
    problems = []
    for name, svc in catalog.services.items():
        for variable, value in svc.environment.items():
            for host, port in addressed_hosts(value, variable):
                target = catalog.services.get(host)
                if target is None or host == name:
                    continue  # an outside host (Qdrant Cloud, SMTP relay), or itself
                at = f"services.{name}.environment.{variable}"
                if host not in svc.dependencies:
                    problems.append(Problem(
                        file, at, f"addresses {host}, which is not in depends_on: the network would not let it through",
                        f"add `{host}: {{condition: service_started}}` to services.{name}.depends_on"))
                if port is not None and target.port is not None and int(port) != target.port:
                    problems.append(Problem(file, at, f"addresses {host} on port {port}, but {host} listens on {target.port}",
                                            f"use port {target.port}, or fix services.{host}.port"))
    return problems
