"""oauth2-proxy's effective options, read as it reads them: config file, then OAUTH2_PROXY_* variables, then flags.

Later sources win (a flag over a variable over the file), as oauth2-proxy documents. A config file
named with --config that is not uploaded, or is not TOML, cannot be judged: that is a finding.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .docker import env_pairs, run_lines, uploads
from .images import image_repository
from .values import is_unknown

ENV_PREFIX = "OAUTH2_PROXY_"
# Settings that restrict who may sign in beyond the e-mail domain: with none, `email_domains = *` lets
# every account of the provider in.
RESTRICTIONS = ("github_org", "github_team", "github_users", "github_repo", "gitlab_group", "google_group",
                "allowed_groups", "allowed_roles", "authenticated_emails_file", "bitbucket_team", "keycloak_group")


# Repeatable flags are singular where the config file's option is plural.
FLAG_OPTIONS = {"skip_auth_route": "skip_auth_routes", "email_domain": "email_domains", "upstream": "upstreams",
                "cookie_domain": "cookie_domains", "whitelist_domain": "whitelist_domains", "allowed_group": "allowed_groups"}


@dataclass
class Options:
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    unknown: bool = False


def is_oauth2_proxy(props: Mapping[str, Any]) -> bool:
    image = props.get("image")
    return isinstance(image, str) and image_repository(image) == "oauth2-proxy"


def _flags(args: list[Any]) -> list[tuple[str, str]]:
    """(option, value) of `--name=value`, `--name value` and bare `--name` (true) flags."""
    words = [a for a in args if isinstance(a, str)]
    found = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            if not eq:
                if i + 1 < len(words) and not words[i + 1].startswith("--"):
                    value, i = words[i + 1], i + 1
                else:
                    value = "true"
            option = name.replace("-", "_").lower()
            found.append((FLAG_OPTIONS.get(option, option), value))
        i += 1
    return found


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def effective_options(props: Mapping[str, Any]) -> Options:
    options = Options()
    flags = [flag for line in run_lines(props) for flag in _flags(line)]
    if any(is_unknown(props.get(key)) for key in ("command", "entrypoints", "envs", "uploads")):
        options.unknown = True
        return options
    config = next((value for name, value in flags if name == "config"), None)
    if config is not None:
        content = {u.file: u.content for u in uploads(props) if isinstance(u.file, str)}.get(config)
        if is_unknown(content):
            options.unknown = True
            return options
        if not isinstance(content, str):
            options.problems.append(f"config file {config} is not uploaded by the program as text, so sign-on cannot be checked")
        else:
            try:
                options.values.update(tomllib.loads(content))
            except tomllib.TOMLDecodeError:
                options.problems.append(f"config file {config} is not TOML oauth2-proxy can read, so sign-on cannot be checked")
    for key, value in env_pairs(props):
        if key.startswith(ENV_PREFIX) and not key.endswith("_FILE"):
            options.values[key[len(ENV_PREFIX):].lower()] = value
    options.values.update((name, value) for name, value in flags if name != "config")
    return options


def _false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"))


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"))


def weak_sign_on(props: Mapping[str, Any]) -> list[str]:
    """Options that weaken single sign-on: insecure cookies, anyone may sign in, routes that skip it."""
    options = effective_options(props)
    if options.unknown:
        return []
    found = list(options.problems)
    values = options.values
    if _false(values.get("cookie_secure", True)):
        found.append("cookie_secure is false: the session cookie also travels over plain HTTP")
    if _false(values.get("cookie_httponly", True)):
        found.append("cookie_httponly is false: scripts in the page can read the session cookie")
    domains = _as_list(values.get("email_domains", []))
    if "*" in domains and not any(values.get(key) for key in RESTRICTIONS):
        found.append("email_domains is * with no organization, team or group restriction: any account of the provider signs in")
    for key in ("skip_auth_regex", "skip_auth_routes"):
        if values.get(key):
            found.append(f"{key} is set: requests matching it skip sign-on (make those routes public in the catalog instead)")
    for key, what in (("ssl_insecure_skip_verify", "the provider's TLS certificate is not verified"),
                      ("insecure_oidc_allow_unverified_email", "unverified e-mail addresses are accepted")):
        if _true(values.get(key)):
            found.append(f"{key} is true: {what}")
    return found
