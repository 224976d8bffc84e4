"""Variable interpolation as the Compose Specification defines it.

`$VAR` and `${VAR}` substitute; `${VAR:-default}` / `${VAR-default}` fall back when the
variable is unset or empty / unset; `${VAR:?error}` / `${VAR?error}` refuse the file;
`${VAR:+alt}` / `${VAR+alt}` substitute `alt` when it is set (and not empty); `$$` is a
literal `$`. Defaults may themselves hold interpolations (`${A:-${B}}`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class InterpolationError(ValueError):
    """A `${VAR?err}` whose variable is missing, or a malformed `${...}`; `fix` tells what to do."""

    def __init__(self, message: str, fix: str):
        self.fix = fix
        super().__init__(message)


@dataclass
class Interpolator:
    variables: Mapping[str, str]
    missing: set[str] = field(default_factory=set)   # unset, no default: substituted as "" (compose warns)
    used: set[str] = field(default_factory=set)      # every variable a value read

    def text(self, value: str) -> str:
        out, i = [], 0
        while i < len(value):
            char = value[i]
            if char != "$":
                out.append(char)
                i += 1
                continue
            nxt = value[i + 1] if i + 1 < len(value) else ""
            if nxt == "$":
                out.append("$")
                i += 2
            elif nxt == "{":
                end = _closing_brace(value, i + 2)
                if end < 0:
                    raise InterpolationError(f"`{value[i:]}` has no closing brace", "close it with }, or write $$ for a literal $")
                out.append(self._braced(value[i + 2:end]))
                i = end + 1
            else:
                match = NAME.match(value, i + 1)
                if match is None:
                    out.append("$")  # a lone `$` before a non-name, as compose keeps it
                    i += 1
                else:
                    out.append(self._lookup(match.group(0)))
                    i = match.end()
        return "".join(out)

    def _lookup(self, name: str) -> str:
        self.used.add(name)
        if name in self.variables:
            return self.variables[name]
        self.missing.add(name)
        return ""

    def _braced(self, body: str) -> str:
        match = NAME.match(body)
        if match is None:
            raise InterpolationError(f"`${{{body}}}` is not a variable", "write ${NAME}, ${NAME:-default} or ${NAME:?error}")
        name, rest = match.group(0), body[match.end():]
        self.used.add(name)
        value = self.variables.get(name)
        if not rest:
            return self._lookup(name)
        for op in (":-", ":?", ":+", "-", "?", "+"):
            if rest.startswith(op):
                arg = rest[len(op):]
                break
        else:
            raise InterpolationError(f"`${{{body}}}` has an unknown operator", "use :-, -, :?, ?, :+ or +")
        empty_counts = op.startswith(":")
        is_set = value is not None and (value != "" or not empty_counts)
        if op.endswith("-"):
            return value if is_set else self.text(arg)  # type: ignore[return-value]
        if op.endswith("+"):
            return self.text(arg) if is_set else ""
        if not is_set:
            reason = self.text(arg) or "required"
            raise InterpolationError(f"variable {name} is {'unset or empty' if empty_counts else 'unset'}: {reason}",
                                     f"set {name} in the .env file or the environment")
        return value  # type: ignore[return-value]

    def tree(self, node: Any, path: tuple[Any, ...] = (), errors: list | None = None) -> Any:
        """Interpolate every string value of a parsed YAML tree (keys stay as written, as in compose).

        A value that cannot be interpolated is appended to `errors` as (path, InterpolationError)
        and left as written, so every bad value of a file is reported in one pass.
        """
        errors = [] if errors is None else errors
        if isinstance(node, str):
            try:
                return self.text(node)
            except InterpolationError as error:
                errors.append((path, error))
                return node
        if isinstance(node, dict):
            return {k: self.tree(v, (*path, k), errors) for k, v in node.items()}
        if isinstance(node, list):
            return [self.tree(v, (*path, i), errors) for i, v in enumerate(node)]
        return node


def _closing_brace(text: str, start: int) -> int:
    """Index of the `}` closing a `${` whose body starts at `start`, counting nested `${...}`."""
    depth, i = 1, start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1
