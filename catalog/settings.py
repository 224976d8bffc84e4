"""Per-stack settings (`Pulumi.<stack>.yaml`): typed, validated before anything is declared."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from catalog.errors import InputError, Invalid, Problem
from catalog.formats import check_do_tag, check_image_slug, check_log_size, check_region, check_ssh_key, check_tag
from catalog.kubernetes_settings import KubernetesSettings
from catalog.model import MemoryBytes, StrictModel, problems_from_validation
from catalog.platform_images import image_problems
from catalog.services import Catalog
from catalog.sizes import SIZES
from policies.devtools_policy.images import tag_pin_problem
from policies.devtools_policy.placeholders import placeholder_reason
from policies.devtools_policy.values import leaves

NAMESPACE = "devtools"
HOSTNAME = re.compile(r"^(?=.{1,253}\Z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\Z")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,63}\Z", re.I)


def _cidr(value: object) -> str:
    try:
        network = ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        raise Invalid(f"{value!r} is not a CIDR block", "write it like 198.51.100.7/32") from None
    if network.prefixlen == 0:
        raise Invalid(f"{value!r} opens SSH to the whole internet", "list only your admins' addresses, e.g. 198.51.100.7/32")
    return str(network)


Cidr = Annotated[str, BeforeValidator(_cidr)]


def check_hostname(value: str) -> str:
    if not HOSTNAME.match(value):
        raise Invalid(f"{value!r} is not a domain name", "write a fully qualified name such as devtools.acme.io")
    return value


Hostname = Annotated[str, AfterValidator(check_hostname)]


def check_email(value: str) -> str:
    if not EMAIL.match(value):
        raise Invalid(f"{value!r} is not an e-mail address", "write an address such as ops@acme.io")
    return value


def check_url(value: str) -> str:
    """An absolute http(s) URL with a host: what every URL setting of the platform is."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"{value!r} is not an http(s) URL", "write it like https://auth.acme.io/realms/devtools")
    return value


def check_cidr(value: str) -> str:
    return _cidr(value)


class Settings(StrictModel):
    """Everything that differs per stack; keys are camelCase as in `pulumi config set devtools:<key>`."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)

    catalog: str = "config/services.yaml"
    # Where the platform runs: one droplet (the default) or DigitalOcean Kubernetes (`kubernetes:` then holds the cluster).
    target: Literal["droplet", "doks"] = "droplet"
    kubernetes: KubernetesSettings | None = None
    region: str
    droplet_size: str | None = None
    droplet_image: str = "ubuntu-24-04-x64"
    vpc_ip_range: str = "10.20.0.0/24"
    volume_size_gb: int = Field(default=100, ge=10, le=16384)
    domain: str
    acme_email: str
    ssh_keys: list[str] = Field(min_length=1)
    admin_cidrs: list[Cidr] = Field(min_length=1)
    image_tags: dict[str, str] = {}
    host_memory_reserve: MemoryBytes = 1536 * 1024**2
    log_max_size: str = "10m"
    log_max_files: int = Field(default=5, ge=1, le=100)
    tags: list[str] = ["devtools", "production"]
    # --- datastores: backups -----------------------------------------------------------
    backup_bucket: str = "devtools-backups"
    backup_retention_days: int = Field(default=14, ge=1, le=3650)
    backup_interval_hours: int = Field(default=6, ge=1, le=168)
    # --- images: the stack's registry and the platform's version (catalog/platform_images.py) ---
    container_registry: str | None = None
    registry_tier: Literal["starter", "basic", "professional"] = "professional"
    platform_git_sha: str | None = None
    platform_source: str | None = None
    platform_repository_url: Annotated[str, AfterValidator(check_url)] | None = None
    platform_images: dict[str, str] = {}

    @field_validator("backup_bucket")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        if not BUCKET.match(value):
            raise Invalid(f"{value!r} is not a Spaces bucket name", "use 3-63 lower case letters, digits and hyphens, e.g. devtools-prod-backups")
        return value

    # Observability: where alerts go (the Slack webhook and SMTP password are catalog secrets),
    # how long logs are kept.
    alert_email: str | None = None
    alert_email_from: str | None = None
    alert_smtp_smarthost: str | None = None
    alert_smtp_username: str | None = None
    log_retention_days: int = Field(default=31, ge=1, le=3650)

    @field_validator("alert_email", "alert_email_from")
    @classmethod
    def _alert_address(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise Invalid(f"{value!r} is not an e-mail address", "write an address such as ops@example.com")
        return value

    @field_validator("alert_smtp_smarthost")
    @classmethod
    def _smarthost(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Za-z0-9.-]+:\d{1,5}\Z", value):
            raise Invalid(f"{value!r} is not host:port", "write it like smtp.example.com:587")
        return value

    @model_validator(mode="after")
    def _email_needs_smtp(self) -> Settings:
        if self.alert_email and not (self.alert_email_from and self.alert_smtp_smarthost):
            raise Invalid("alertEmail is set but alertEmailFrom or alertSmtpSmarthost is missing",
                          "set devtools:alertEmailFrom and devtools:alertSmtpSmarthost, or remove alertEmail")
        return self

    # --- Single sign-on in front of every non-public route (oauth2-proxy behind the edge). ---
    sso_provider: Literal["github", "google", "oidc"] = "github"
    sso_client_id: str = Field(min_length=1)
    sso_email_domains: list[Hostname] = []
    sso_github_org: str | None = None
    sso_oidc_issuer_url: str | None = None

    @field_validator("sso_oidc_issuer_url")
    @classmethod
    def _issuer(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("droplet_size")
    @classmethod
    def _known_size(cls, value: str | None) -> str | None:
        if value is not None and value not in SIZES:
            raise Invalid(f"droplet size {value!r} is not one this project knows", f"pick one of {', '.join(SIZES)}")
        return value

    @field_validator("domain")
    @classmethod
    def _hostname(cls, value: str) -> str:
        return check_hostname(value)

    @field_validator("acme_email")
    @classmethod
    def _email(cls, value: str) -> str:
        return check_email(value)

    @field_validator("vpc_ip_range")
    @classmethod
    def _private_range(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError:
            raise Invalid(f"{value!r} is not a CIDR block", "write it like 10.20.0.0/24") from None
        if not network.is_private:
            raise Invalid(f"{value!r} is not a private range", "use a block inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
        return value

    # --- values DigitalOcean's and Docker's APIs receive as they are: their formats -------------
    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check_region(value)

    @field_validator("droplet_image")
    @classmethod
    def _image_slug(cls, value: str) -> str:
        return check_image_slug(value)

    @field_validator("ssh_keys")
    @classmethod
    def _ssh_keys(cls, value: list[str]) -> list[str]:
        return [check_ssh_key(key) for key in value]

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return [check_do_tag(tag) for tag in value]

    @field_validator("log_max_size")
    @classmethod
    def _log_size(cls, value: str) -> str:
        return check_log_size(value)

    @field_validator("image_tags")
    @classmethod
    def _image_tags(cls, value: dict[str, str]) -> dict[str, str]:
        return {service: check_tag(tag) if tag else tag for service, tag in value.items()}

    @field_validator("sso_client_id", "alert_smtp_username")
    @classmethod
    def _one_word(cls, value: str | None) -> str | None:
        # Identifiers as providers issue them: letters, digits and . _ - @ + : only, so no value
        # can carry quotes, spaces or line breaks into a rendered file.
        if value is not None and not re.match(r"^[A-Za-z0-9._@+:-]{1,256}\Z", value):
            raise Invalid("holds characters an identifier does not (spaces, quotes, line breaks...)",
                          "copy the value again from where it was issued")
        return value

    @field_validator("sso_github_org")
    @classmethod
    def _github_org(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?\Z", value):
            raise Invalid(f"{value!r} is not a GitHub organization name", "write the org's login as in github.com/<org>")
        return value

    # --- external services the platform's code calls (their credentials are catalog secrets) ---
    # Services read these through `${setting}` references in their catalog environment.
    qdrant_url: str | None = None
    gradient_base_url: str = "https://inference.do-ai.run/v1"
    linear_oauth_client_id: str | None = None
    linear_oauth_redirect_uri: str | None = None
    linear_webhook_uri: str | None = None
    linear_approval_hub_issue_id: str | None = None
    langfuse_host: str = "https://us.cloud.langfuse.com"
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    notification_email_to: str | None = None
    notification_email_from: str | None = None
    # Services left out of this stack (e.g. one that cannot start at the pinned source); checked
    # against the catalog, once, by catalog/omission.py, which applies it before anything else.
    omit_services: object = []

    @field_validator("qdrant_url", "gradient_base_url", "linear_oauth_redirect_uri", "linear_webhook_uri", "langfuse_host")
    @classmethod
    def _external_url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("notification_email_to", "notification_email_from")
    @classmethod
    def _notification_address(cls, value: str | None) -> str | None:
        return None if value is None else check_email(value)

    @property
    def size(self):
        return SIZES[self.droplet_size]


def secret_config_keys(catalog: Catalog) -> dict[str, str]:
    """Stack config keys that hold external secrets -> the catalog secret they feed."""
    return {s.config: name for name, s in catalog.secrets.items() if s.config}


def parse_settings(
    raw: Mapping[str, str],
    catalog: Catalog,
    file: str,
    secret_values: Mapping[str, str | None] | None = None,
) -> Settings:
    """Validate a stack's config.

    `raw` maps `devtools:<key>` to the value as Pulumi hands it over (text; objects as
    JSON). `secret_values` maps each external secret's config key to its value, or None
    when unset; they are checked for presence and placeholders but never echoed.
    """
    problems: list[Problem] = []
    secret_keys = secret_config_keys(catalog)
    plain: dict[str, object] = {}
    for full_key, text in raw.items():
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE or key in secret_keys:
            continue
        plain[key] = _decode(text)
        for where, value in leaves(key, plain[key]):
            reason = placeholder_reason(value)
            if reason:
                problems.append(Problem(file, f"{NAMESPACE}:{where}", f"value {reason}", f"pulumi config set {NAMESPACE}:{key} <real value>"))

    for key, secret in secret_keys.items():
        if secret_values is None:
            break
        value = secret_values.get(key)
        fix = f"pulumi config set --secret {NAMESPACE}:{key}   (value on stdin or as argument; it is stored encrypted)"
        if value is None or value == "":
            problems.append(Problem(file, f"{NAMESPACE}:{key}", f"secret for {secret} is not set", fix))
        elif (reason := placeholder_reason(value)) is not None:
            problems.append(Problem(file, f"{NAMESPACE}:{key}", f"secret for {secret} {reason}", fix))

    settings = None
    try:
        settings = Settings.model_validate(plain)
    except ValidationError as exc:
        for problem in problems_from_validation(exc, file):
            key = problem.key.split(".")[0]
            problems.append(
                Problem(file, f"{NAMESPACE}:{problem.key}", problem.message, _config_fix(key, problem.fix))
            )
    if settings is not None:
        for service in settings.image_tags:
            if service not in catalog.declared("services"):
                problems.append(Problem(file, f"{NAMESPACE}:imageTags.{service}", "names no service in the catalog", f"use one of {sorted(catalog.services)}"))
        for service, tag in settings.image_tags.items():
            spec = catalog.services.get(service)
            if spec is not None and spec.build is None and (pin := tag_pin_problem(spec.image, tag)):
                problems.append(Problem(file, f"{NAMESPACE}:imageTags.{service}", f"tag {tag!r} is not pinned: {pin[0]}", pin[1]))
        problems.extend(image_problems(settings, catalog, file))
        problems.extend(sso_problems(settings, file))
        problems.extend(reserve_problems(settings, file))
        problems.extend(target_problems(settings, file))
    if problems:
        raise InputError(problems)
    assert settings is not None
    return settings


# The least a droplet must leave to the containers once the host reserve is taken.
MIN_CONTAINER_MEMORY = 512 * 1024**2


def reserve_problems(settings: Settings, file: str) -> list[Problem]:
    """What the droplet keeps for the kernel, Docker and its agents must leave room for the containers."""
    if settings.target != "droplet" or settings.droplet_size not in SIZES:
        return []  # a cluster's nodes are judged by the Kubernetes target; a missing size is told on its own
    memory = settings.size.memory_bytes
    if settings.host_memory_reserve > memory - MIN_CONTAINER_MEMORY:
        return [Problem(file, f"{NAMESPACE}:hostMemoryReserve",
                        f"keeps {settings.host_memory_reserve // 1024**2}M of {settings.droplet_size}'s {memory // 1024**2}M "
                        f"for the host, leaving less than {MIN_CONTAINER_MEMORY // 1024**2}M for the containers",
                        f"pulumi config set {NAMESPACE}:hostMemoryReserve 1536M, or pick a larger dropletSize")]
    return []


def sso_problems(settings: Settings, file: str) -> list[Problem]:
    """Single sign-on settings that only make sense together."""
    problems = []
    if not settings.sso_email_domains and not settings.sso_github_org:
        # Without a restriction any account of the provider could sign in.
        problems.append(Problem(file, f"{NAMESPACE}:ssoEmailDomains", "is empty and ssoGithubOrg is unset: any account could sign in",
                                f"pulumi config set --path '{NAMESPACE}:ssoEmailDomains[0]' acme.io   (or set {NAMESPACE}:ssoGithubOrg)"))
    if settings.sso_github_org and settings.sso_provider != "github":
        problems.append(Problem(file, f"{NAMESPACE}:ssoGithubOrg", f"only applies to the github provider, not {settings.sso_provider}",
                                f"pulumi config rm {NAMESPACE}:ssoGithubOrg, or pulumi config set {NAMESPACE}:ssoProvider github"))
    if settings.sso_provider == "oidc" and not settings.sso_oidc_issuer_url:
        problems.append(Problem(file, f"{NAMESPACE}:ssoOidcIssuerUrl", "is required by the oidc provider",
                                f"pulumi config set {NAMESPACE}:ssoOidcIssuerUrl https://<issuer>"))
    return problems


# Settings only one target needs: optional in the model, required when the stack picks that target.
TARGET_REQUIRED: dict[str, dict[str, tuple[str, str]]] = {
    "droplet": {"dropletSize": ("is required by the droplet target", f"pulumi config set {NAMESPACE}:dropletSize s-8vcpu-16gb")},
    "doks": {"kubernetes": ("is required by the doks target (the cluster and its node pool)",
                            f"pulumi config set --path '{NAMESPACE}:kubernetes.nodeSize' s-4vcpu-8gb   (see docs/KUBERNETES.md)")},
}


def target_problems(settings: Settings, file: str) -> list[Problem]:
    """Each target's own required settings: the droplet's size, the cluster's `kubernetes` block."""
    given = settings.model_dump(by_alias=True)
    return [Problem(file, f"{NAMESPACE}:{key}", message, fix)
            for key, (message, fix) in TARGET_REQUIRED[settings.target].items() if given.get(key) is None]


def _config_fix(key: str, fix: str) -> str:
    if fix.startswith("add "):
        return f"pulumi config set {NAMESPACE}:{key} <value>"
    return fix


def _decode(text: str) -> object:
    """Pulumi passes structured config as JSON text; plain strings stay as they are."""
    if isinstance(text, str) and text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text
