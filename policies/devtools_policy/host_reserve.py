"""The memory a droplet keeps for its host, declared once on the droplet itself.

The stack setting `devtools:hostMemoryReserve` becomes a droplet tag `devtools-host-reserve-mib:<MiB>`
(DigitalOcean tags hold letters, digits, `:`, `-` and `_`), so the capacity report and the
memory-capacity policy read the same declared value from the plan.
"""

from __future__ import annotations

from typing import Any

from .values import UNKNOWN, as_list, is_unknown

TAG_PREFIX = "devtools-host-reserve-mib:"
MIB = 1024**2


def host_reserve_tag(reserve_bytes: int) -> str:
    return f"{TAG_PREFIX}{reserve_bytes // MIB}"


def declared_reserve(tags: Any) -> Any:
    """Bytes the droplet's tag declares; None when no such tag, UNKNOWN when the tags are not known yet,
    and a ValueError for a tag that is not a whole number of MiB (the policy treats it as a finding)."""
    if is_unknown(tags):
        return UNKNOWN
    values = [t[len(TAG_PREFIX):] for t in as_list(tags) if isinstance(t, str) and t.startswith(TAG_PREFIX)]
    if not values:
        return UNKNOWN if any(is_unknown(t) for t in as_list(tags)) else None
    if len(values) != 1 or not values[0].isdigit():
        raise ValueError(f"tag {TAG_PREFIX}{'/'.join(values)} is not one whole number of MiB")
    return int(values[0]) * MIB
