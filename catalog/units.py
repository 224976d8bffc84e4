"""Compose-style quantities: memory like `512M` or `1.5G`, CPUs like `0.5`, durations like `30s`."""

from __future__ import annotations

import re

from catalog.errors import Invalid

_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmg]?)b?\s*$", re.I)
_FACTORS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_memory(value: object) -> int:
    """Bytes in a compose memory quantity (binary units, as Docker reads them)."""
    if isinstance(value, bool):
        raise Invalid(f"{value!r} is not a memory size", "write it like 512M or 1.5G")
    if isinstance(value, int):
        return value
    match = _MEMORY.match(str(value))
    if not match:
        raise Invalid(
            f"{value!r} is not a memory size", "write it like 512M or 1.5G (units: K, M, G)"
        )
    number, unit = match.groups()
    return int(float(number) * _FACTORS[unit.lower()])


def parse_cpus(value: object) -> float:
    """A CPU count such as 0.5 or "1.5"."""
    try:
        cpus = float(str(value))
    except ValueError:
        raise Invalid(f"{value!r} is not a CPU count", "write a number such as 0.5 or 2") from None
    if cpus <= 0:
        raise Invalid(f"{value!r} CPUs is not positive", "write a number above 0, such as 0.25")
    return cpus


_DURATION_PART = re.compile(r"(\d+)(ms|h|m|s)")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(value: object) -> float:
    """Seconds in a compose duration such as `30s`, `1m30s` or `500ms`."""
    text = str(value).strip()
    parts = _DURATION_PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise Invalid(f"{value!r} is not a duration", "write it like 10s, 1m30s or 500ms")
    return sum(int(n) * _SECONDS[u] for n, u in parts)


def format_memory(num_bytes: int) -> str:
    """The shortest exact compose form, for reports: 536870912 -> 512M."""
    for unit in ("G", "M", "K"):
        factor = _FACTORS[unit.lower()]
        if num_bytes % factor == 0:
            return f"{num_bytes // factor}{unit}"
    return f"{num_bytes / 1024**2:.1f}M"


def megabytes(num_bytes: int) -> int:
    """Whole MiB, the unit Docker's memory arguments take."""
    return num_bytes // 1024**2
