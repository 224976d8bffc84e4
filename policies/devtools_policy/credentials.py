"""Finding credentials where they do not belong: in a container's environment, command lines and files.

The policy SDK hands rules plain values (a Pulumi secret is unwrapped before a rule runs), so these
functions judge values and places, not secretness: a file under /run/secrets/ is where a credential
belongs and only its content is judged (a placeholder there is still a fallback password); anywhere
else, a credential-named key with a value of its own is a credential in the wrong place.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from .docker import SECRETS_DIR
from .placeholders import is_secret_looking_key, placeholder_reason

# Config directives that hold a password although their names do not say so (redis.conf).
CREDENTIAL_DIRECTIVES = frozenset({"requirepass", "masterauth"})
# `${DB_PASSWORD:-changeme}`: the audit's fallback-password pattern, in shell or compose syntax.
_FALLBACK = re.compile(r"\$\{(?P<var>[A-Za-z_][A-Za-z0-9_]*):?-(?P<default>[^}]*)\}")
_CHANGEME = re.compile(r"change[-_ ]?me", re.I)
_CONFIG_LINE = re.compile(r"""^\s*["']?(?P<key>[A-Za-z0-9_.-]+)["']?\s*(?:=|:|\s)\s*(?P<value>.*?)\s*[,;]?\s*$""")
# A `*_FILE` variable named in a value: the credential is read from the file it points at.
_FILE_VARIABLE = re.compile(r"\b[A-Z][A-Z0-9_]*_FILE\b")
# Redis ACL rule with an inline password: `user default on >s3cret ~* +@all`.
_ACL_PASSWORD = re.compile(r"^\s*user\s+\S+.*\s>(?P<password>\S+)")
# A URL carrying a password, whatever its variable is called: scheme://[user]:password@host (redis://:pw@redis).
_URL_PASSWORD = re.compile(r"://[^/\s:@]*:(?P<password>[^@\s/]+)@")


# Rules ask about the same keys and files over and over: every service gets the same variable names,
# and many the same uploaded files (the secrets wrapper, shared configs). Both answers depend on the
# text alone, so each is worked out once per process.
@lru_cache(maxsize=4096)
def is_credential_key(key: str) -> bool:
    name = key.strip().lstrip("-").replace("-", "_")
    return is_secret_looking_key(name) or name.lower() in CREDENTIAL_DIRECTIVES


def is_reference(value: str) -> bool:
    """A value that points at a credential kept elsewhere: a variable, a command substitution, a secret file,
    or code reading the file a `*_FILE` variable names (`read_secret("DB_PASSWORD_FILE")`)."""
    text = value.strip().strip("'\"")
    return (not text or text.startswith("$") or SECRETS_DIR in text or text.startswith("file:")
            or _FILE_VARIABLE.search(text) is not None)


def fallbacks(text: str) -> list[str]:
    """`${VAR:-default}` where VAR names a credential and a default is given: a fallback password."""
    found = []
    for match in _FALLBACK.finditer(text):
        default = match.group("default").strip().strip("'\"")
        if default and is_credential_key(match.group("var")):
            found.append(f"falls back to a literal password when ${match.group('var')} is unset (${{{match.group('var')}:-...}})")
    return found


def _pattern_reason(text: str) -> str | None:
    """Placeholder markers that are never part of a real command (whole weak words like `test` can be)."""
    reason = placeholder_reason(text)
    if reason and not reason.startswith("is the stand-in value"):
        return reason
    return None


def _tokens(args: Iterable[Any]) -> list[str]:
    """Every argument, plus the words of arguments that are shell scripts (`sh -c "..."`)."""
    tokens: list[str] = []
    for arg in args:
        if not isinstance(arg, str):
            continue
        tokens.append(arg)
        if any(ch.isspace() for ch in arg.strip()):
            try:
                tokens.extend(shlex.split(arg, comments=True))
            except ValueError:
                tokens.extend(arg.split())
    return tokens


def credential_arguments(args: Iterable[Any]) -> list[tuple[str, str]]:
    """(flag or key, value) for each credential given on a command line: `--requirepass X`,
    `--password=X`, `DB_PASSWORD=X`."""
    found = []
    tokens = _tokens(args)
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            flag, eq, value = token.partition("=")
            if not is_credential_key(flag):
                continue
            if not eq:
                value = tokens[i + 1] if i + 1 < len(tokens) else ""
            if value and not value.startswith("-"):
                found.append((flag, value))
        elif "=" in token:
            key, _, value = token.partition("=")
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) and is_credential_key(key):
                found.append((key, value))
    return found


def placeholders_in_env(pairs: Iterable[tuple[str, Any]]) -> list[str]:
    found = []
    for key, value in pairs:
        if not isinstance(value, str):
            continue
        reason = placeholder_reason(value, credential=is_secret_looking_key(str(key)))
        if reason:
            found.append(f"environment {key}: value {reason}")
        found.extend(f"environment {key}: {text}" for text in fallbacks(value))
    return found


def placeholders_in_command(args: list[Any]) -> list[str]:
    found = []
    for token in _tokens(args):
        reason = _pattern_reason(token)
        if reason:
            found.append(f"command line: argument {reason}")
        found.extend(f"command line: {text}" for text in fallbacks(token))
    for flag, value in credential_arguments(args):
        reason = placeholder_reason(value)
        if reason and not _pattern_reason(value):  # pattern hits were reported above
            found.append(f"command line: {flag} value {reason}")
    return sorted(set(found))


@lru_cache(maxsize=1024)
def placeholders_in_file(path: str, content: str) -> tuple[str, ...]:
    """Fallback or literal credentials in an uploaded file.

    A secret file (under /run/secrets/) is judged as a whole: it must not be a stand-in value. Any other
    file is a config file: a credential directive must not hold a value of its own, since it would be
    readable by anyone who can read the config (`requirepass ...`, `password: ...`, an ACL `>password`).
    """
    if path.startswith(SECRETS_DIR):
        reason = placeholder_reason(content.strip())
        return (f"secret file {path}: content {reason}",) if reason else ()
    found = []
    # Files grow with the catalog (dashboards, scrape configs): a pattern absent from the whole file is
    # not looked for line by line.
    any_changeme = _CHANGEME.search(content) is not None
    for number, line in enumerate(content.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";", "//")):
            continue
        where = f"file {path} line {number}"
        if any_changeme and _CHANGEME.search(stripped):
            found.append(f"{where}: contains 'changeme'")
        if "${" in stripped:
            found.extend(f"{where}: {text}" for text in fallbacks(stripped))
        acl = _ACL_PASSWORD.match(stripped) if stripped.startswith("user") else None
        if acl:
            found.append(f"{where}: an ACL user has an inline password; keep the ACL file under {SECRETS_DIR}")
            continue
        match = _CONFIG_LINE.match(stripped)
        if match and is_credential_key(match.group("key")):
            value = match.group("value").strip().strip("'\"")
            if value and not is_reference(value):
                reason = placeholder_reason(value)
                found.append(f"{where}: {match.group('key')} " + (f"value {reason}" if reason else "holds a literal credential"))
    return tuple(found)


def has_url_password(value: str) -> bool:
    """`value` holds a URL with a password of its own (not a `${VAR}` reference)."""
    return any(not is_reference(m.group("password")) for m in _URL_PASSWORD.finditer(value))


def credentials_in_env(pairs: Iterable[tuple[str, Any]]) -> list[str]:
    """Credential-named variables with a value of their own (rather than a *_FILE path), and URLs with a password."""
    return [
        f"environment {key} holds a credential"
        for key, value in pairs
        if isinstance(value, str) and ((is_credential_key(key) and not is_reference(value)) or has_url_password(value))
    ]


def credentials_in_command(args: list[Any]) -> list[str]:
    return [
        f"command line passes {flag} a credential"
        for flag, value in credential_arguments(args)
        if not is_reference(value)
    ]
