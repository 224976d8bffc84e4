"""Safe YAML loading for the project's input files, where a value that does not hold its type is a YAML error.

PyYAML's safe loader resolves a plain scalar's type from its look, or takes it from a tag, and then
converts it; a scalar that has the look but not a valid value raises ValueError, KeyError or
AttributeError instead of a YAML error: a date such as `2024-13-45`, `!!int x`, `!!bool maybe`,
`!!timestamp noon`. Readers that turn YAML errors into refusals let those through as tracebacks.
Here such a scalar is a ConstructorError at its line and column, naming the fix.

The loader is libyaml's where PyYAML has it (the wheels do; the pure-Python parser is about ten times
slower). This module imports nothing but PyYAML, so the preview's head start (ops/preview_command.py)
reads the stack file with it before the rest of the project loads.
"""

from __future__ import annotations

from typing import Any

import yaml

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The scalar types PyYAML converts (text and null are taken as they are), as an error names them.
_CONVERTED = {"bool": "a boolean", "int": "an integer", "float": "a number", "timestamp": "a date"}
_NOT_OF_ITS_TYPE = (ValueError, KeyError, AttributeError, OverflowError, TypeError)


class SafeLoader(_Base):  # type: ignore[misc, valid-type]
    """yaml's safe loader, refusing a scalar that does not hold a value of its type."""


def _checked(construct):
    def scalar(loader: SafeLoader, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except _NOT_OF_ITS_TYPE:
            kind = _CONVERTED[node.tag.rsplit(":", 1)[-1]]
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} reads as {kind} but is not a valid one (quote it to keep it as text)",
                node.start_mark) from None

    return scalar


for _kind in _CONVERTED:
    _tag = f"tag:yaml.org,2002:{_kind}"
    SafeLoader.add_constructor(_tag, _checked(SafeLoader.yaml_constructors[_tag]))


def load(text: str | bytes) -> Any:
    """The document yaml.safe_load gives; a value not of its type raises a YAMLError, as bad syntax does."""
    return yaml.load(text, Loader=SafeLoader)
