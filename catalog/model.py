"""Shared plumbing for the input models: strict pydantic models, YAML loading, error mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, WithJsonSchema

from catalog import yaml_dumper, yaml_loader
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


def load_yaml(text: str) -> Any:
    """The document yaml.safe_load gives (catalog/yaml_loader.py: libyaml's parser, and a value not of
    its type a YAML error)."""
    return yaml_loader.load(text)


PROGRAM_DIR = Path(__file__).resolve().parent.parent
# No catalog or stack file nests deeper than a handful of levels; past this the parser would
# exhaust Python's stack, so such a file is refused as a whole.
MAX_DEPTH = 64

def dump_yaml(document: Any, width: int = 200) -> str:
    """A config file's YAML, keys in the order the renderer built them (catalog/yaml_dumper.py)."""
    return yaml_dumper.dump(document, width)


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
    except UnicodeDecodeError as exc:
        return None, [Problem(label, f"byte {exc.start}", "is not UTF-8 text", "save the file as UTF-8")]
    except OSError as exc:
        return None, [Problem(label, "(file)", f"cannot be read: {exc.strerror}", "check its permissions")]
    if "\x00" in text:
        return None, [Problem(label, "(file)", "holds a NUL character", "save it as plain UTF-8 text")]
    too_deep = [Problem(label, "(file)", f"nests lists or mappings deeper than {MAX_DEPTH} levels",
                        "flatten it: no input of this project nests that deep")]
    try:
        document = yaml_loader.load_unique(text)
    except RecursionError:
        return None, too_deep
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        detail = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(label, where, f"is not valid YAML: {detail}", "fix the YAML syntax there")]
    return (None, too_deep) if nesting_depth(document) > MAX_DEPTH else (document, [])


def nesting_depth(document: Any) -> int:
    """How deep lists and mappings nest (iteratively: the value may be deeper than Python's stack)."""
    deepest, pending = 0, [(document, 1)]
    seen: set[int] = set()
    while pending:
        value, depth = pending.pop()
        if isinstance(value, (dict, list)):
            if id(value) in seen:  # a YAML alias shares one object; count it once
                continue
            seen.add(id(value))
            deepest = max(deepest, depth)
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
    return deepest


def dotted(loc: tuple[Any, ...]) -> str:
    """("services", "redis", "deploy") -> services.redis.deploy; list indexes as [n]."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


# A specific fix for the type errors pydantic reports, by its error type.
_TYPE_FIXES = {
    "list_type": "write it as a YAML list, such as [a, b]",
    "dict_type": "write it as a mapping, such as {key: value}",
    "model_type": "write it as a mapping of the documented keys",
    "string_type": "write it as text (quote it if it looks like a number or a boolean)",
    "int_type": "write a whole number", "int_parsing": "write a whole number", "int_from_float": "write a whole number",
    "bool_type": "write true or false", "bool_parsing": "write true or false",
    "float_type": "write a number", "float_parsing": "write a number",
    "literal_error": "use one of the values the message lists",
    "too_short": "add at least one entry",
    "greater_than_equal": "raise it to the minimum the message names",
    "less_than_equal": "lower it to the maximum the message names",
}


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
            problems.append(Problem(file, key, err["msg"], _TYPE_FIXES.get(err["type"], "correct the value's type or form")))
    return problems
