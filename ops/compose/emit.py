"""Write a catalog document as YAML with the importer's review comments beside the keys they concern.

PyYAML drops comments, so the layout is written here: block mappings for structure, flow style
for leaves (a list of strings, a small mapping), each `notes[path]` as `# REVIEW:` lines above
its key. Keys keep the order the importer built, so the same input writes the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

Notes = Mapping[tuple[str, ...], Sequence[str]]


def flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, allow_unicode=True, sort_keys=False).strip()
    return text[: -len("...")].strip() if text.endswith("...") else text


def _is_leaf(value: Any) -> bool:
    if isinstance(value, Mapping):
        return len(value) <= 4 and all(not isinstance(v, (Mapping, list)) or (isinstance(v, Mapping) and _is_leaf(v))
                                       for v in value.values()) and len(flow(value)) <= 100
    if isinstance(value, list):
        return all(not isinstance(v, (Mapping, list)) for v in value) and len(flow(value)) <= 100
    return True


def emit(document: Mapping[str, Any], notes: Notes, header: Sequence[str] = ()) -> str:
    lines = [f"# {line}" if line else "#" for line in header]
    _mapping(document, (), 0, notes, lines)
    return "\n".join(lines) + "\n"


def _mapping(node: Mapping[str, Any], path: tuple[str, ...], depth: int, notes: Notes, lines: list[str]) -> None:
    indent = "  " * depth
    for key, value in node.items():
        here = (*path, key)
        if depth == 1 and path == ("services",) and lines[-1] != "services:":
            lines.append("")  # a blank line between services
        lines.extend(f"{indent}# REVIEW: {note}" for note in notes.get(here, ()))
        name = flow(key)
        if _is_leaf(value) and not (depth < 2 and isinstance(value, Mapping) and value):
            lines.append(f"{indent}{name}: {flow(value)}")
        elif isinstance(value, Mapping):
            lines.append(f"{indent}{name}:")
            _mapping(value, here, depth + 1, notes, lines)
        else:
            lines.append(f"{indent}{name}:")
            for i, item in enumerate(value):
                lines.extend(f"{indent}  # REVIEW: {note}" for note in notes.get((*here, str(i)), ()))
                lines.append(f"{indent}  - {flow(item)}")
