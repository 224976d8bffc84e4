"""Safe YAML loading for the project's input files, where a value that does not hold its type is a YAML error,
and a key written twice in a mapping too.

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

from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
# The scalar types PyYAML converts (text and null are taken as they are), as an error names them.
_CONVERTED = {"bool": "a boolean", "int": "an integer", "float": "a number", "timestamp": "a date"}
_NOT_OF_ITS_TYPE = (ValueError, KeyError, AttributeError, OverflowError, TypeError)


class SafeLoader(_Base):  # type: ignore[misc, valid-type]
    """yaml's safe loader, refusing a scalar that does not hold a value of its type."""


def _checked(construct):
    def scalar(loader: SafeLoader, node: ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except _NOT_OF_ITS_TYPE:
            kind = _CONVERTED[node.tag.removeprefix(_TAG)]
            raise ConstructorError(
                None, None, f"{node.value!r} reads as {kind} but is not a valid one (quote it to keep it as text)",
                node.start_mark) from None

    return scalar


for _kind in _CONVERTED:
    SafeLoader.add_constructor(_TAG + _kind, _checked(SafeLoader.yaml_constructors[_TAG + _kind]))


def load(text: str | bytes) -> Any:
    """The document yaml.safe_load gives; a value not of its type raises a YAMLError, as bad syntax does."""
    return yaml.load(text, Loader=SafeLoader)


_STR, _SEQ, _MAP, _MERGE = (_TAG + name for name in ("str", "seq", "map", "merge"))
_BUILDING = object()  # a collection's mark while its items are built: an alias to it then is a cycle


def _check_keys(node: MappingNode, key_of: Callable[[Node], Any]) -> None:
    """Refuse a key written twice in one mapping, or one that is a list or mapping. Keys merged in
    (`<<: *anchor`) are defaults: a key written beside them overrides them."""
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE:
            continue
        key = key_of(key_node)
        try:
            hash(key)
        except TypeError:
            raise ConstructorError(None, None, "a key must be text or a number, not a list or mapping",
                                   key_node.start_mark) from None
        if key in seen:
            raise ConstructorError(None, None, f"key {key!r} appears twice (first on line {seen[key] + 1})",
                                   key_node.start_mark)
        seen[key] = key_node.start_mark.line


class UniqueKeyLoader(SafeLoader):
    """The safe loader, refusing a key given twice in one mapping (PyYAML keeps the last).

    A document is built depth first, in the order it is written. PyYAML's own construction defers
    each mapping's items to a later round through generators, and goes through its general lookup for
    every value; at 2000 services the catalog took 1.7 s to read that way. In document order an
    anchor's mapping is built (and its keys checked) before any alias merges it, as `_check_keys`
    needs; an alias inside the very mapping or list it names is refused, as no input nests itself.
    Nodes of other tags (`!!set`, `!!omap`, `!!pairs`) go PyYAML's way.
    """

    def construct_document(self, node: Node) -> Any:
        built: dict[Node, Any] = {}

        def build(node: Node) -> Any:
            if isinstance(node, ScalarNode):
                if node.tag == _STR:
                    return node.value
                construct = self.yaml_constructors.get(node.tag)
                return construct(self, node) if construct is not None else self.construct_object(node, deep=True)
            if node in built:
                if built[node] is _BUILDING:
                    raise ConstructorError(None, None, "an alias refers to the mapping or list it is inside",
                                           node.start_mark)
                return built[node]
            built[node] = _BUILDING
            if isinstance(node, SequenceNode) and node.tag == _SEQ:
                value: Any = [build(item) for item in node.value]
            elif isinstance(node, MappingNode) and node.tag == _MAP:
                _check_keys(node, build)
                self.flatten_mapping(node)
                value = {}
                for key_node, value_node in node.value:
                    key = build(key_node)
                    try:
                        hash(key)
                    except TypeError:  # a merged key: those written here were checked above
                        raise ConstructorError("while constructing a mapping", node.start_mark, "found unhashable key",
                                               key_node.start_mark) from None
                    value[key] = build(value_node)
            else:
                value = self.construct_object(node, deep=True)
            built[node] = value
            return value

        try:
            return build(node)
        finally:  # as PyYAML leaves its constructor after a document
            self.constructed_objects, self.recursive_objects, self.deep_construct = {}, {}, False


def _construct_mapping(loader: UniqueKeyLoader, node: MappingNode, deep: bool = False) -> dict:
    """A mapping PyYAML's own way builds (inside a `!!set` or `!!omap`), its keys checked the same."""
    _check_keys(node, lambda key_node: loader.construct_object(key_node, deep=deep))
    return loader.construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(_MAP, _construct_mapping)


def load_unique(text: str | bytes) -> Any:
    """As `load`, refusing a key given twice in one mapping."""
    return yaml.load(text, Loader=UniqueKeyLoader)
