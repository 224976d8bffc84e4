"""Which label sets hold every one of some required labels, found without comparing each requirement
with each set: what selectors and Prometheus's `keep` relabelling ask of a plan's pods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .values import is_hashable


class LabelIndex:
    """Label mappings (a pod's labels, what a discovered target offers) indexed by (key, value).

    `matching(required)` is the positions of the mappings in which every required key has its value,
    exactly as comparing each mapping would find them (`labels.get(key) == value` for every item). The
    candidates are the shortest list among the required labels' own, so asking once per selector costs
    about what the plan holds, not selectors times label sets. A required value that cannot be looked
    up (None, which an absent label also gives; a list or a mapping) narrows nothing and is only
    compared; when no required label can be looked up, every set is compared.
    """

    def __init__(self, label_sets: Sequence[Mapping[Any, Any]]) -> None:
        self._sets = list(label_sets)
        self._by_label: dict[tuple[Any, Any], list[int]] = {}
        for position, labels in enumerate(self._sets):
            for item in labels.items():
                if is_hashable(item):
                    self._by_label.setdefault(item, []).append(position)

    def matching(self, required: Mapping[Any, Any]) -> list[int]:
        items = list(required.items())
        filed = [self._by_label.get(item, []) for item in items if item[1] is not None and is_hashable(item)]
        candidates: Sequence[int] = min(filed, key=len) if filed else range(len(self._sets))
        return [position for position in candidates
                if all(self._sets[position].get(key) == value for key, value in items)]
