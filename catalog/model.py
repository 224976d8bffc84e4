"""Shared plumbing for the input models: strict pydantic models, YAML loading, error mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, WithJsonSchema

from catalog.errors import Invalid, Problem
from catalog.units import parse_cpus, parse_duration, parse_memory


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must not silently drop a limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# The JSON Schema (ops/schema.py) describes these as written in YAML, not as parsed.
MemoryBytes = Annotated[int, BeforeValidator(parse_memory), WithJsonSchema(
    {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[bBkKmMgG]?[bB]?\s*$"}],
     "description": "bytes, or a size like 512M or 1.5G"})]
Cpus = Annotated[float, BeforeValidator(parse_cpus), WithJsonSchema(
    {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "pattern": r"^\d+(\.\d+)?$"}],
     "description": "CPUs, such as 0.5 or \"1.5\""})]
Seconds = Annotated[float, BeforeValidator(parse_duration), WithJsonSchema(
    {"type": "string", "pattern": r"^\s*(\d+(ms|h|m|s))+\s*$", "description": "a duration like 30s, 1m30s or 500ms"})]


# libyaml's parser when PyYAML was built with it: the catalog is read on every preview.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *anchor` merges defaults; keys written beside it override them
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} appears twice (first on line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


PROGRAM_DIR = Path(__file__).resolve().parent.parent

# libyaml's emitter when PyYAML was built with it: rule files grow with the catalog.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_yaml(document: Any, width: int = 200) -> str:
    """A config file's YAML, keys in the order the renderer built them."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=width, allow_unicode=True)


def display_path(path: Path) -> str:
    """A path as an error message shows it: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(PROGRAM_DIR))
    except ValueError:
        return str(path)


def read_yaml(path: Path, label: str) -> tuple[Any, list[Problem]]:
    """Parse a YAML file; a missing file or a syntax error becomes a Problem, not a traceback."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Problem(label, "(file)", "file not found", f"create {label} or pass the right path")]
    except OSError as exc:
        return None, [Problem(label, "(file)", f"cannot be read: {exc.strerror}", "check its permissions")]
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        detail = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(label, where, f"is not valid YAML: {detail}", "fix the YAML syntax there")]


def dotted(loc: tuple[Any, ...]) -> str:
    """("services", "redis", "deploy") -> services.redis.deploy; list indexes as [n]."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def problems_from_validation(exc: ValidationError, file: str, prefix: tuple[Any, ...] = ()) -> list[Problem]:
    """Map pydantic's errors to Problems, keeping the fix a validator attached (Invalid)."""
    problems = []
    for err in exc.errors():
        # Pydantic appends the union member or function name to the location; drop those.
        loc = prefix + tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
        key = dotted(loc)
        error = err.get("ctx", {}).get("error")
        if isinstance(error, Invalid):
            problems.append(Problem(file, key, str(error), error.fix))
        elif err["type"] == "extra_forbidden":
            problems.append(Problem(file, key, "is not a known key", "remove it, or check its spelling"))
        elif err["type"] == "missing":
            problems.append(Problem(file, key, "is required but missing", f"add {loc[-1]}"))
        else:
            problems.append(Problem(file, key, err["msg"], "correct the value's type or form"))
    return problems
