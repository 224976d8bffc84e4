"""Resource inputs as the rules see them: plain data, secrets unwrapped, unknown values marked.

The engine sends inputs in its wire form: a secret is `{SIG_KEY: SECRET_SIG, "value": ...}` and a
value not known yet (on a first preview) is one of a few sentinel strings. The policy SDK unwraps
secrets before a policy runs and raises when a policy reads an unknown value, which would abort the
whole policy. The rules instead receive plain data in which every unknown value is the `UNKNOWN`
marker, so each rule decides, value by value, what it can still judge.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

# The engine's sentinels for unknown values of each type (pulumi_policy.proxy, sdk/go/common/resource).
UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string (also what the engine sends for any computed value)
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


class _Unknown:
    """A value the engine does not know yet. Falsy is deliberately not defined: test with `is UNKNOWN`."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def is_unknown(value: object) -> bool:
    return value is UNKNOWN


def from_wire(value: Any) -> Any:
    """Wire form -> rule form: secrets unwrapped (as the SDK does), unknown sentinels -> UNKNOWN."""
    if isinstance(value, str):
        return UNKNOWN if value in UNKNOWN_SENTINELS else value
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return from_wire(value.get("value"))
        return {key: from_wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_wire(item) for item in value]
    return value


def is_hashable(value: Any) -> bool:
    """Whether the value can be a key (a list or a mapping in the inputs cannot)."""
    try:
        hash(value)
    except TypeError:
        return False
    return True


def as_list(value: Any) -> list[Any]:
    """A list input, or [] when absent; an unknown list also yields [] (callers that must tell the
    difference check `is_unknown` first)."""
    return value if isinstance(value, list) else []


def type_name(value: Any) -> str:
    """How a finding names a value's type, in JSON's words (the engine's inputs are JSON)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return "null" if value is None else type(value).__name__


def not_a_list(props: Mapping[str, Any], key: str) -> str | None:
    """A finding when `key` is present, known and not a list: the rule cannot read it, so it fails closed."""
    value = props.get(key)
    if value is None or is_unknown(value) or isinstance(value, list):
        return None
    return f"{key} is {type_name(value)}, not a list: it cannot be judged"


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "number": (int, float), "integer": (int,), "boolean": (bool,),
    "array": (list,), "object": (dict,),
}


def matches_schema(value: Any, schema: Mapping[str, Any]) -> bool:
    """Whether a policy setting fits its JSON schema (type, items, additionalProperties, minimum, maximum)."""
    expected = _JSON_TYPES.get(str(schema.get("type")))
    if expected is None:
        return True
    if isinstance(value, bool) and bool not in expected:
        return False
    # Settings arrive over gRPC as a protobuf Struct, where every number is a float: 80.0 is an integer.
    whole_float = isinstance(value, float) and value.is_integer()
    if not isinstance(value, expected) and not (int in expected and whole_float):
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != value or ("minimum" in schema and value < schema["minimum"]) or (
                "maximum" in schema and value > schema["maximum"]):
            return False
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return all(matches_schema(item, schema["items"]) for item in value)
    if isinstance(value, dict) and isinstance(schema.get("additionalProperties"), Mapping):
        return all(matches_schema(item, schema["additionalProperties"]) for item in value.values())
    return True


def leaves(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    """Every scalar in nested mappings and lists, with its path (`a.b[0]`)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from leaves(f"{prefix}.{key}" if prefix else str(key), item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaves(f"{prefix}[{i}]", item)
    else:
        yield prefix, value
