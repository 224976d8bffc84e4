"""`python -m ops validate-env`: check a stack's config and a `.env` file against the catalog.

Required keys come from the catalog and the settings model: every stack setting without
a default, and every secret the catalog reads from config. Values are checked by the
same validators the program uses (domains, e-mails, URLs, CIDRs, placeholders). Every
problem is printed with its fix; exit 0 when there is none, 2 (bad input, as the preview)
otherwise. Values are never printed: a problem names the file, the key and the fix.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Callable
from pathlib import Path

from catalog.errors import InputError, Invalid, Problem
from catalog.inputs import catalog_path, load_inputs
from catalog.model import read_yaml
from catalog.services import Catalog, check_catalog
from catalog.settings import (
    NAMESPACE,
    TARGET_REQUIRED,
    Settings,
    check_cidr,
    check_email,
    check_hostname,
    check_url,
    parse_settings,
    secret_config_keys,
)
from ops.dotenv import read_env_file
from ops.engine import PROGRAM_DIR
from ops.stack_values import stack_file_config, stored_settings
from ops.stackfile import is_ciphertext, stack_file_problems
from policies.devtools_policy.placeholders import is_secret_looking_key, placeholder_reason

EXIT_BAD_INPUT = 2

# Stands in for a value stored encrypted in Pulumi.<stack>.yaml: present, but unreadable offline.
ENCRYPTED = "encrypted-in-the-stack-file"

# Keys the catalog does not know are still checked by what their name says they hold.
SUFFIX_CHECKS: tuple[tuple[re.Pattern[str], Callable[[str], str]], ...] = (
    (re.compile(r"_(URL|URI|ENDPOINT)$"), check_url),
    (re.compile(r"_EMAIL$"), check_email),
    (re.compile(r"_DOMAIN$"), check_hostname),
    (re.compile(r"_CIDRS?$"), check_cidr),
)


def env_key(config_key: str) -> str:
    """sshKeys -> SSH_KEYS, linearOauthToken -> LINEAR_OAUTH_TOKEN."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", config_key).upper()


def settings_keys() -> dict[str, bool]:
    """Each stack setting's config key -> whether it is required."""
    return {field.alias or name: field.is_required() for name, field in Settings.model_fields.items()}


def required_keys(catalog: Catalog, target: str = "droplet") -> list[str]:
    """Config keys every stack must set: settings without a default, the target's own, and the catalog's config secrets."""
    return sorted([k for k, required in settings_keys().items() if required] + list(TARGET_REQUIRED[target])
                  + list(secret_config_keys(catalog)))


def _is_list(config_key: str) -> bool:
    for name, field in Settings.model_fields.items():
        if (field.alias or name) == config_key:
            return typing.get_origin(field.annotation) is list
    return False


# --- the stack file -------------------------------------------------------------------------


def check_stack(stack: str, catalog_override: str | None = None,
                folder: Path = PROGRAM_DIR) -> tuple[list[Problem], list[str]]:
    """Problems of Pulumi.<stack>.yaml (in `folder`) with the catalog; and the secrets present but encrypted."""
    file = f"Pulumi.{stack}.yaml"
    raw, problems = read_yaml(folder / file, file)
    if problems:
        return problems, []
    shape = stack_file_problems(raw, file)
    if shape:
        return shape, []
    stored = stored_settings(raw)
    config, _ = stack_file_config(raw, catalog_override)
    catalog, unreadable = check_catalog(catalog_path(config))  # its problems come with load_inputs' below
    if catalog is None:
        return list(unreadable), []
    encrypted: list[str] = []
    for key in secret_config_keys(catalog):
        full = f"{NAMESPACE}:{key}"
        value = stored.get(full)
        if isinstance(value, dict) and "secure" in value:
            if not is_ciphertext(value):
                problems.append(Problem(file, full, "is marked secure but holds no ciphertext",
                                        f"pulumi config set --secret {full}   (the CLI writes the encrypted value)"))
                continue
            config[full] = ENCRYPTED
            encrypted.append(key)
        elif value is None:
            config.pop(full, None)
        else:
            problems.append(Problem(file, full, "is a secret stored in plain text",
                                    f"pulumi config rm {full} && pulumi config set --secret {full}   (then rotate it: it was exposed)"))
    try:
        load_inputs(config, stack)
    except InputError as exc:
        problems.extend(exc.problems)
    return problems, encrypted


# --- the .env file --------------------------------------------------------------------------


def _as_env_problem(problem: Problem, label: str) -> Problem:
    """A settings problem (devtools:sshKeys[0]) told in the .env's terms (SSH_KEYS[0])."""
    key = problem.key.removeprefix(f"{NAMESPACE}:")
    match = re.match(r"^([A-Za-z0-9]+)(.*)$", key)
    config_key, rest = (match.group(1), match.group(2)) if match else (key, "")
    name = env_key(config_key)
    fix = problem.fix
    if fix.startswith("pulumi config"):
        form = "a comma-separated list" if _is_list(config_key) else "the real value"
        fix = f"set {name}=<{form}> in {label}"
    return Problem(label, f"{name}{rest}", problem.message, fix)


def check_env_file(path: Path, catalog: Catalog, label: str | None = None) -> list[Problem]:
    """Every problem of a .env, told without its values (the validators' messages quote what they refuse)."""
    label = label or str(path)
    entries, problems = read_env_file(path, label)
    if any(p.key == "(file)" for p in problems):
        return problems
    # Each value, and each item of a comma-separated one (list settings are checked item by item).
    values = [e.value for e in entries] + [item.strip() for e in entries for item in e.value.split(",")]
    return [_without(values, p) for p in problems + _env_file_problems(entries, catalog, label)]


def _without(values: list[str], problem: Problem) -> Problem:
    message, fix = problem.message, problem.fix
    # Longest first, so a value that contains another is masked whole.
    for value in sorted((v for v in values if len(v) >= 2), key=len, reverse=True):
        for form in (repr(value), value):
            message, fix = message.replace(form, "<the value>"), fix.replace(form, "<the value>")
    return Problem(problem.file, problem.key, message, fix)


def _env_file_problems(entries, catalog: Catalog, label: str) -> list[Problem]:
    problems: list[Problem] = []
    values = {e.key: e.value for e in entries}
    secret_keys = secret_config_keys(catalog)
    config: dict[str, str] = {}
    known: set[str] = set()
    for key in settings_keys():
        name = env_key(key)
        known.add(name)
        if name in values:
            value = values[name]
            if _is_list(key):
                value = json.dumps([item.strip() for item in value.split(",") if item.strip()])
            config[f"{NAMESPACE}:{key}"] = value
    secret_values: dict[str, str | None] = {}
    for key in secret_keys:
        known.add(env_key(key))
        secret_values[key] = values.get(env_key(key)) or None
    secret_names = {env_key(key) for key in secret_keys}
    for entry in entries:
        if entry.inline_comment and (entry.key in secret_names or is_secret_looking_key(entry.key)):
            problems.append(Problem(label, f"{entry.key} (line {entry.line})",
                                    "is unquoted and followed by ` #`: the dotenv format reads the rest of the line as a comment, "
                                    "so the secret is cut there",
                                    f"quote the value ({entry.key}='...') if the # is part of it, or put the comment on its own line"))
    try:
        parse_settings(config, catalog, label, secret_values)
    except InputError as exc:
        problems.extend(_as_env_problem(p, label) for p in exc.problems)
    for entry in entries:
        if entry.key in known:
            continue
        reason = placeholder_reason(entry.value, credential=is_secret_looking_key(entry.key))
        if reason:
            problems.append(Problem(label, entry.key, f"value {reason}", f"set {entry.key} to its real value, or remove the line"))
            continue
        for pattern, check in SUFFIX_CHECKS:
            if entry.value and pattern.search(entry.key):
                for item in entry.value.split(",") if entry.key.endswith("S") else [entry.value]:
                    try:
                        check(item.strip())
                    except Invalid as exc:
                        problems.append(Problem(label, entry.key, str(exc), exc.fix))
    return problems


# --- the command ----------------------------------------------------------------------------


def add_arguments(parser) -> None:
    parser.add_argument("--stack", default="prod", help="stack whose Pulumi.<stack>.yaml to check (default: prod)")
    parser.add_argument("--env-file", metavar="PATH", help="also check a .env file (KEY=VALUE lines) against the catalog")
    parser.add_argument("--catalog", metavar="PATH", help="check against another catalog than config/services.yaml")


def _report(title: str, problems: list[Problem]) -> None:
    if not problems:
        print(f"{title}: ok")
        return
    print(f"{title}: {len(problems)} problem{'s' if len(problems) != 1 else ''}")
    for problem in problems:
        print(f"  - {problem}")


def run(args) -> int:
    stack_problems, encrypted = check_stack(args.stack, args.catalog)
    _report(f"Pulumi.{args.stack}.yaml", stack_problems)
    if encrypted:
        print(f"  note: {', '.join(encrypted)} are stored encrypted: present, values checked by `pulumi preview`")
    env_problems: list[Problem] = []
    if args.env_file:
        catalog, catalog_problems = check_catalog(catalog_path({f"{NAMESPACE}:catalog": args.catalog} if args.catalog else {}))
        if catalog_problems:
            print("  (the .env is checked once the catalog is valid: its problems are listed above)")
        else:
            assert catalog is not None
            env_problems = check_env_file(Path(args.env_file), catalog, args.env_file)
            required = [env_key(k) for k in required_keys(catalog)]
            print(f"required in {args.env_file}: {', '.join(required)}")
            _report(args.env_file, env_problems)
    return EXIT_BAD_INPUT if stack_problems or env_problems else 0
