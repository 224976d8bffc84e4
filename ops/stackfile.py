"""Read a stack's Pulumi.<stack>.yaml the way the engine would, for the offline commands."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from catalog.errors import InputError, Problem
from catalog.inputs import catalog_path
from catalog.model import read_yaml
from catalog.services import Catalog, check_catalog
from catalog.settings import NAMESPACE, secret_config_keys
from ops.engine import PROGRAM_DIR, fake_secret
from ops.stack_values import (
    config_section,
    non_text_keys,
    same_setting_twice,
    stack_file_config,
    stored_settings,
    unencodable_keys,
)


@dataclass(frozen=True)
class StackConfig:
    stack: str
    file: str
    config: dict[str, str]          # devtools:<key> -> text, as the runtime sees it
    secret_keys: list[str]          # full keys whose values are secrets
    stand_ins: list[str]            # external secret keys given an offline stand-in value


def is_ciphertext(value: object) -> bool:
    """A `secure:` entry as the Pulumi CLI writes it: one key, a non-empty `v1:` ciphertext."""
    return (isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str)
            and value["secure"].startswith("v1:") and len(value["secure"]) > 3)


def stack_file_problems(raw: object, file: str) -> list[Problem]:
    """What keeps a parsed stack file from being read as settings: its shape, keys that are not text,
    and values that are neither text nor JSON."""
    section = config_section(raw)
    if section is None:
        return [Problem(file, "config", "is not a mapping of settings", "write `config:` with devtools:<key>: <value> lines")]
    keys = non_text_keys(section)
    return [Problem(file, f"config.{key}", "is not a setting's name (YAML read it as a number or a date)",
                    f"name it {NAMESPACE}:<key>, or quote it if it is meant as text")
            for key in keys] + [
        Problem(file, str(key), "holds a value that is neither text nor JSON (YAML read it as a date or binary data)",
                "quote the value, to pass it as text")
        for key in unencodable_keys(section) if key not in keys] + [
        Problem(file, key, f"is the same setting as {NAMESPACE}:{key}, which the file also sets",
                f"keep one of them, written {NAMESPACE}:{key}")
        for key in same_setting_twice(section)]


def read_stack_config(stack: str, catalog_override: str | None = None, directory: Path = PROGRAM_DIR) -> StackConfig:
    """Load Pulumi.<stack>.yaml; raise InputError if it is missing or malformed.

    External secrets are encrypted in the stack file (or not set yet); offline they get a
    stand-in value, marked secret, so the program can run. `validate-env` and the real
    `pulumi preview` check the real ones.
    """
    file = f"Pulumi.{stack}.yaml"
    raw, problems = read_yaml(directory / file, file)
    if problems:
        raise InputError(problems)
    shape = stack_file_problems(raw, file)
    if shape:
        raise InputError(shape)
    config, secret_keys = stack_file_config(raw, catalog_override)
    stored = stored_settings(raw)
    empty = [Problem(file, key, "is marked secure but holds no ciphertext",
                     f"pulumi config set --secret {key}   (the CLI writes the encrypted value)")
             for key in secret_keys if not is_ciphertext(stored[key])]
    if empty:
        raise InputError(empty)
    stand_ins: list[str] = []
    # Its problems are reported by load_inputs with the rest; its valid secrets get stand-ins here.
    catalog: Catalog | None = check_catalog(catalog_path(config))[0]
    if catalog is not None:
        plain_secrets = [key for key in secret_config_keys(catalog) if isinstance(stored.get(f"{NAMESPACE}:{key}"), str)]
        if plain_secrets:
            raise InputError([
                Problem(file, f"{NAMESPACE}:{key}", "holds a secret in plain text",
                        f"pulumi config rm {NAMESPACE}:{key} && pulumi config set --secret {NAMESPACE}:{key}   (then rotate it: it was exposed)")
                for key in plain_secrets
            ])
        for key in secret_config_keys(catalog):
            full = f"{NAMESPACE}:{key}"
            config[full] = fake_secret(full, 40)
            stand_ins.append(key)
            secret_keys.append(full)
    return StackConfig(stack, file, config, sorted(set(secret_keys)), stand_ins)
