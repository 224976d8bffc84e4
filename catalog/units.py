"""Compose-style quantities: memory like `512M` or `1.5G`, CPUs like `0.5`, durations like `30s`.

Bounds are what the consumers accept: Docker refuses a memory limit under 6 MiB and a CPU
count under 0.01 (its `--cpus` granularity), and counts both in 64-bit integers; no droplet
has more than 1 TiB of memory or 256 vCPUs, so larger values are typing mistakes.
"""

from __future__ import annotations

import math
import re

from catalog.errors import Invalid

_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmg]?)b?\s*$", re.I)
_FACTORS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
MIN_MEMORY, MAX_MEMORY = 6 * 1024**2, 1024**4
MIN_CPUS, MAX_CPUS = 0.01, 256.0
MAX_DURATION = 24 * 3600.0


def parse_memory(value: object) -> int:
    """Bytes in a compose memory quantity (binary units, as Docker reads them)."""
    if isinstance(value, bool):
        raise Invalid(f"{value!r} is not a memory size", "write it like 512M or 1.5G")
    if isinstance(value, int):
        num_bytes = value
    else:
        match = _MEMORY.match(value) if isinstance(value, str) else None
        if not match:
            raise Invalid(
                f"{value!r} is not a memory size", "write it like 512M or 1.5G (units: K, M, G)"
            )
        number, unit = match.groups()
        num_bytes = int(float(number) * _FACTORS[unit.lower()])
    if num_bytes < MIN_MEMORY:
        raise Invalid(f"{value!r} is below the 6M Docker accepts", "write at least 6M, such as 64M")
    if num_bytes > MAX_MEMORY:
        raise Invalid(f"{value!r} is more memory than any droplet has", "write a size below 1024G, such as 2G")
    return num_bytes


def parse_cpus(value: object) -> float:
    """A CPU count such as 0.5 or "1.5"."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Invalid(f"{value!r} is not a CPU count", "write a number such as 0.5 or 2")
    try:
        cpus = float(value)
    except ValueError:
        raise Invalid(f"{value!r} is not a CPU count", "write a number such as 0.5 or 2") from None
    if not math.isfinite(cpus) or not MIN_CPUS <= cpus <= MAX_CPUS:
        raise Invalid(f"{value!r} CPUs is outside {MIN_CPUS:g}-{MAX_CPUS:g}", "write a number such as 0.25 or 2 (at least 0.01)")
    return cpus


_DURATION_PART = re.compile(r"(\d+)(ms|h|m|s)")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(value: object) -> float:
    """Seconds in a compose duration such as `30s`, `1m30s` or `500ms`."""
    text = value.strip() if isinstance(value, str) else ""
    parts = _DURATION_PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise Invalid(f"{value!r} is not a duration", "write it like 10s, 1m30s or 500ms")
    seconds = sum(int(n) * _SECONDS[u] for n, u in parts)
    if seconds > MAX_DURATION:
        raise Invalid(f"{value!r} is longer than a day", "write a duration of at most 24h, such as 30s")
    return seconds


def megabytes(num_bytes: int) -> int:
    """Whole MiB, the unit Docker's memory arguments take."""
    return num_bytes // 1024**2
