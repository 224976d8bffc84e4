"""Show a recorded plan: as a tree grouped by component, or as one JSON document. Secrets masked."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pulumi.runtime import rpc

from ops.engine import Recorded, is_unknown
from policies.devtools_policy.docker import CONTAINER

MASK = "[secret]"
UNKNOWN_TEXT = "[unknown]"


@dataclass(frozen=True)
class Violation:
    policy: str
    enforcement: str  # "mandatory" | "advisory" | "remediate" | "disabled"
    severity: str
    urn: str | None   # None for a stack-level violation
    message: str
    description: str = ""  # the policy's own description: what to do about it


def masked(value: Any) -> Any:
    """A copy of `value` with every Pulumi secret replaced by [secret] and unknowns by [unknown]."""
    if rpc.is_rpc_secret(value):
        return MASK
    if is_unknown(value):
        return UNKNOWN_TEXT
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def to_json(resources: list[Recorded], violations: list[Violation], extra: dict[str, Any]) -> dict[str, Any]:
    return {
        **extra,
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "dependencies": r.dependencies,
                "inputs": masked(r.inputs),
            }
            for r in resources
        ],
        "violations": [asdict(v) for v in violations],
    }


def _summary(r: Recorded) -> str:
    """One line on what matters about a resource, for the tree."""
    i = masked(r.inputs)
    if r.type == CONTAINER:
        nets = ",".join(n.get("name", "?").removeprefix("devtools-") for n in i.get("networksAdvanced", []))
        health = "health ok" if i.get("healthcheck") else "NO HEALTHCHECK"
        ports = ",".join(f"{p.get('external')}->{p.get('internal')}" for p in i.get("ports", []) or [])
        secrets = [e.split("=", 1)[0] for e in i.get("envs", []) if isinstance(e, str) and e.split("=", 1)[0].endswith("_FILE")]
        parts = [
            i.get("image", "?"),
            f"mem {i.get('memoryReservation', '-'):g}/{i.get('memory', '-'):g}M" if isinstance(i.get("memory"), (int, float)) else "mem NO LIMIT",
            f"cpus {i.get('cpus', 'NO LIMIT')}",
            f"restart {i.get('restart', 'NONE')}",
            health,
            f"nets {nets}",
        ]
        if ports:
            parts.append(f"ports {ports}")
        if secrets:
            parts.append(f"secret files {len(secrets)}")
        return " | ".join(parts)
    if r.type == "digitalocean:index/droplet:Droplet":
        return f"{i.get('size')} {i.get('image')} in {i.get('region')} | backups {i.get('backups')} | monitoring {i.get('monitoring')}"
    if r.type == "digitalocean:index/firewall:Firewall":
        rules = [f"{x.get('protocol')}/{x.get('portRange')} from {','.join(x.get('sourceAddresses', []))}" for x in i.get("inboundRules", [])]
        return "inbound " + "; ".join(rules)
    if r.type == "docker:index/network:Network":
        return f"{i.get('name')}{' (internal)' if i.get('internal') else ''}"
    if r.type == "random:index/randomPassword:RandomPassword":
        return f"generated, length {i.get('length')}"
    return ""


def render_tree(resources: list[Recorded], violations: list[Violation]) -> str:
    by_parent: dict[str | None, list[Recorded]] = {}
    urns = {r.urn for r in resources}
    for r in resources:
        by_parent.setdefault(r.parent if r.parent in urns else None, []).append(r)
    flagged = {v.urn for v in violations if v.urn}
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for r in sorted(by_parent.get(parent, []), key=lambda x: (not x.custom, x.type, x.name)):
            short_type = r.type.split(":")[-1] if r.custom else r.type
            mark = " !" if r.urn in flagged else ""
            detail = _summary(r)
            lines.append(f"{'  ' * depth}+ {short_type} {r.name}{mark}" + (f"  [{detail}]" if detail else ""))
            walk(r.urn, depth + 1)

    walk(None, 0)
    return "\n".join(lines)
