"""`--policy-config FILE`: the JSON that `pulumi preview --policy-pack-config FILE` reads, checked and resolved.

Shape: `{"all": "mandatory", "<policy>": "advisory" | {"enforcementLevel": "...", "<setting>": value}}`.
As the engine does, a policy's own level wins over `all`, which wins over the pack's default, and each
policy is configured with its settings' schema defaults filled in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from catalog.errors import InputError, Problem
from ops.analyzer import LEVEL_CODES, PackInfo, PolicySetting
from policies.devtools_policy.values import matches_schema


def read_policy_config(path: str) -> dict[str, Any]:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError([Problem(path, "(file)", "file not found", "pass the path of a policy config JSON file")]) from None
    except json.JSONDecodeError as exc:
        raise InputError([Problem(path, f"line {exc.lineno}, column {exc.colno}", f"is not valid JSON: {exc.msg}",
                                  "fix the JSON syntax there")]) from None
    if not isinstance(raw, dict):
        raise InputError([Problem(path, "(top level)", "is not a JSON object", 'write {"<policy>": {"enforcementLevel": "advisory"}}')])
    return raw


def _level(value: Any, file: str, key: str, problems: list[Problem]) -> str | None:
    if value is None:
        return None
    if value not in LEVEL_CODES:
        problems.append(Problem(file, key, f"enforcement level {value!r} is not one of {', '.join(LEVEL_CODES)}",
                                "use advisory, mandatory, remediate or disabled"))
        return None
    return value


def resolve(config: dict[str, Any], info: PackInfo, file: str = "policy config") -> dict[str, PolicySetting]:
    """Every policy's level and settings; InputError naming the file and key for anything wrong."""
    problems: list[Problem] = []
    all_value = config.get("all")
    all_level = _level(all_value.get("enforcementLevel") if isinstance(all_value, dict) else all_value, file, "all", problems)
    for name in config:
        if name != "all" and info.policy(name) is None:
            problems.append(Problem(file, name, f"names no policy of pack {info.name}",
                                    f"use one of {', '.join(sorted(p.name for p in info.policies))}"))
    settings: dict[str, PolicySetting] = {}
    for policy in info.policies:
        given = config.get(policy.name, {})
        if isinstance(given, str):
            given = {"enforcementLevel": given}
        if not isinstance(given, dict):
            problems.append(Problem(file, policy.name, "is neither a level nor an object", 'write "advisory" or {"enforcementLevel": ...}'))
            continue
        level = _level(given.get("enforcementLevel"), file, f"{policy.name}.enforcementLevel", problems)
        properties = {key: schema["default"] for key, schema in policy.config_schema.items() if "default" in schema}
        for key, value in given.items():
            if key == "enforcementLevel":
                continue
            schema = policy.config_schema.get(key)
            if schema is None:
                known = ", ".join(sorted(policy.config_schema)) or "none"
                problems.append(Problem(file, f"{policy.name}.{key}", "is not a setting of this policy", f"settings: {known}"))
            elif not matches_schema(value, schema):
                bounds = "".join(f", {word} {schema[word]:g}" for word in ("minimum", "maximum") if word in schema)
                problems.append(Problem(file, f"{policy.name}.{key}", f"is not of type {schema.get('type')}{bounds}",
                                        f"give a {schema.get('type')} ({schema.get('description', 'see docs/policies.md')})"))
            else:
                properties[key] = value
        settings[policy.name] = PolicySetting(level or all_level or policy.enforcement, properties)
    if problems:
        raise InputError(problems)
    return settings
