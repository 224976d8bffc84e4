"""A stack file's `config:` as the Pulumi runtime sees it: text values, and which keys are secret.

Light to import (no SDK, no catalog), so that `python -m ops preview` can read it to start the
policy pack before loading its own modules; ops/stackfile.py reads the same way, then validates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT = "devtools"


def config_section(stack_file: Any) -> dict | None:
    """The stack file's `config:` mapping (empty if absent), or None when the file or it is no mapping."""
    if not isinstance(stack_file, dict) or not isinstance(stack_file.get("config") or {}, dict):
        return None
    return stack_file.get("config") or {}


def non_text_keys(section: Mapping[Any, Any]) -> list[Any]:
    """Keys of a `config:` mapping that are not text (YAML reads `1:` as a number): no setting's name."""
    return [key for key in section if not isinstance(key, str)]


def unencodable_keys(section: Mapping[Any, Any]) -> list[Any]:
    """Keys whose value the runtime cannot hold: not text, and no JSON either (a date, binary data)."""
    bad = []
    for key, value in section.items():
        if isinstance(value, str):
            continue
        try:
            json.dumps(value)
        except (TypeError, ValueError, RecursionError):
            bad.append(key)
    return bad


def full_key(key: str) -> str:
    """A setting's name as the runtime knows it: a key without a namespace is the project's."""
    return key if ":" in key else f"{PROJECT}:{key}"


def stored_settings(stack_file: Mapping[str, Any]) -> dict[str, Any]:
    """`config:` as written (values not converted), by each key's full name; `x:` and `devtools:x`
    are one setting, so every check reads a value under the name the runtime gives it."""
    return {full_key(key): value for key, value in (stack_file.get("config") or {}).items()}


def same_setting_twice(section: Mapping[Any, Any]) -> list[str]:
    """Keys written both with and without the project's namespace (`x:` and `devtools:x:`)."""
    return [key for key in section if isinstance(key, str) and ":" not in key and f"{PROJECT}:{key}" in section]


def config_from_stack_file(stack_file: Mapping[str, Any]) -> dict[str, str]:
    """`config:` of a Pulumi.<stack>.yaml as the runtime sees it: text, objects as JSON."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in stored_settings(stack_file).items()}


def stack_file_config(stack_file: Mapping[str, Any], catalog_override: str | None = None) -> tuple[dict[str, str], list[str]]:
    """The runtime's config and the (full) keys marked `secure:`, with `--catalog` in place of the stack's own."""
    config = config_from_stack_file(stack_file)
    secret_keys = [k for k, v in stored_settings(stack_file).items() if isinstance(v, dict) and "secure" in v]
    if catalog_override:
        config[f"{PROJECT}:catalog"] = str(Path(catalog_override).resolve())
    return config, secret_keys


def plain_config(config: Mapping[str, str], secret_keys: list[str]) -> dict[str, str]:
    """What the engine hands a policy pack: the config without its secrets."""
    return {k: v for k, v in config.items() if k not in secret_keys}
