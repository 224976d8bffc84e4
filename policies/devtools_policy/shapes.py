"""The shape of the inputs the rules read: a property of the wrong type is reported, not skipped.

The rules read lists, booleans and objects where the providers' schemas have them. A value of
another type (a string where a list of addresses belongs, `"yes"` for a boolean) would make a rule
see nothing and pass: this module says which properties have which type, and `shape_problems`
lists every one that does not, so the pack fails closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .docker import CONTAINER
from .host_rules import DROPLET, FIREWALL
from .values import is_unknown, type_name

LIST, OBJECT, BOOL, TEXT, NUMBER, NUMERIC = "a list", "an object", "a boolean", "a string", "a number", "numeric"

# property -> expected type, and for lists the shape of each item (a type, or a dict of item fields).
SHAPES: dict[str, dict[str, Any]] = {
    CONTAINER: {
        "image": TEXT, "restart": TEXT, "networkMode": TEXT, "pidMode": TEXT, "ipcMode": TEXT, "usernsMode": TEXT,
        "cgroupnsMode": TEXT, "cgroupParent": TEXT, "logDriver": TEXT, "user": TEXT,
        "privileged": BOOL, "readOnly": BOOL, "publishAllPorts": BOOL,
        "memory": NUMERIC, "memoryReservation": NUMERIC, "cpus": NUMERIC, "cpuShares": NUMERIC, "maxRetryCount": NUMERIC,
        "envs": (LIST, TEXT), "command": (LIST, TEXT), "entrypoints": (LIST, TEXT), "securityOpts": (LIST, TEXT),
        "labels": (LIST, {"label": TEXT, "value": TEXT}),
        "uploads": (LIST, {"file": TEXT, "content": TEXT, "contentBase64": TEXT}),
        "ports": (LIST, {"external": NUMERIC, "internal": NUMERIC, "ip": TEXT, "protocol": TEXT}),
        "volumes": (LIST, {"hostPath": TEXT, "containerPath": TEXT, "volumeName": TEXT, "readOnly": BOOL}),
        "mounts": (LIST, {"source": TEXT, "target": TEXT, "type": TEXT, "readOnly": BOOL}),
        "devices": (LIST, {"hostPath": TEXT}),
        "networksAdvanced": (LIST, {"name": TEXT}),
        "ulimits": (LIST, {"name": TEXT, "soft": NUMERIC, "hard": NUMERIC}),
        "capabilities": {"adds": (LIST, TEXT), "drops": (LIST, TEXT)},
        "healthcheck": {"tests": (LIST, TEXT)},
        "logOpts": OBJECT,
    },
    DROPLET: {"size": TEXT, "backups": BOOL, "monitoring": BOOL, "tags": (LIST, TEXT)},
    FIREWALL: {"inboundRules": (LIST, {"protocol": TEXT, "portRange": TEXT, "sourceAddresses": (LIST, TEXT)})},
}


def _fits(value: Any, kind: str) -> bool:
    if kind == TEXT:
        return isinstance(value, str)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == OBJECT:
        return isinstance(value, Mapping)
    if kind == NUMERIC:  # a number, or a number written as text (pulumi-docker's cpus)
        if isinstance(value, bool):
            return False
        try:
            float(value)
        except (TypeError, ValueError):
            return False
        return True
    return True


def _problems(where: str, value: Any, shape: Any) -> list[str]:
    if value is None or is_unknown(value):
        return []
    if isinstance(shape, str):
        return [] if _fits(value, shape) else [f"{where} is {type_name(value)}, not {shape}"]
    if isinstance(shape, tuple):  # (LIST, item shape)
        if not isinstance(value, list):
            return [f"{where} is {type_name(value)}, not a list"]
        return [p for i, item in enumerate(value) for p in _problems(f"{where}[{i}]", item, shape[1])]
    if not isinstance(value, Mapping):  # a dict of fields
        return [f"{where} is {type_name(value)}, not an object"]
    return [p for key, field in shape.items() for p in _problems(f"{where}.{key}", value.get(key), field)]


def shape_problems(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    shape = SHAPES.get(resource_type)
    if shape is None:
        return []
    return [f"{problem}: the pack cannot judge it" for key, field in shape.items()
            for problem in _problems(key, props.get(key), field)]
