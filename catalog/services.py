"""The service catalog (`config/services.yaml`): typed models, loading and cross-checks.

Its vocabulary follows docker compose where the concept is the same (image,
environment, secrets, configs, healthcheck, depends_on, networks, volumes,
deploy.resources) and adds what compose lacks (role, port, readiness, metrics,
route). Nothing in it is Docker-only: a Kubernetes renderer can read the same file.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from catalog.errors import InputError, Invalid, Problem
from catalog.formats import (
    check_container_path,
    check_env_key,
    check_env_value,
    check_image_reference,
    check_url_path,
    parse_published_port,
)
from catalog.model import Cpus, MemoryBytes, Seconds, StrictModel, display_path, problems_from_validation, read_yaml
from policies.devtools_policy.credentials import has_url_password
from policies.devtools_policy.images import image_pin_problem, split_reference
from policies.devtools_policy.metric_sources import FAMILIES, unknown_families
from policies.devtools_policy.placeholders import is_secret_looking_key, placeholder_reason
from render.secret_renderers import SECRET_RENDERERS

NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}\Z")
SECRET_NAME = re.compile(r"^[a-z][a-z0-9_]{0,60}\Z")
ProbeTool = Literal["curl", "python", "node"]
PROBE_TOOLS = ("curl", "python", "node")
Role = Literal["agent", "gateway", "service", "datastore", "observability", "edge", "job"]
LONG_RUNNING_ROLES = ("agent", "gateway", "service", "datastore", "observability", "edge")

# Every target delivers a secret as a file here, the convention of Docker and Kubernetes secrets alike.
SECRETS_DIR = "/run/secrets"


def secret_path(name: str) -> str:
    return f"{SECRETS_DIR}/{name}"


def check_image(image: str) -> str:
    """An image must be pinned by a tag other than `latest`, or by a digest (the pack's rule, shared)."""
    check_image_reference(image)
    problem = image_pin_problem(image)
    if problem:
        raise Invalid(*problem)
    return image


def check_relative_path(value: str) -> str:
    """A path inside a source checkout: relative, forward slashes, never climbing out with `..`."""
    parts = value.split("/")
    if not value or value.startswith("/") or "\\" in value or ".." in parts or any(p.strip() != p for p in parts):
        raise Invalid(f"{value!r} is not a path inside the checkout", "write it relative to the checkout's root, e.g. agent_orchestrator/Dockerfile")
    return value


class Build(StrictModel):
    """Compose's `build:`: how the image is built, from the platform's checkout (the stack's
    `platformSource`) or from this project's own `images/` folder (`source: project`)."""

    context: str = "."
    dockerfile: str
    source: Literal["platform", "project"] = "platform"

    @field_validator("context", "dockerfile")
    @classmethod
    def _inside(cls, value: str) -> str:
        return check_relative_path(value)


def check_repository(image: str) -> str:
    """A built service's `image` is the repository it is pushed to in the stack's registry: no registry, tag or digest."""
    check_image_reference(image)
    parts = split_reference(image)
    if parts is None or parts[0] is not None or parts[2] is not None or parts[3] is not None:
        raise Invalid(f"{image!r} is not a bare repository name (a built image gets its registry and version from the stack)",
                      "write only the repository, e.g. orchestrator; the stack's containerRegistry and platformGitSha pin it")
    return image


class Quantity(StrictModel):
    cpus: Cpus
    memory: MemoryBytes


class Resources(StrictModel):
    limits: Quantity
    reservations: Quantity

    @model_validator(mode="after")
    def _reservation_within_limit(self) -> Resources:
        if self.reservations.memory > self.limits.memory:
            raise Invalid("reservations.memory exceeds limits.memory", "lower the reservation or raise the limit")
        if self.reservations.cpus > self.limits.cpus:
            raise Invalid("reservations.cpus exceeds limits.cpus", "lower the reservation or raise the limit")
        return self


class Deploy(StrictModel):
    resources: Resources


class Healthcheck(StrictModel):
    """Liveness: an HTTP `path` on the service's port, or a compose-style `test` command."""

    path: str | None = None
    test: list[str] | None = None
    # The tool inside the image that asks `path` (an image without curl cannot run a curl check).
    probe: ProbeTool | None = None
    interval: Seconds = 30.0
    timeout: Seconds = 5.0
    retries: int = Field(default=3, ge=1, le=100)
    start_period: Seconds = 20.0

    @field_validator("path")
    @classmethod
    def _plain_path(cls, value: str | None) -> str | None:
        return None if value is None else check_url_path(value)

    @field_validator("test")
    @classmethod
    def _arguments(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_arguments(value)

    @field_validator("interval", "timeout")
    @classmethod
    def _positive(cls, value: float) -> float:
        # Docker refuses a health check interval or timeout under 1 ms.
        if value < 0.001:
            raise Invalid("must be at least 1ms", "write a duration such as 10s")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Healthcheck:
        if (self.path is None) == (self.test is None):
            raise Invalid("needs exactly one of path or test", "give an HTTP path such as /health, or a test command")
        if self.path is not None and self.probe is None:
            raise Invalid("an HTTP health check names no probe tool",
                          f"add probe: with the tool the image has, one of {', '.join(PROBE_TOOLS)}")
        if self.test is not None and self.probe is not None:
            raise Invalid("probe applies to an HTTP path, not to a test command", "remove probe:")
        return self


def _absolute_url_path(key: str, value: str) -> str:
    if not value.startswith("/"):
        raise Invalid(f"{key} {value!r} is not absolute", f"write it as /{value}")
    return check_url_path(value)


class Probe(StrictModel):
    path: str

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        return _absolute_url_path("path", value)


class Readiness(Probe):
    """Readiness: when the image serves no readiness path of its own, `note` says why `path` is its liveness path."""

    note: str | None = None


class Metrics(Probe):
    path: str = "/metrics"
    port: int | None = Field(default=None, ge=1, le=65535)
    # The metric families the endpoint serves (names in policies/devtools_policy/metric_sources.py);
    # what the alert rules may watch is derived from it.
    yields: list[str] = []

    @field_validator("yields")
    @classmethod
    def _known_families(cls, value: list[str]) -> list[str]:
        unknown = unknown_families(value)
        if unknown:
            raise Invalid(f"unknown metric families {unknown}", f"use those of policies/devtools_policy/metric_sources.py: {', '.join(FAMILIES)}")
        return value


# Traefik reads both as 64-bit integers and refuses the whole dynamic file past that; far below
# it, no droplet serves more than this many requests a second, so a larger value is a mistake.
MAX_RATE, MAX_BURST = 100_000, 1_000_000


class RateLimit(StrictModel):
    average: int = Field(ge=1, le=MAX_RATE, description="requests per second, sustained")
    burst: int = Field(ge=1, le=MAX_BURST)


class Route(StrictModel):
    """How the edge reaches the service from outside: a path prefix on the stack's domain."""

    path_prefix: str
    public: bool = False
    rate_limit: RateLimit | None = None
    # This route serves the single sign-on the edge asks about every request to a route that is not public.
    sign_in: bool = False
    # The upstream serves its paths at its root: the edge removes the prefix before passing a request on.
    strip_prefix: bool = False

    @field_validator("path_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        # The edge builds its rule from this prefix: only a plain URL path may reach it.
        return _absolute_url_path("path_prefix", value)


class ServiceSecret(StrictModel):
    """Compose's long secret syntax, plus `env` and `export`.

    `env` is the *_FILE variable pointing at the file, for code that reads one. `export`
    names the plain variable(s) the code reads instead: the entrypoint wrapper copies the
    file into them when the process starts, so the value never enters the container's
    configuration. With `export` and no `env`, no *_FILE variable is set.
    """

    source: str
    env: str | None = None
    export: str | list[str] | None = None

    @property
    def exports(self) -> tuple[str, ...]:
        if self.export is None:
            return ()
        return (self.export,) if isinstance(self.export, str) else tuple(self.export)

    @property
    def file_variable(self) -> str | None:
        """The *_FILE variable set for this mount, if any."""
        if self.env is not None:
            return self.env
        return None if self.exports else f"{self.source.upper()}_FILE"

    @field_validator("env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        return None if value is None else check_env_key(value)


class ConfigMount(StrictModel):
    source: str
    target: str

    @field_validator("target")
    @classmethod
    def _target(cls, value: str) -> str:
        return check_container_path(value)


def check_arguments(arguments: list[str]) -> list[str]:
    """Arguments reach exec() as C strings: a NUL would cut one short."""
    if any("\x00" in argument for argument in arguments):
        raise Invalid("an argument holds a NUL character", "remove it")
    return arguments


def check_volume_entry(entry: str) -> str:
    """`name:/path[:ro|rw]`, or `/host/path:/path:ro`; each path absolute and plain."""
    parts = entry.split(":")
    if is_host_path(entry):
        if len(parts) != 3 or parts[2] != "ro":
            raise Invalid(f"{entry!r} mounts a host path without `:ro`", "write it as /host/path:/path/in/container:ro")
        check_container_path(parts[0])
    elif len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("ro", "rw")) or not NAME.match(parts[0]):
        raise Invalid(f"{entry!r} is not `name:/path` or `name:/path:ro`", "write it like postgres-data:/var/lib/postgresql/data")
    check_container_path(parts[1])
    return entry


def check_port_mapping(mapping: str) -> str:
    parse_published_port(mapping)
    return mapping


def check_capability(name: str) -> str:
    if not CAPABILITY.match(name):
        raise Invalid(f"{name!r} is not a Linux capability name", "write it like NET_BIND_SERVICE")
    return name


# A user as Docker takes it: a name or UID, optionally :group or :GID.
USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\Z|^[0-9]{1,10}\Z")
CAPABILITY = re.compile(r"^(CAP_)?[A-Z_]{2,32}\Z")
# Each list item checked on its own, so a problem names its index (volumes[1]).
VolumeEntry = Annotated[str, AfterValidator(check_volume_entry)]
PortMapping = Annotated[str, AfterValidator(check_port_mapping)]
Capability = Annotated[str, AfterValidator(check_capability)]


# Docker's ulimit names (`docker run --ulimit`), and the open-files limit every container gets
# unless the catalog says otherwise (CIS 5.19: set at run time, not left to the daemon's default).
UlimitName = Literal["core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
                     "rss", "rtprio", "rttime", "sigpending", "stack"]
DEFAULT_NOFILE = 65536
MAX_NOFILE = 1048576  # the kernel's default nr_open: a larger nofile cannot be set


class Ulimit(StrictModel):
    soft: int = Field(ge=0, le=2**31 - 1)
    hard: int = Field(ge=0, le=2**31 - 1)

    @model_validator(mode="after")
    def _soft_within_hard(self) -> Ulimit:
        if self.soft > self.hard:
            raise Invalid("soft exceeds hard", "lower soft or raise hard: the kernel refuses a soft limit above the hard one")
        return self


class DependsOn(StrictModel):
    condition: Literal["service_started", "service_healthy", "service_completed_successfully"] = "service_healthy"


# Compose's short and long forms, told apart by the value's shape, so a mistake is reported against the
# form it was written in, not once per form it could have been. (The tags hold `[`: error locations drop them.)
SecretEntry = Annotated[
    Annotated[str, Tag("secret[name]")] | Annotated[ServiceSecret, Tag("secret[long]")],
    Discriminator(lambda v: "secret[name]" if isinstance(v, str) else "secret[long]"),
]
DependsOnEntries = Annotated[
    Annotated[list[str], Tag("depends_on[list]")] | Annotated[dict[str, DependsOn], Tag("depends_on[map]")],
    Discriminator(lambda v: "depends_on[list]" if isinstance(v, list) else "depends_on[map]"),
]


class Autoscaling(StrictModel):
    """Bounds for a horizontal autoscaler on CPU. Read by the Kubernetes target; the droplet runs one container (see docs/KUBERNETES.md)."""

    min_replicas: int = Field(ge=1, le=50)
    max_replicas: int = Field(ge=1, le=50)
    cpu_utilization: int = Field(default=70, ge=10, le=100, description="target % of the CPU request")

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise Invalid("min_replicas is above max_replicas", "raise max_replicas or lower min_replicas")
        return self


class Service(StrictModel):
    build: Build | None = None  # before image: its validator reads it
    image: str
    role: Role
    description: str
    port: int | None = Field(default=None, ge=1, le=65535)
    entrypoint: list[str] | None = None
    command: list[str] | None = None
    environment: dict[str, str] = {}
    secrets: list[SecretEntry] = []
    configs: list[ConfigMount] = []
    healthcheck: Healthcheck | None = None
    readiness: Readiness | None = None
    metrics: Metrics | None = None
    depends_on: DependsOnEntries = []
    networks: list[str] = Field(min_length=1)
    volumes: list[VolumeEntry] = []
    deploy: Deploy
    restart: Literal["no", "always", "on-failure", "unless-stopped"] = "unless-stopped"
    ports: list[PortMapping] = []
    cap_add: list[Capability] = []
    read_only: bool = False
    user: str | None = None
    route: Route | None = None
    ulimits: dict[UlimitName, Ulimit] = {}

    @field_validator("ulimits", mode="before")
    @classmethod
    def _short_ulimits(cls, value: object) -> object:
        # Compose's short form `nofile: 65536` sets soft and hard alike.
        if isinstance(value, dict):
            return {k: ({"soft": v, "hard": v} if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in value.items()}
        return value

    @field_validator("ulimits")
    @classmethod
    def _nofile_settable(cls, value: dict[str, Ulimit]) -> dict[str, Ulimit]:
        nofile = value.get("nofile")
        if nofile is not None and (nofile.hard > MAX_NOFILE or nofile.soft < 1):
            raise Invalid(f"nofile must be between 1 and {MAX_NOFILE}", f"write nofile: {DEFAULT_NOFILE}")
        return value

    def effective_ulimits(self) -> dict[str, Ulimit]:
        """The catalog's ulimits, with the default open-files limit where it sets none."""
        return {"nofile": Ulimit(soft=DEFAULT_NOFILE, hard=DEFAULT_NOFILE), **self.ulimits}
    # Copies that serve at once. The Kubernetes target runs this many pods (or the autoscaler's
    # bounds); the droplet runs one container per service and ignores both by rule.
    replicas: int = Field(default=1, ge=1, le=50)
    autoscaling: Autoscaling | None = None

    @field_validator("image")
    @classmethod
    def _pinned(cls, value: str, info: ValidationInfo) -> str:
        # A built image is versioned by the stack; any other must be pinned here.
        if "build" not in info.data:
            return value  # `build` itself is invalid and reported: which rule applies is unknown
        return check_repository(value) if info.data["build"] else check_image(value)

    @field_validator("environment", mode="before")
    @classmethod
    def _env_as_text(cls, value: object) -> object:
        # Compose accepts numbers and booleans as env values; they reach the process as text.
        # Lists and mappings are left as they are, so the type check refuses them.
        if isinstance(value, dict):
            return {k: (str(v).lower() if isinstance(v, bool) else str(v) if isinstance(v, (int, float)) else v)
                    for k, v in value.items()}
        return value

    @field_validator("environment")
    @classmethod
    def _env_entries(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            check_env_key(key)
            try:
                check_env_value(text)
            except Invalid as exc:
                raise Invalid(f"{key}: {exc}", exc.fix) from None
        return value

    @field_validator("entrypoint", "command")
    @classmethod
    def _argv(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_arguments(value)


    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        if value is not None and not all(USER.match(part) for part in value.split(":", 1)):
            raise Invalid(f"{value!r} is not a user", "write a name or UID, optionally with :group or :GID, such as 1000:1000")
        return value


    @model_validator(mode="after")
    def _distinct_targets(self) -> Service:
        # Two files mounted on one path: only one would be there, and which one is not defined.
        targets = [m.target for m in self.configs] + [secret_path(m.source) for m in self.secret_mounts]
        targets += [path for _, path, _ in self.volume_mounts()] + [path for _, path, _ in self.host_mounts()]
        doubled = sorted({t for t in targets if targets.count(t) > 1})
        if doubled:
            raise Invalid(f"{', '.join(doubled)} is mounted twice", "give each config, secret and volume its own target path")
        return self

    @property
    def dependencies(self) -> dict[str, DependsOn]:
        if isinstance(self.depends_on, list):
            return {name: DependsOn() for name in self.depends_on}
        return dict(self.depends_on)

    @property
    def secret_mounts(self) -> list[ServiceSecret]:
        return [s if isinstance(s, ServiceSecret) else ServiceSecret(source=s) for s in self.secrets]

    @property
    def exported_secrets(self) -> list[tuple[str, str]]:
        """(variable, secret name) for each plain variable the entrypoint wrapper fills from a file."""
        return [(variable, m.source) for m in self.secret_mounts for variable in m.exports]

    @property
    def long_running(self) -> bool:
        return self.role in LONG_RUNNING_ROLES

    def volume_mounts(self) -> list[tuple[str, str, bool]]:
        """(volume name, path in the container, read only) for each `name:/path[:ro]` entry."""
        mounts = []
        for entry in self.volumes:
            if is_host_path(entry):
                continue
            name, path, *mode = entry.split(":")
            mounts.append((name, path, mode == ["ro"]))
        return mounts

    @property
    def writes_state(self) -> bool:
        """True when the service writes a persistent volume: two copies must never run at once."""
        return any(not read_only for _, _, read_only in self.volume_mounts())

    def host_mounts(self) -> list[tuple[str, str, bool]]:
        """(host path, path in the container, read only) for each `/host/path:/path:ro` entry."""
        mounts = []
        for entry in self.volumes:
            if is_host_path(entry):
                host, path, *mode = entry.split(":")
                mounts.append((host, path, mode == ["ro"]))
        return mounts


def is_host_path(volume_entry: str) -> bool:
    """Compose's bind-mount form: an absolute host path instead of a volume name."""
    return volume_entry.startswith("/")


class Network(StrictModel):
    description: str
    internal: bool = False


class Volume(StrictModel):
    description: str


class Generate(StrictModel):
    length: int = Field(default=32, ge=16, le=128)


class Derive(StrictModel):
    """A secret file computed from another secret by a named renderer (e.g. a Redis ACL file)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from")
    renderer: str | None = None
    # `{secret}` in the text is replaced by the source's value, e.g. a URL carrying a password.
    template: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Derive:
        if (self.renderer is None) == (self.template is None):
            raise Invalid("needs exactly one of renderer or template", "name a secret renderer, or give template: with {secret} in it")
        if self.template is not None and "{secret}" not in self.template:
            raise Invalid("template has no {secret}", "write the secret's place as {secret}, e.g. redis://default:{secret}@redis:6379/0")
        return self


class Rotation(StrictModel):
    """How the secret is rotated (ops/rotation.py): which procedure, on which service, issued where.

    `procedure` names how the software on either side dictates the order; `server` is the service
    that stores or checks the value (Postgres for a role's password, the alert router for its
    receivers...); `issue`/`revoke` say where a provider issues and revokes the credential.
    """

    procedure: Literal["provider", "postgres_role", "redis_user", "session_key", "grafana_admin",
                       "alert_receiver", "key_pair", "snapshot_token"] = "provider"
    server: str | None = None
    issue: str | None = None
    revoke: str | None = None
    two_keys: bool = True
    issue_command: str | None = None
    revoke_command: str | None = None
    # key_pair: the secrets stored together before one deploy (this one among them).
    pair: list[str] = []
    # session_key: who signs in again.
    who: str | None = None


class Secret(StrictModel):
    """A credential: generated by the program, read from the stack's secret config, or derived from another."""

    description: str
    generate: Generate | None = None
    config: str | None = Field(default=None, description="stack config key set with `pulumi config set --secret`")
    derive: Derive | None = None
    rotation: Rotation | None = None
    spaces_key: Literal["access_key_id", "secret_access_key"] | None = Field(
        default=None, description="the half of the Spaces key pair this secret is: the backups bucket is "
                                  "created with the pair (targets/backup_storage.py)")

    @model_validator(mode="after")
    def _one_source(self) -> Secret:
        if sum(x is not None for x in (self.generate, self.config, self.derive)) != 1:
            raise Invalid(
                "needs exactly one of generate, config or derive",
                "add `generate: {}`, `config: <configKey>` or `derive: {from: <secret>, renderer: <name>}`",
            )
        return self


class ConfigFile(StrictModel):
    """A file the program renders (redis.conf, prometheus.yml...); `renderer` names the Python function."""

    description: str
    renderer: str


class Catalog(StrictModel):
    version: Literal[1]
    networks: dict[str, Network]
    volumes: dict[str, Volume] = {}
    secrets: dict[str, Secret] = {}
    configs: dict[str, ConfigFile] = {}
    services: dict[str, Service] = Field(min_length=1)
    # Entries of the file that failed their own validation (`services.redis`, `networks.data`...):
    # checks across entries stay quiet about them rather than report them a second time.
    _invalid: frozenset[str] = PrivateAttr(default=frozenset())
    # The role each invalid service declares, where it names one, and the services' order in the
    # file: one edge too many is still told while the other edge has a problem of its own.
    _invalid_roles: dict[str, str] = PrivateAttr(default_factory=dict)
    _order: tuple[str, ...] = PrivateAttr(default=())

    @property
    def invalid(self) -> frozenset[str]:
        return self._invalid

    def has_invalid(self, kind: str) -> bool:
        """Whether some entry of `kind` (services, networks...) failed its own validation."""
        return any(entry.startswith(f"{kind}.") for entry in self._invalid)

    def declared_roles(self) -> dict[str, str]:
        """Every service's role, valid or not (where it names one), in the file's order."""
        roles = {**{n: s.role for n, s in self.services.items()}, **self._invalid_roles}
        order = self._order or tuple(self.services)
        return {name: roles[name] for name in order if name in roles}

    def declared(self, kind: str) -> set[str]:
        """Names of `kind` (services, networks...) the file declares, valid or not."""
        return set(getattr(self, kind)) | {entry.split(".", 1)[1] for entry in self._invalid if entry.startswith(f"{kind}.")}

    @model_validator(mode="before")
    @classmethod
    def _drop_extension_fields(cls, data: object) -> object:
        # As in compose, top-level `x-...` keys hold YAML anchors shared by services.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not str(k).startswith("x-")}
        return data

    def services_on(self, network: str) -> list[str]:
        return [name for name, svc in self.services.items() if network in svc.networks]

    def start_order(self) -> list[str]:
        """Services ordered so each comes after everything it depends on (cross_check refuses cycles)."""
        ordered: list[str] = []
        placed: set[str] = set()

        def place(name: str) -> None:
            if name in placed:
                return
            placed.add(name)
            for dep in self.services[name].dependencies:
                place(dep)
            ordered.append(name)

        for name in self.services:
            place(name)
        return ordered


def cross_check(catalog: Catalog, file: str, declared: set[str] | None = None) -> list[Problem]:
    """What a single field cannot know: references, duplicates, cycles, secrets in plain text.

    `declared` holds every service name in the file, valid or not, so a reference to a
    service that failed its own validation is not reported a second time as missing.
    """
    declared = catalog.declared("services") | (declared or set())
    networks, volumes = catalog.declared("networks"), catalog.declared("volumes")
    secrets, configs = catalog.declared("secrets"), catalog.declared("configs")
    problems: list[Problem] = []

    def add(key: str, message: str, fix: str) -> None:
        problems.append(Problem(file, key, message, fix))

    for kind, names, pattern in (
        ("services", catalog.services, NAME),
        ("networks", catalog.networks, NAME),
        ("volumes", catalog.volumes, NAME),
        ("secrets", catalog.secrets, SECRET_NAME),
    ):
        for name in names:
            if not pattern.match(name):
                add(f"{kind}.{name}", "is not a valid name", f"use lower case letters, digits and {'_' if kind == 'secrets' else '-'}")

    ports_seen: dict[int, str] = {}
    for name, svc in catalog.services.items():
        at = f"services.{name}"
        if svc.port is not None:
            if svc.port in ports_seen:
                add(f"{at}.port", f"port {svc.port} is already used by {ports_seen[svc.port]}", "give each service its own port")
            ports_seen.setdefault(svc.port, name)
        for dep in svc.dependencies:
            if dep not in declared:
                add(f"{at}.depends_on.{dep}", f"depends on {dep!r}, which is not in the catalog", "fix the name or add the service")
            elif dep == name:
                add(f"{at}.depends_on.{dep}", "a service cannot depend on itself", "remove the entry")
        for net in svc.networks:
            if net not in networks:
                add(f"{at}.networks", f"network {net!r} is not declared", f"declare it under networks:, or use one of {sorted(catalog.networks)}")
        # Each entry's form (host paths read only, plain paths) is checked by the Service model.
        for i, entry in enumerate(svc.volumes):
            volume = entry.split(":")[0]
            if not is_host_path(entry) and volume not in volumes:
                add(f"{at}.volumes[{i}]", f"volume {volume!r} is not declared", "declare it under volumes:")
        for i, mount in enumerate(svc.secret_mounts):
            if mount.source not in secrets:
                add(f"{at}.secrets[{i}]", f"secret {mount.source!r} is not declared", "declare it under secrets:")
        for i, mount in enumerate(svc.configs):
            if mount.source not in configs:
                add(f"{at}.configs[{i}]", f"config {mount.source!r} is not declared", "declare it under configs:")
        for key, value in svc.environment.items():
            reason = placeholder_reason(value, credential=is_secret_looking_key(key))
            if reason:
                add(f"{at}.environment.{key}", f"value {reason}", "set a real value, or move it to secrets: and read it from a *_FILE")
            elif is_secret_looking_key(key) or has_url_password(value):
                add(f"{at}.environment.{key}", "holds a credential in plain text", f"declare a secret and pass {key}_FILE=/run/secrets/<name> instead")
        if svc.long_running and svc.healthcheck is None:
            add(f"{at}.healthcheck", "a long-running service has no health check", "add healthcheck: {path: /health} or a test command")
        if not svc.long_running and svc.restart in ("always", "unless-stopped"):
            add(f"{at}.restart", "a one-shot job would be restarted forever", "use restart: \"no\" or on-failure")
        if svc.route is not None:
            if svc.port is None:
                add(f"{at}.route", "a routed service needs a port", "add port:")
            if svc.readiness is None:
                add(f"{at}.readiness", "a routed service has no readiness path, so the edge cannot tell when it is ready", "add readiness: {path: /ready}")
        if svc.healthcheck and svc.healthcheck.path and svc.port is None:
            add(f"{at}.healthcheck.path", "an HTTP health check needs the service's port", "add port:")
        # Liveness (restart me) and readiness (send me traffic) are different questions.
        if svc.healthcheck and svc.healthcheck.path and svc.readiness is None:
            add(f"{at}.readiness", "an HTTP service has a liveness path but no readiness path", "add readiness: {path: /ready}")
        if svc.healthcheck and svc.readiness and svc.healthcheck.path == svc.readiness.path and svc.readiness.note is None:
            add(f"{at}.readiness.path", f"is the liveness path {svc.readiness.path} too, so it cannot tell alive from ready",
                "serve readiness on its own path, such as /ready, or add readiness.note: saying the image serves none")
        if svc.readiness is not None and svc.port is None:
            add(f"{at}.readiness", "a readiness path needs the service's port", "add port:")
        if (svc.replicas > 1 or svc.autoscaling) and (svc.writes_state or not svc.long_running):
            add(f"{at}.replicas", "only a stateless long-running service can run more than one copy",
                "remove replicas and autoscaling, or move its state to a datastore")
        if svc.exported_secrets and not svc.command:
            # The wrapper becomes the entrypoint, and a new entrypoint drops the image's CMD.
            add(f"{at}.command", "exports secrets into variables but states no command",
                "add command: with the image's own CMD, e.g. [python, main.py]")
        exported = [variable for variable, _ in svc.exported_secrets]
        for variable in sorted({v for v in exported if exported.count(v) > 1 or v in svc.environment}):
            add(f"{at}.secrets", f"{variable} is exported from a secret more than once, or also set in environment",
                "give each variable one source")

    # The backups bucket is created with one Spaces key pair: each half on one secret, both or neither.
    spaces_halves: dict[str, list[str]] = {}
    for name, secret in catalog.secrets.items():
        if secret.spaces_key is not None:
            spaces_halves.setdefault(secret.spaces_key, []).append(name)
    for half, holders in sorted(spaces_halves.items()):
        if len(holders) > 1:
            add("secrets", f"{', '.join(holders)} all claim spaces_key: {half}", f"give spaces_key: {half} to one secret")
    if len(spaces_halves) == 1:
        ((half, holders),) = spaces_halves.items()
        other = "secret_access_key" if half == "access_key_id" else "access_key_id"
        add(f"secrets.{holders[0]}.spaces_key", f"is the {half} of a Spaces key pair no secret completes",
            f"add spaces_key: {other} to the secret holding the other half, or remove this one")
    for name, secret in catalog.secrets.items():
        rotation = secret.rotation
        if rotation is not None:
            for ref in rotation.pair:
                if ref not in catalog.secrets:
                    add(f"secrets.{name}.rotation.pair", f"names {ref!r}, which is not a secret", "list the secrets stored together")
        if secret.derive is None:
            continue
        at = f"secrets.{name}.derive"
        source = catalog.secrets.get(secret.derive.source)
        if source is None and secret.derive.source in secrets:
            pass  # declared, but invalid: reported on its own
        elif source is None:
            add(f"{at}.from", f"secret {secret.derive.source!r} is not declared", "name a secret declared under secrets:")
        elif source.derive is not None:
            add(f"{at}.from", f"secret {secret.derive.source!r} is itself derived", "derive from a generated or config secret")
        if secret.derive.renderer is not None and secret.derive.renderer not in SECRET_RENDERERS:
            add(f"{at}.renderer", f"no secret renderer is named {secret.derive.renderer!r}", f"use one of {sorted(SECRET_RENDERERS)}")

    for name in _cycle(catalog):
        add(f"services.{name}.depends_on", "is part of a dependency cycle", "break the cycle: start order must be a tree")
    problems.extend(segmentation_problems(catalog, file))
    return problems


def published_ports(catalog: Catalog) -> tuple[int, ...]:
    """Host ports the catalog publishes (compose `HOST:CONTAINER`): what the firewall opens to the world."""
    return tuple(sorted({int(mapping.split(":")[-2]) for svc in catalog.services.values() for mapping in svc.ports}))


def segmentation_problems(catalog: Catalog, file: str) -> list[Problem]:
    """Least privilege on the networks: datastores sit on internal networks, joined only by their users."""
    problems: list[Problem] = []
    datastores = {name for name, svc in catalog.services.items() if svc.role == "datastore"}
    # A service that failed its own validation may be a datastore: who uses which is then unknown.
    unjudged = {entry.split(".", 1)[1] for entry in catalog.invalid if entry.startswith("services.")}
    for name in sorted(datastores):
        for net in catalog.services[name].networks:
            if net in catalog.networks and not catalog.networks[net].internal:
                problems.append(Problem(file, f"services.{name}.networks", f"a datastore on {net!r}, which is not internal",
                                        f"keep datastores on internal networks only, or mark {net} internal: true"))
    for name, svc in catalog.services.items():
        if name in datastores or unjudged & set(svc.dependencies):
            continue
        for net in svc.networks:
            stores = [d for d in datastores if net in catalog.services[d].networks]
            if stores and not set(stores) & set(svc.dependencies):
                problems.append(Problem(file, f"services.{name}.networks", f"joins {net!r} but uses none of its datastores ({', '.join(sorted(stores))})",
                                        f"remove {net} from its networks, or declare the datastore it uses under depends_on"))
    return problems


def _cycle(catalog: Catalog) -> list[str]:
    """The services on a depends_on cycle, if any (depth-first search with colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []
    found: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for dep in catalog.services[name].dependencies:
            if dep not in catalog.services or found:
                continue
            if state.get(dep) == 1:
                found.extend(stack[stack.index(dep):])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[name] = 2

    for name in catalog.services:
        if name not in state and not found:
            visit(name)
    return found


def load_catalog(path: Path, label: str | None = None) -> Catalog:
    """Read, validate and cross-check the catalog; raise InputError with every problem found."""
    catalog, problems = check_catalog(path, label)
    if problems:
        raise InputError(list(problems))
    assert catalog is not None
    return catalog


def check_catalog(path: Path, label: str | None = None) -> tuple[Catalog | None, tuple[Problem, ...]]:
    """Every problem of the catalog in one pass, and the catalog of its valid entries (None if unreadable).

    The result is frozen, so it is kept per file version: a preview reads the catalog for
    the stack file, the validation and the program, and pays for it once.

    Each entry (service, network, secret...) is validated on its own, so one broken entry
    neither hides the cross-check problems of the others nor is reported twice.
    """
    label = label or display_path(path)
    try:
        stat = path.stat()
    except OSError:
        return _load_catalog(path, label, None)
    return _load_catalog(path, label, (stat.st_mtime_ns, stat.st_size))


SECTIONS: dict[str, type[StrictModel]] = {
    "networks": Network, "volumes": Volume, "secrets": Secret, "configs": ConfigFile, "services": Service,
}


@functools.lru_cache(maxsize=8)
def _load_catalog(path: Path, label: str, version: tuple[int, int] | None) -> tuple[Catalog | None, tuple[Problem, ...]]:
    raw, problems = read_yaml(path, label)
    if problems:
        return None, tuple(problems)
    if not isinstance(raw, dict):
        return None, (Problem(label, "(top level)", "is not a mapping", "start the file with `version: 1`"),)
    valid: dict[str, dict[str, StrictModel]] = {}
    invalid: set[str] = set()
    for section, model in SECTIONS.items():
        entries = raw.get(section)
        if not isinstance(entries, dict):
            continue  # missing or of the wrong type: the Catalog model says so below
        valid[section] = {}
        for name, body in entries.items():
            if not isinstance(name, str):
                problems.append(Problem(label, f"{section}.{name}", "is not a name", "write the name as text, such as my-service"))
                continue
            try:
                valid[section][name] = model.model_validate(body)
            except ValidationError as exc:
                invalid.add(f"{section}.{name}")
                problems.extend(problems_from_validation(exc, label, prefix=(section, name)))
    try:
        catalog = Catalog.model_validate({**raw, **valid})
    except ValidationError as exc:
        some_services = isinstance(raw.get("services"), dict) and raw["services"]
        problems.extend(p for p in problems_from_validation(exc, label)
                        # "services: at least 1 item" when every service failed its own validation
                        if not (some_services and p.key == "services"))
        # Go on with what is valid, so the cross-checks report in this same pass.
        catalog = Catalog.model_construct(version=1, **{k: valid.get(k, {}) for k in SECTIONS})
    catalog._invalid = frozenset(invalid)
    raw_services = raw.get("services") if isinstance(raw.get("services"), dict) else {}
    catalog._order = tuple(name for name in raw_services if isinstance(name, str))
    catalog._invalid_roles = {name: body["role"] for name, body in raw_services.items()
                              if f"services.{name}" in invalid and isinstance(body, dict) and isinstance(body.get("role"), str)}
    problems.extend(cross_check(catalog, label))
    return catalog, tuple(problems)
