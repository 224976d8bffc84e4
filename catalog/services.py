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
from typing import Literal

from pydantic import ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from catalog.errors import InputError, Invalid, Problem
from catalog.model import Cpus, MemoryBytes, Seconds, StrictModel, display_path, problems_from_validation, read_yaml
from policies.devtools_policy.images import image_pin_problem, split_reference
from policies.devtools_policy.metric_sources import FAMILIES, unknown_families
from policies.devtools_policy.placeholders import is_secret_looking_key, placeholder_reason
from render.secret_renderers import SECRET_RENDERERS

NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
SECRET_NAME = re.compile(r"^[a-z][a-z0-9_]{0,60}$")
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
    retries: int = Field(default=3, ge=1)
    start_period: Seconds = 20.0

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


class Probe(StrictModel):
    path: str

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise Invalid(f"path {value!r} is not absolute", f"write it as /{value}")
        return value


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


class RateLimit(StrictModel):
    average: int = Field(ge=1, description="requests per second, sustained")
    burst: int = Field(ge=1)


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
        if not value.startswith("/"):
            raise Invalid(f"path_prefix {value!r} is not absolute", f"write it as /{value}")
        return value


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


class ConfigMount(StrictModel):
    source: str
    target: str


class DependsOn(StrictModel):
    condition: Literal["service_started", "service_healthy", "service_completed_successfully"] = "service_healthy"


class Service(StrictModel):
    build: Build | None = None  # before image: its validator reads it
    image: str
    role: Role
    description: str
    port: int | None = Field(default=None, ge=1, le=65535)
    entrypoint: list[str] | None = None
    command: list[str] | None = None
    environment: dict[str, str] = {}
    secrets: list[str | ServiceSecret] = []
    configs: list[ConfigMount] = []
    healthcheck: Healthcheck | None = None
    readiness: Readiness | None = None
    metrics: Metrics | None = None
    depends_on: list[str] | dict[str, DependsOn] = []
    networks: list[str] = Field(min_length=1)
    volumes: list[str] = []
    deploy: Deploy
    restart: Literal["no", "always", "on-failure", "unless-stopped"] = "unless-stopped"
    ports: list[str] = []
    cap_add: list[str] = []
    read_only: bool = False
    user: str | None = None
    route: Route | None = None

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
        if isinstance(value, dict):
            return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in value.items()}
        return value

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

    @model_validator(mode="before")
    @classmethod
    def _drop_extension_fields(cls, data: object) -> object:
        # As in compose, top-level `x-...` keys hold YAML anchors shared by services.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not str(k).startswith("x-")}
        return data

    def services_on(self, network: str) -> list[str]:
        return [name for name, svc in self.services.items() if network in svc.networks]


def cross_check(catalog: Catalog, file: str, declared: set[str] | None = None) -> list[Problem]:
    """What a single field cannot know: references, duplicates, cycles, secrets in plain text.

    `declared` holds every service name in the file, valid or not, so a reference to a
    service that failed its own validation is not reported a second time as missing.
    """
    declared = set(catalog.services) | (declared or set())
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
            if net not in catalog.networks:
                add(f"{at}.networks", f"network {net!r} is not declared", f"declare it under networks:, or use one of {sorted(catalog.networks)}")
        for i, entry in enumerate(svc.volumes):
            parts = entry.split(":")
            if is_host_path(entry):
                # Host paths (/proc, /sys, the Docker socket) are for agents that watch the host:
                # they may look, never write.
                if len(parts) != 3 or not parts[1].startswith("/") or parts[2] != "ro":
                    add(f"{at}.volumes[{i}]", f"{entry!r} mounts a host path without `:ro`",
                        "write it as /host/path:/path/in/container:ro")
                continue
            if len(parts) not in (2, 3) or not parts[1].startswith("/") or (len(parts) == 3 and parts[2] not in ("ro", "rw")):
                add(f"{at}.volumes[{i}]", f"{entry!r} is not `name:/path` or `name:/path:ro`", "write it like postgres-data:/var/lib/postgresql/data")
            elif parts[0] not in catalog.volumes:
                add(f"{at}.volumes[{i}]", f"volume {parts[0]!r} is not declared", "declare it under volumes:")
        for i, mount in enumerate(svc.secret_mounts):
            if mount.source not in catalog.secrets:
                add(f"{at}.secrets[{i}]", f"secret {mount.source!r} is not declared", "declare it under secrets:")
        for i, mount in enumerate(svc.configs):
            if mount.source not in catalog.configs:
                add(f"{at}.configs[{i}]", f"config {mount.source!r} is not declared", "declare it under configs:")
        for key, value in svc.environment.items():
            reason = placeholder_reason(value)
            if reason:
                add(f"{at}.environment.{key}", f"value {reason}", "set a real value, or move it to secrets: and read it from a *_FILE")
            elif is_secret_looking_key(key):
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
        if svc.exported_secrets and not svc.command:
            # The wrapper becomes the entrypoint, and a new entrypoint drops the image's CMD.
            add(f"{at}.command", "exports secrets into variables but states no command",
                "add command: with the image's own CMD, e.g. [python, main.py]")
        exported = [variable for variable, _ in svc.exported_secrets]
        for variable in sorted({v for v in exported if exported.count(v) > 1 or v in svc.environment}):
            add(f"{at}.secrets", f"{variable} is exported from a secret more than once, or also set in environment",
                "give each variable one source")

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
        if source is None:
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
    for name in sorted(datastores):
        for net in catalog.services[name].networks:
            if net in catalog.networks and not catalog.networks[net].internal:
                problems.append(Problem(file, f"services.{name}.networks", f"a datastore on {net!r}, which is not internal",
                                        f"keep datastores on internal networks only, or mark {net} internal: true"))
    for name, svc in catalog.services.items():
        if name in datastores:
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
    """Read, validate and cross-check the catalog; raise InputError with every problem found.

    The result is frozen, so it is kept per file version: a preview reads the catalog for
    the stack file, the validation and the program, and pays for it once.

    Each service is validated on its own, so one broken service does not hide the
    cross-check problems of the others.
    """
    label = label or display_path(path)
    try:
        stat = path.stat()
    except OSError:
        return _load_catalog(path, label, None)
    return _load_catalog(path, label, (stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _load_catalog(path: Path, label: str, version: tuple[int, int] | None) -> Catalog:
    raw, problems = read_yaml(path, label)
    if problems:
        raise InputError(problems)
    if not isinstance(raw, dict):
        raise InputError([Problem(label, "(top level)", "is not a mapping", "start the file with `version: 1`")])
    raw_services = raw.get("services")
    valid: dict[str, Service] = {}
    if isinstance(raw_services, dict):
        for name, body in raw_services.items():
            try:
                valid[name] = Service.model_validate(body)
            except ValidationError as exc:
                problems.extend(problems_from_validation(exc, label, prefix=("services", name)))
    catalog = None
    try:
        catalog = Catalog.model_validate({**raw, "services": valid} if valid else raw)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, label))
    if catalog is not None:
        declared = set(raw_services) if isinstance(raw_services, dict) else set()
        problems.extend(cross_check(catalog, label, declared))
    if problems:
        raise InputError(problems)
    assert catalog is not None
    return catalog
