"""Read a compose file as `docker compose config` would: YAML with anchors and merges, `.env`,
interpolation, then validation against the Compose Specification's JSON Schema.

Every problem of the file is collected before anything is returned (exit 2 upstream), each
naming the file, the key and the fix; nothing here raises past `ComposeError`.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from dotenv import dotenv_values
from dotenv.parser import parse_stream
from jsonschema import Draft7Validator

from catalog.errors import InputError, Problem
from catalog.model import dotted, read_yaml
from ops.compose.interpolate import Interpolator
from ops.compose.ports import PORT_OR_RANGE, port_mappings

SCHEMA_FILE = Path(__file__).resolve().parent / "schema" / "compose-spec.json"


class ComposeError(InputError):
    """Every problem of a compose file (or its .env), reported together."""


@dataclass(frozen=True)
class ComposeFile:
    path: Path
    label: str
    model: dict[str, Any]                 # interpolated and validated, `x-` keys still in place
    variables: dict[str, str]             # .env overlaid by the process environment, as compose does
    dotenv_keys: frozenset[str]           # keys the .env file defines (where a secret came from)
    missing: frozenset[str]               # unset variables substituted as "" (compose warns)
    lines: dict[tuple[str, ...], int] = field(default_factory=dict)

    @staticmethod
    def key_path(key: str) -> tuple[str, ...]:
        """services.api.volumes[1] -> (services, api, volumes, [1]), the form `line` takes."""
        return tuple(part for piece in key.split(".") for part in re.split(r"(?=\[)", piece) if part)

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        return self.model.get("services") or {}

    def line(self, *path: str) -> int:
        """The line of the deepest known key of `path` (services.<name>.<key>[.<item>]), 1 if none."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1


@functools.lru_cache(maxsize=1)
def _validator() -> Draft7Validator:
    return Draft7Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def read_dotenv(path: Path, label: str, missing_fix: str = "create it, or pass the right path with --env-file"
                ) -> tuple[dict[str, str], list[Problem]]:
    """KEY=VALUE pairs of a .env file (python-dotenv's parser: quotes, comments, `export`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, [Problem(label, "(file)", "file not found", missing_fix)]
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Problem(label, "(file)", f"cannot be read: {exc}", "check its permissions and encoding (UTF-8)")]
    bindings = list(parse_stream(io.StringIO(text)))
    problems = [Problem(label, f"line {binding.original.line}", "is not a KEY=VALUE line",
                        "write it as NAME=value (quote values with spaces or #), or start it with # to comment it out")
                for binding in bindings if binding.error]
    # Only the statements that parsed, so python-dotenv has nothing left to warn about on stderr.
    parsed = "".join(binding.original.string for binding in bindings if not binding.error)
    values = dotenv_values(stream=io.StringIO(parsed), interpolate=True)
    return {k: v for k, v in values.items() if v is not None}, problems


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Line of each top-level key, each service and each of a service's keys (for SARIF and evidence)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[str, ...], depth: int) -> None:
        if depth == 0:
            return
        if isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[(*path, f"[{i}]")] = item.start_mark.line + 1
                if isinstance(item, yaml.ScalarNode) and "=" in item.value:  # environment's list form, KEY=VALUE
                    lines.setdefault((*path, item.value.split("=", 1)[0]), item.start_mark.line + 1)
            return
        if not isinstance(node, yaml.MappingNode):
            return
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                lines[(*path, key.value)] = key.start_mark.line + 1
                walk(value, (*path, key.value), depth - 1)

    if root is not None:
        walk(root, (), 4)
    return lines


def load_compose(path: Path, env_file: Path | None = None, environ: Mapping[str, str] | None = None) -> ComposeFile:
    """Parse, interpolate and validate; raise ComposeError listing every problem."""
    label = str(path)
    environ = os.environ if environ is None else environ
    problems: list[Problem] = []
    env_path = env_file or path.parent / ".env"
    dotenv: dict[str, str] = {}
    if env_file is not None or env_path.exists():
        dotenv, env_problems = read_dotenv(env_path, str(env_path))
        problems.extend(env_problems)
    raw, yaml_problems = read_yaml(path, label)
    problems.extend(yaml_problems)
    if yaml_problems:
        raise ComposeError(problems)
    if not isinstance(raw, dict):
        raise ComposeError([*problems, Problem(label, "(top level)", "is not a mapping", "start the file with `services:`")])
    variables = {**dotenv, **{k: v for k, v in environ.items() if isinstance(v, str)}}
    interpolator = Interpolator(variables)
    errors: list = []
    model = interpolator.tree(raw, (), errors)
    for where, error in errors:
        problems.append(Problem(label, dotted(where), str(error), error.fix))
    for error in sorted(_validator().iter_errors(model), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        problems.extend(_schema_problems(error, label))
    problems.extend(_service_problems(model, label))
    if not isinstance(model.get("services"), dict) or not model["services"]:
        if not any(p.key.startswith("services") for p in problems):
            problems.append(Problem(label, "services", "no services are defined", "add at least one service under services:"))
    if problems:
        raise ComposeError(_unique(problems))
    return ComposeFile(path, label, model, variables, frozenset(dotenv), frozenset(interpolator.missing),
                       key_lines(path.read_text(encoding="utf-8")))


def _service_problems(model: dict[str, Any], label: str) -> list[Problem]:
    """What the schema lets through but the importer must read: port forms and the x-devtools extension."""
    problems = []
    services = model.get("services")
    for name, svc in (services.items() if isinstance(services, dict) else []):
        if not isinstance(svc, dict):
            continue
        if isinstance(svc.get("ports"), list):
            try:
                port_mappings(svc["ports"])
            except ValueError as error:
                problems.append(Problem(label, f"services.{name}.ports", str(error),
                                        "write it like 8080:80, 127.0.0.1:8080:80 or {target: 80, published: 8080}"))
            except KeyError:
                pass  # a long form without target: the schema reports it
        for i, entry in enumerate(svc.get("expose") or [] if isinstance(svc.get("expose"), list) else []):
            if not PORT_OR_RANGE.match(str(entry)):
                problems.append(Problem(label, f"services.{name}.expose[{i}]", "is not a port number", "write a number such as 8080"))
        extension = svc.get("x-devtools")
        if extension is not None and not isinstance(extension, dict):
            problems.append(Problem(label, f"services.{name}.x-devtools", "is not a mapping",
                                    "write it like x-devtools: {role: agent, route: {path_prefix: /api}}"))
        elif isinstance(extension, dict) and "port" in extension and not str(extension["port"]).isdigit():
            problems.append(Problem(label, f"services.{name}.x-devtools.port", "is not a port number", "write a number such as 8080"))
    return problems


def _schema_problems(error, label: str) -> list[Problem]:
    where = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        extra = [k for k in error.instance if k not in known and not any(p.search(str(k)) for p in patterns)]
        return [Problem(label, dotted((*where, key)), "is not a key of the Compose Specification",
                        "remove it, check its spelling, or prefix it with x- to keep it as an extension") for key in extra]
    # Messages name the rule, never the value: a value may be a credential.
    if error.validator in ("oneOf", "anyOf"):
        message = "is not a form this key accepts"
    elif error.validator == "type":
        message = f"must be of type {' or '.join(error.validator_value) if isinstance(error.validator_value, list) else error.validator_value}"
    elif error.validator == "enum":
        message = f"must be one of {', '.join(map(str, error.validator_value))}"
    elif error.validator == "required":
        message = error.message  # names the missing key only
    else:
        message = f"does not satisfy the schema's {error.validator} rule"
    return [Problem(label, dotted(where), message, "correct it as the Compose Specification describes this key")]


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
