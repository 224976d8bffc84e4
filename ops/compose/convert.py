"""A compose file's services turned into the catalog's hardened form.

What carries over as it is (images, commands, users, capabilities, health checks, limits) is
copied; what cannot becomes the catalog's form and a `FollowUp` saying exactly what to do:
credentials in plain environment values become secrets read from the stack's secret config,
published ports become edge routes (datastores publish nothing), the networks are the
catalog's segmentation derived from roles and the dependency graph, missing limits, health
checks and restart policies come from the defaults below and carry a `# REVIEW:` note.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.errors import Problem
from catalog.model import PROGRAM_DIR, read_yaml
from catalog.services import PROBE_TOOLS, SECRETS_DIR, secret_path
from catalog.settings import NAMESPACE
from catalog.units import parse_cpus, parse_memory
from catalog.wiring import addressed_hosts
from ops.compose.images import default_port, health_command, known_role, moving_tag_reason, reads_file_variables
from ops.compose.load import ComposeError, ComposeFile, read_dotenv
from ops.compose.ports import port_mappings
from policies.devtools_policy.container_rules import DOCKER_SOCKETS, SENSITIVE_HOST_DIRS
from policies.devtools_policy.credentials import credential_arguments, is_reference
from policies.devtools_policy.images import image_pin_problem, image_repository
from policies.devtools_policy.placeholders import is_secret_looking_key, placeholder_reason
from render.secret_renderers import ACL_RENDERER

# The defaults a service without its own gets, each marked for review in the written catalog.
DEFAULT_LIMITS = {"cpus": "0.5", "memory": "512M"}
DEFAULT_RESERVATIONS = {"cpus": "0.1", "memory": "256M"}
DEFAULT_RESTART = "unless-stopped"
JOB_RESTART = "on-failure"
DEFAULT_LIVENESS, DEFAULT_READINESS = "/health", "/ready"
DEFAULT_PROBE = PROBE_TOOLS[0]  # the tool inside the image that asks the liveness path
# Liveness of a container nothing better is known about: PID 1 is alive.
PROCESS_ALIVE = ["CMD-SHELL", "kill -0 1"]
# Host ports of a reverse proxy: the catalog's edge takes its place.
PROXY_PORTS = (80, 443)
# Redis images and their server binary; the durability flags a Redis must run with (the pack's redis-persistence).
REDIS_SERVERS = {"redis": "redis-server", "valkey": "valkey-server", "redis-stack-server": "redis-server"}
REDIS_DURABILITY = (("--appendonly", "yes"), ("--appendfsync", "everysec"))
# A Redis command that already sets a password or an ACL file (the pack's redis-authentication).
REDIS_AUTH_FLAGS = ("--requirepass", "--aclfile")
# Written in place of a credential a command line passes (`--requirepass X`): the catalog never holds the value,
# and the preview refuses the stand-in until the service reads the credential from a file.
COMMAND_CREDENTIAL = "<credential removed by import-compose>"
REDIS_SAVE_RULES = ("900 1", "300 10", "60 10000")
REDIS_DATA_DIR = "/data"
SHIPPED_CATALOG = PROGRAM_DIR / "config" / "services.yaml"

NETWORKS = {
    "edge": ("The edge proxy and the services it routes to.", False),
    "app": ("Services and the services they call.", False),
    "data": ("Datastores and the services that use them; no route to the outside.", True),
    "observability": ("Metrics, logs and dashboards.", False),
}

# Compose keys the catalog has no place for, and why dropping them is safe (or what replaces them).
DROPPED = {
    "container_name": "the program names containers itself, so a replacement starts before the old one stops",
    "logging": "log rotation comes from the stack's devtools:logMaxSize and devtools:logMaxFiles",
    "labels": "the program sets the devtools.* labels itself",
    "hostname": "services reach each other by service name",
    "privileged": "no container runs privileged: add the capabilities it needs to cap_add",
    "security_opt": "no-new-privileges is always set",
    "cap_drop": "every capability is dropped; cap_add lists the ones given back",
    "init": "an init process is always used",
    "network_mode": "services join the catalog's networks",
    "links": "services reach each other by name on shared networks; dependencies are in depends_on",
    "expose": "read as the service's port",
    "env_file": "its variables were merged into environment",
    "networks": "replaced by the catalog's segmentation (edge, app, data, observability)",
    "stop_grace_period": "the program's default stop timeout applies",
    "tmpfs": "the catalog has no tmpfs mounts",
}


# Dropped keys that are a gap of the compose file in their own right (the rest are only compose's way).
DROPPED_KINDS = {"privileged": "privileged", "network_mode": "host-namespace",
                 "pid": "host-namespace", "ipc": "host-namespace", "devices": "host-devices"}


@dataclass(frozen=True)
class FollowUp:
    """One thing the importer could not do for the operator: where, what, and the command if there is one."""

    where: str
    action: str
    command: str | None = None

    def render(self) -> str:
        return f"{self.where}: {self.action}" + (f"\n    $ {self.command}" if self.command else "")


@dataclass(frozen=True)
class Gap:
    """Something the compose file lacked or got wrong, found while importing it (the audit's evidence)."""

    kind: str
    service: str | None   # the compose service, None for the file as a whole
    key: str              # the compose key, dotted (services.api.deploy)
    detail: str


@dataclass
class Imported:
    document: dict[str, Any]
    notes: dict[tuple[str, ...], list[str]]
    followups: list[FollowUp]
    services: dict[str, str] = field(default_factory=dict)  # compose service -> catalog service
    dropped: list[str] = field(default_factory=list)         # compose services the edge replaces
    gaps: list[Gap] = field(default_factory=list)


def catalog_name(name: str, pattern: str = "-") -> str:
    """A compose name as the catalog spells names: lower case, digits and `-` (or `_` for secrets)."""
    text = re.sub(r"[^a-z0-9]+", pattern, name.lower()).strip(pattern)
    if not text or not text[0].isalpha():
        text = f"x{pattern}{text}"
    return text[:41 if pattern == "-" else 61]


def camel(name: str) -> str:
    head, *rest = re.split(r"[_\-]+", name)
    return head + "".join(part.capitalize() for part in rest)


# Wider than the catalog's own check (is_secret_looking_key), since nothing has been reviewed yet:
# SECRET_KEY-style names, and URLs that carry a password (postgres://user:pass@host, redis://:pass@host).
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|(^|_)KEY$", re.I)
_URL_PASSWORD = re.compile(r"://[^/\s:@]*:[^@\s/]+@")


def looks_secret(var: str, value: str) -> bool:
    if var.upper().endswith("_FILE"):
        return False
    return is_secret_looking_key(var) or bool(_SECRET_NAME.search(var)) or bool(_URL_PASSWORD.search(value))


def is_sensitive_host_path(path: str) -> bool:
    """A host system directory (the pack's list) or something inside one."""
    clean = path.rstrip("/") or "/"
    return any(clean == d or (d != "/" and clean.startswith(d + "/")) for d in SENSITIVE_HOST_DIRS)


def _as_env(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _redacted(arg: str, value: str) -> str:
    """`arg` without `value`: the argument itself, its `KEY=value` / `--flag=value` form, or inside a shell script."""
    if arg == value:
        return COMMAND_CREDENTIAL
    if arg.endswith("=" + value):
        return arg[: -len(value)] + COMMAND_CREDENTIAL
    return arg.replace(value, COMMAND_CREDENTIAL) if any(ch.isspace() for ch in arg) else arg


def _split_command(value: Any) -> list[str] | None:
    if value is None:
        return None
    return shlex.split(value) if isinstance(value, str) else [str(part) for part in value]


class Converter:
    def __init__(self, compose: ComposeFile, shipped_catalog: Path = SHIPPED_CATALOG):
        self.compose = compose
        self.base = compose.path.parent
        self.shipped_catalog = shipped_catalog
        self.notes: dict[tuple[str, ...], list[str]] = {}
        self.followups: list[FollowUp] = []
        self.problems: list[Problem] = []
        self.secrets: dict[str, dict[str, Any]] = {}
        self.secret_by_value: dict[str, str] = {}
        self.volumes: dict[str, dict[str, Any]] = {}
        self.names = {name: catalog_name(name) for name in compose.services}
        self.compose_names = {key: name for name, key in self.names.items()}
        self.env_file_of: dict[str, dict[str, str]] = {}      # service -> variable -> the env_file it came from
        self.file_readers: dict[str, list[str]] = {}          # variable -> services that must now read <VAR>_FILE
        self.gaps: list[Gap] = []
        self.environments = {name: self._environment(name, svc) for name, svc in compose.services.items()}
        self.extensions = {name: dict(svc.get("x-devtools") or {}) for name, svc in compose.services.items()}
        self.ports = {name: port_mappings(svc.get("ports")) for name, svc in compose.services.items()}
        self.jobs = {dep for svc in compose.services.values() for dep, cond in self._depends(svc).items()
                     if cond.get("condition") == "service_completed_successfully"}
        self.roles = {name: self._role(name, svc) for name, svc in compose.services.items()}
        self.proxies = [name for name, svc in compose.services.items()
                        if self.roles[name] != "datastore" and any(m.host in PROXY_PORTS for m in self.ports[name])]
        self.routed = {dep for proxy in self.proxies for dep in self._depends(compose.services[proxy]) if dep not in self.proxies}
        self.sign_on: set[str] = set()  # the shipped single sign-on service, found with the edge template
        self.routed |= {name for name, svc in compose.services.items() if name not in self.proxies
                        and self.roles[name] != "datastore" and any(m.host is not None for m in self.ports[name])}

    # --- helpers ------------------------------------------------------------------------------

    def note(self, kind: str | None, path: tuple[str, ...], text: str, compose_key: str | None = None) -> None:
        """A `# REVIEW:` comment at `path` of the catalog; `kind` names the gap of the compose file it shows,
        found at the service's `compose_key` (by default the catalog key of the same name)."""
        self.notes.setdefault(path, []).append(text)
        if kind:
            service = self.compose_names.get(path[1]) if len(path) > 1 and path[0] == "services" else None
            field = compose_key or ".".join(path[2:3])
            key = ".".join(p for p in ("services", service, field) if p) if service else ".".join(path)
            self._gap(kind, service, key, text)

    def follow(self, kind: str | None, where: str, action: str, command: str | None = None) -> None:
        """A follow-up printed after the import; `where` is the compose key it concerns."""
        self.followups.append(FollowUp(where, action, command))
        if kind:
            parts = where.split(".")
            service = parts[1].split("[")[0] if parts[0] == "services" and len(parts) > 1 else None
            self._gap(kind, service, where, action)

    def _gap(self, kind: str, service: str | None, key: str, detail: str) -> None:
        if not any((g.kind, g.service, g.key) == (kind, service, key) for g in self.gaps):  # each once
            self.gaps.append(Gap(kind, service, key, detail))

    @staticmethod
    def _depends(svc: dict[str, Any]) -> dict[str, dict[str, Any]]:
        raw = svc.get("depends_on") or {}
        if isinstance(raw, list):
            return {name: {"condition": "service_started"} for name in raw}
        return {name: dict(body or {}) for name, body in raw.items()}

    def _environment(self, name: str, svc: dict[str, Any]) -> dict[str, str]:
        """env_file entries first, then `environment` (list or map form), as compose merges them."""
        env: dict[str, str] = {}
        files = svc.get("env_file") or []
        for entry in [files] if isinstance(files, str) else files:
            path, required = (entry, True) if isinstance(entry, str) else (entry["path"], entry.get("required", True))
            file = (self.base / path)
            if not file.exists() and not required:
                continue
            values, problems = read_dotenv(file, str(file), f"create it (compose refuses a missing env_file too), or list it "
                                           f"under services.{name}.env_file as {{path: {path}, required: false}}")
            self.problems.extend(problems)
            env.update(values)
            self.env_file_of.setdefault(name, {}).update(dict.fromkeys(values, str(path)))
        raw = svc.get("environment") or {}
        items = [item.split("=", 1) if "=" in item else [item, None] for item in raw] if isinstance(raw, list) else list(raw.items())
        for key, value in items:
            if value is None:  # `- KEY` alone: the value comes from the shell, as compose passes it through
                if key in self.compose.variables:
                    env[key] = self.compose.variables[key]
                continue
            env[key] = _as_env(value)
        return env

    def _role(self, name: str, svc: dict[str, Any]) -> str:
        if "role" in self.extensions[name]:
            return str(self.extensions[name]["role"])
        if name in self.jobs:
            return "job"
        return known_role(str(svc.get("image") or "")) or "service"

    # --- the conversion -----------------------------------------------------------------------

    def run(self) -> Imported:
        services: dict[str, dict[str, Any]] = {}
        for variable in sorted(self.compose.missing):
            self.follow("unset-variable", f"${{{variable}}}", "is unset and has no default, so it was replaced by an empty string (as compose does); "
                        "set it in the .env file, or give it a default with ${" + variable + ":-value}")
        template = self._edge_template() if self.routed else None
        if template:
            self._make_room_for(template)
        # Only the compose file's own single sign-on gives way to the catalog's.
        replaced = self.sign_on & set(template["services"]) if template else set()
        for name in self.proxies:
            self.follow("proxy-replaced", f"services.{name}", f"dropped: it publishes {'/'.join(map(str, PROXY_PORTS))}, and the catalog's edge "
                        "(Traefik with TLS, single sign-on and rate limits) takes its place; each service it routed to "
                        "has a route: now (review the path prefixes)")
        for name, svc in self.compose.services.items():
            if name in self.proxies:
                continue
            if self.names[name] in replaced:
                self.follow(None, f"services.{name}", f"replaced by the catalog's own {self.names[name]} (the edge's single sign-on)")
                continue
            services[self.names[name]] = self._service(name, svc)
        self._segment(services)
        declared = self.compose.model.get("networks") or {}
        if len(declared) <= 1 and any(role == "datastore" for role in self.roles.values()):
            self._gap("flat-network", None, "networks", "one network for every service: each reaches every datastore")
        document: dict[str, Any] = {"version": 1}
        used_networks = sorted({net for svc in services.values() for net in svc["networks"]}, key=list(NETWORKS).index)
        if template:
            used_networks = sorted(set(used_networks) | {n for s in template["services"].values() for n in s.get("networks", [])},
                                   key=lambda n: list(NETWORKS).index(n) if n in NETWORKS else 99)
        document["networks"] = {}
        for net in used_networks:
            description, internal = NETWORKS.get(net, (f"Network {net} of the edge.", False))
            document["networks"][net] = {"description": description, **({"internal": True} if internal else {})}
        if self.compose.model.get("networks"):
            self.note(None, ("networks",), f"the compose networks ({', '.join(self.compose.model['networks'])}) are replaced by this "
                      "segmentation: datastores on the internal data network, joined only by the services that depend on them")
        volumes = dict(self.volumes)
        secrets = dict(self.secrets)
        configs: dict[str, Any] = {}
        if template:
            volumes.update(template["volumes"])
            secrets.update(template["secrets"])
            configs.update(template["configs"])
            services.update(template["services"])
            self.note(None, ("services", next(iter(template["services"]))),
                      "the edge and its single sign-on come from the project's catalog (config/services.yaml)")
        for key, value in (("volumes", volumes), ("secrets", secrets), ("configs", configs)):
            if value:
                document[key] = value
        document["services"] = services
        for var, readers in self.file_readers.items():
            self.follow(None, f"environment.{var}", f"make {', '.join(readers)} read {var} from the file named by {var}_FILE "
                        "(the value is no longer in the environment)")
        if self.problems:
            raise ComposeError(list(dict.fromkeys(self.problems)))
        return Imported(document, self.notes, self.followups, {n: self.names[n] for n in self.compose.services
                                                               if n not in self.proxies and self.names[n] not in replaced},
                        list(self.proxies), self.gaps)

    def _service(self, name: str, svc: dict[str, Any]) -> dict[str, Any]:
        key = self.names[name]
        at = ("services", key)
        where = f"services.{name}"
        role = self.roles[name]
        extension = self.extensions[name]
        out: dict[str, Any] = {"image": self._image(name, svc), "role": role}
        out["description"] = str(extension.get("description") or f"Imported from the compose service {name}.")
        port = self._port(name, svc)
        if port is not None:
            out["port"] = port
        for field_name in ("entrypoint", "command"):
            value = _split_command(svc.get(field_name))
            if value is not None:
                out[field_name] = self._without_credentials(name, key, field_name, value)
        environment, mounts = self._secrets_of(name, svc)
        if environment:
            out["environment"] = environment
        if mounts:
            out["secrets"] = mounts
        healthcheck = self._healthcheck(name, svc, port, role)
        if healthcheck is not None:
            out["healthcheck"] = healthcheck
        if "readiness" in extension:
            out["readiness"] = dict(extension["readiness"])
        elif name in self.routed or (healthcheck or {}).get("path"):
            out["readiness"] = {"path": DEFAULT_READINESS}
            self.note("readiness-missing", (*at, "readiness"), f"filled: the edge sends traffic only once {DEFAULT_READINESS} answers 200; "
                      "point it at the service's real readiness path", "healthcheck")
        if "metrics" in extension:
            out["metrics"] = dict(extension["metrics"])
        depends = self._dependencies(name, svc)
        if depends:
            out["depends_on"] = depends
        out["networks"] = []  # filled by _segment, once every service's dependencies are known
        volumes = self._volumes(name, svc)
        if volumes:
            out["volumes"] = volumes
        out["deploy"] = self._deploy(name, svc)
        out["restart"] = self._restart(name, svc, role)
        for field_name in ("cap_add", "read_only", "user"):
            if svc.get(field_name) not in (None, [], False):
                out[field_name] = svc[field_name] if field_name != "user" else str(svc[field_name])
        if role == "datastore" and image_repository(out["image"]) in REDIS_SERVERS:
            self._durable_redis(key, out)
            self._authenticated_redis(key, out)
        if out.get("read_only") and out.get("secrets"):
            del out["read_only"]
            self.note("read-only-dropped", at, "read_only dropped: Docker cannot upload the secret files into a read-only root filesystem")
        if name in self.routed and port is not None:
            route = dict(extension.get("route") or {"path_prefix": f"/{key}"})
            out["route"] = route
            if "route" not in extension:
                self.note("published-port", (*at, "route"), f"was a published port (or behind the replaced proxy): routed at {route['path_prefix']} "
                          "behind single sign-on; set public: true only for pages anyone may see", "ports")
        self._drop_unsupported(name, svc)
        for mapping in self.ports[name]:
            if mapping.host is not None and role == "datastore":
                self.follow("datastore-port", f"{where}.ports", f"dropped the published port {mapping.host}: a datastore is reached only by name "
                            f"({key}:{mapping.container}) on the internal data network; use an SSH tunnel to reach it from outside",
                            f"ssh -L {mapping.host}:<container address>:{mapping.container} root@<droplet>")
        return out

    def _durable_redis(self, key: str, out: dict[str, Any]) -> None:
        """Redis keeps its data across a restart: AOF every second, RDB snapshots, on a volume."""
        server = REDIS_SERVERS[image_repository(out["image"])]
        command = list(out.get("command") or [server])
        added = [arg for flag, value in REDIS_DURABILITY if flag not in command for arg in (flag, value)]
        if "--save" not in command:
            added += [arg for rule in REDIS_SAVE_RULES for arg in ("--save", rule)]
        if added:
            out["command"] = command + added
            self.note("redis-persistence", ("services", key, "command"), f"{' '.join(added)} added: Redis must keep its data across a restart")
        if not any(entry.split(":")[1] == REDIS_DATA_DIR for entry in out.get("volumes", [])):
            volume = catalog_name(f"{key}-data")
            self.volumes.setdefault(volume, {"description": f"Redis data of {key} (AOF and RDB files)."})
            out["volumes"] = [*out.get("volumes", []), f"{volume}:{REDIS_DATA_DIR}"]
            self.note("redis-persistence", ("services", key, "volumes"), f"{volume} added: Redis writes its AOF and RDB files to {REDIS_DATA_DIR}")

    def _without_credentials(self, name: str, key: str, field_name: str, args: list[str]) -> list[str]:
        """`args` with the value of each credential they pass replaced by COMMAND_CREDENTIAL."""
        # Shortest first: a shell script's `KEY=value rest` is also read as one long value, which must not
        # take the rest of the script with it.
        for flag, value in sorted(credential_arguments(args), key=lambda found: len(found[1])):
            redacted = [_redacted(arg, value) for arg in args]
            if is_reference(value) or redacted == args:
                continue
            args = redacted
            self.note("secret-in-command", ("services", key, field_name),
                      f"{flag} passed a credential here; its value is not written")
            self.follow(None, f"services.{name}.{field_name}",
                        f"{flag} passes a credential on the command line: declare a secret for it, have the service "
                        f"read it from its file under {SECRETS_DIR}, and remove the argument")
        return args

    def _authenticated_redis(self, key: str, out: dict[str, Any]) -> None:
        """Redis lets nobody in without a password (the pack's redis-authentication): a generated password,
        its ACL file (the catalog's redis_acl renderer) delivered as a secret, and --aclfile naming it."""
        command = list(out.get("command") or [])
        if any(isinstance(arg, str) and arg.startswith(REDIS_AUTH_FLAGS) for arg in command):
            return
        base = key.replace("-", "_")
        password, acl = f"{base}_password", f"{base}_acl"
        self.secrets.setdefault(password, {"description": f"Password of the default user of {key}.", "generate": {}})
        self.secrets.setdefault(acl, {"description": f"ACL file of {key}: its default user and the password's hash.",
                                      "derive": {"from": password, "renderer": ACL_RENDERER}})
        out["secrets"] = [*out.get("secrets", []), acl]
        out["command"] = [*command, "--aclfile", secret_path(acl)]
        self.note(None, ("services", key, "command"), f"--aclfile {secret_path(acl)} added: Redis let anyone in without a password")
        self.follow(None, f"services.{self.compose_names.get(key, key)}",
                    f"give the services that use {key} its password: list {password} under their secrets and have them "
                    f"read {secret_path(password)}")

    def _image(self, name: str, svc: dict[str, Any]) -> str:
        where = f"services.{name}.image"
        project = catalog_name(str(self.compose.model.get("name") or self.base.resolve().name))
        image = str(svc.get("image") or f"{project}-{name}")
        if "build" in svc:
            context = svc["build"] if isinstance(svc["build"], str) else svc["build"].get("context", ".")
            self.note("build", ("services", self.names[name], "image"), "built by compose: the program deploys images, it does not build them")
            self.follow(None, where, f"build and push the image (context {context}), then write the pushed, versioned name as image:",
                        f"docker build -t <registry>/{image_base(image)}:<version> {context} && docker push <registry>/{image_base(image)}:<version>")
        message = moving_tag_reason(image)
        if message:
            self.note("moving-tag", ("services", self.names[name], "image"), f"{message}: pin a version tag or a digest")
            if "build" not in svc:
                self.follow(None, where, f"{message}; pin the version running today by its digest (or a released version tag)",
                            f"docker pull {image} && docker image inspect --format '{{{{index .RepoDigests 0}}}}' {image}")
        return image

    def _port(self, name: str, svc: dict[str, Any]) -> int | None:
        if "port" in self.extensions[name]:
            return int(self.extensions[name]["port"])
        mappings = self.ports[name]
        if mappings:
            if len(mappings) > 1:
                self.follow("extra-ports", f"services.{name}.ports", f"only the first port ({mappings[0].container}) is the service's port; "
                            f"{', '.join(str(m.container) for m in mappings[1:])} stay reachable by name inside the networks")
            return mappings[0].container
        if svc.get("expose"):
            return int(str(svc["expose"][0]).split("/")[0].split("-")[0])
        test = svc.get("healthcheck", {}).get("test")
        text = " ".join(test) if isinstance(test, list) else str(test or "")
        match = re.search(r"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0)(?::(\d+))?", text)
        if match and match.group(1):
            return int(match.group(1))
        return default_port(str(svc.get("image") or ""))

    def _secrets_of(self, name: str, svc: dict[str, Any]) -> tuple[dict[str, str], list[Any]]:
        """Plain environment values, and the secret mounts (compose secrets and credentials moved out of env)."""
        key = self.names[name]
        where = f"services.{name}"
        mounts: list[Any] = []
        env = dict(self.environments[name])
        raw_env = svc.get("environment") or {}
        own_env = {item.split("=", 1)[0] for item in raw_env} if isinstance(raw_env, list) else set(raw_env)
        targets: dict[str, str] = {}
        for entry in svc.get("secrets") or []:
            source = entry if isinstance(entry, str) else entry["source"]
            secret = self._compose_secret(source)
            target = None if isinstance(entry, str) else entry.get("target")
            if target and target.lstrip("/") not in (source, f"{SECRETS_DIR}/{source}".lstrip("/")):
                self.note("secret-target", ("services", key, "secrets"), f"{source} was mounted at {target}; the catalog mounts it at {SECRETS_DIR}/{secret}")
            targets[secret] = secret
        for var, value in sorted(env.items()):
            if var.endswith("_FILE") and value.startswith(f"{SECRETS_DIR}/"):
                secret = catalog_name(value[len(SECRETS_DIR) + 1:], "_")
                if secret in targets:
                    targets[secret] = var
                    del env[var]
        for secret, var in targets.items():
            mounts.append(secret if var == secret else {"source": secret, "env": var})
        for var in sorted(env):
            value = env[var]
            reason = placeholder_reason(value, credential=looks_secret(var, value))
            if looks_secret(var, value):
                secret = self._env_secret(name, var, value)
                mounts.append({"source": secret, "env": f"{var}_FILE"})
                del env[var]
                self.note("secret-in-env", ("services", key, "secrets"), f"{var} was a plain environment value; it is now the secret {secret}, "
                          f"a file named by {var}_FILE", f"environment.{var}" if var in own_env else "env_file")
                if not reads_file_variables(str(svc.get("image") or "")):
                    self.file_readers.setdefault(var, []).append(key)
            elif reason:
                self.note("placeholder-value", ("services", key, "environment"), f"{var} {reason}: set the real value")
                self.follow(None, f"{where}.environment.{var}", f"the value {reason}; the catalog refuses stand-ins: write the real value")
        return env, mounts

    def _compose_secret(self, source: str) -> str:
        name = catalog_name(source, "_")
        if name in self.secrets:
            return name
        spec = (self.compose.model.get("secrets") or {}).get(source) or {}
        config = camel(name)
        self.secrets[name] = {"description": f"Imported from the compose secret {source}.", "config": config}
        command = f"pulumi config set --secret {NAMESPACE}:{config}"
        if "file" in spec:
            self.follow(None, f"secrets.{source}", f"set the stack secret from the file {spec['file']}", f"{command} < {spec['file']}")
        elif "environment" in spec:
            self.follow(None, f"secrets.{source}", f"set the stack secret from the variable {spec['environment']}",
                        f"printenv {spec['environment']} | {command}")
        else:
            self.follow(None, f"secrets.{source}", "set the stack secret (it was external to compose)", command)
        return name

    def _env_secret(self, service: str, var: str, value: str) -> str:
        """One catalog secret per distinct value: two services given the same password share one secret."""
        digest = hashlib.sha256(value.encode()).hexdigest()
        if value and digest in self.secret_by_value:
            return self.secret_by_value[digest]
        name = catalog_name(var, "_")
        if name in self.secrets:
            name = catalog_name(f"{service}_{var}", "_")
        config = camel(name)
        self.secrets[name] = {"description": f"{var} of the compose service {service}, moved out of its environment.", "config": config}
        if value:
            self.secret_by_value[digest] = name
        env_file = self.env_file_of.get(service, {}).get(var)
        raw_env = self.compose.services[service].get("environment") or {}
        written = var in ({item.split("=", 1)[0] for item in raw_env} if isinstance(raw_env, list) else set(raw_env))
        origin = (f"the env_file {env_file}" if env_file and not written else
                  "the .env file" if var in self.compose.dotenv_keys else f"services.{service}.environment")
        state = "has no value yet" if not value else f"its current value is {var} in {origin} (rotate it: it was in plain text)"
        self.follow(None, f"services.{service}.environment.{var}", f"set the stack secret; {state}",
                    f"pulumi config set --secret {NAMESPACE}:{config}")
        return name

    def _healthcheck(self, name: str, svc: dict[str, Any], port: int | None, role: str) -> dict[str, Any] | None:
        at = ("services", self.names[name], "healthcheck")
        raw = svc.get("healthcheck") or {}
        test = raw.get("test")
        disabled = raw.get("disable") or (isinstance(test, list) and test[:1] == ["NONE"])
        if test and not disabled:
            out: dict[str, Any] = {"test": ["CMD-SHELL", test] if isinstance(test, str) else [str(t) for t in test]}
            for option in ("interval", "timeout", "start_period", "retries"):
                if option in raw:
                    out[option] = raw[option]
            return out
        if role == "job":
            return None
        command = health_command(str(svc.get("image") or ""))
        if command:
            self.note("healthcheck-missing", at, "filled: the compose file had none; this is the image's usual check")
            return {"test": ["CMD-SHELL", command]}
        if port is not None:
            self.note("healthcheck-missing", at, f"filled: the compose file had none; check that the service answers {DEFAULT_LIVENESS} "
                      f"on port {port}, and that the image has {DEFAULT_PROBE} (else set probe: to one of {', '.join(PROBE_TOOLS)})")
            return {"path": DEFAULT_LIVENESS, "probe": DEFAULT_PROBE}
        self.note("healthcheck-missing", at, "filled: the compose file had none, and this only proves the process runs: write a real check")
        return {"test": list(PROCESS_ALIVE)}

    def _dependencies(self, name: str, svc: dict[str, Any]) -> dict[str, Any]:
        at = ("services", self.names[name], "depends_on")
        out: dict[str, Any] = {}
        for dep, body in self._depends(svc).items():
            if dep in self.proxies:
                continue
            condition = body.get("condition", "service_started")
            out[self.names.get(dep, dep)] = {"condition": condition}
            dropped = [k for k in ("required", "restart") if k in body]
            if dropped:
                self.note("depends-option-dropped", at, f"{', '.join(dropped)} of {dep} dropped: the catalog orders start-up only")
        # A datastore named in the environment is a dependency even when compose did not say so.
        stores = [other for other, role in self.roles.items() if role == "datastore" and other != name and self.names[other] not in out]
        for store in stores:
            if any(re.search(rf"(?<![\w-]){re.escape(store)}(?![\w-])", value) for value in self.environments[name].values()):
                out[self.names[store]] = {"condition": "service_healthy"}
                self.note("implicit-dependency", at, f"{self.names[store]} added: the environment names it, and only its users join its network")
        # Any other service whose address the environment holds is called: the networks follow depends_on.
        called = {host for variable, value in self.environments[name].items() for host, _ in addressed_hosts(value, variable)}
        for other in sorted(called & set(self.compose.services) - {name} - set(self.proxies)):
            if self.names[other] not in out and name not in self._depends(self.compose.services[other]):
                out[self.names[other]] = {"condition": "service_started"}
                self.note("implicit-dependency", at, f"{self.names[other]} added: the environment holds its address, "
                          "and the networks let through only depends_on edges")
        return out

    def _volumes(self, name: str, svc: dict[str, Any]) -> list[str]:
        key = self.names[name]
        where = f"services.{name}.volumes"
        out: list[str] = []
        top = self.compose.model.get("volumes") or {}
        for i, entry in enumerate(svc.get("volumes") or []):
            if isinstance(entry, dict):
                kind, source, target = entry.get("type", "volume"), entry.get("source"), entry["target"]
                read_only = bool(entry.get("read_only"))
            else:
                parts = str(entry).split(":")
                if len(parts) == 1:
                    kind, source, target, read_only = "volume", None, parts[0], False
                else:
                    source, target = parts[0], parts[1]
                    read_only = len(parts) > 2 and "ro" in parts[2].split(",")
                    kind = "bind" if source.startswith((".", "/", "~")) else "volume"
            mode = ":ro" if read_only else ""
            if kind == "tmpfs":
                self.follow("tmpfs", f"{where}[{i}]", f"dropped the tmpfs at {target}: the catalog has no tmpfs mounts")
            elif kind == "volume":
                volume = catalog_name(source) if source else catalog_name(f"{key}-{Path(target).name or 'data'}")
                described = (top.get(source) or {}) if source else {}
                self.volumes.setdefault(volume, {"description": f"Imported from the compose volume {source or target}."})
                if described.get("external"):
                    self.follow("external-volume", f"volumes.{source}", f"was external; the program creates {volume} on the block volume: copy the data in")
                out.append(f"{volume}:{target}{mode}")
            elif str(source) in DOCKER_SOCKETS:
                self.follow("docker-socket", f"{where}[{i}]", f"dropped the mount of {source}: the Docker socket is root on the host; if {key} "
                            "must watch containers, allow it read-only in the docker-socket-mount policy's allowedServices "
                            "and add the mount back with :ro")
            elif is_sensitive_host_path(str(source)):
                self.follow("sensitive-host-mount", f"{where}[{i}]", f"dropped the mount of the host's {source}: system directories stay on the host; "
                            "bake what it needs into the image, or put the data on a volume")
            elif str(source).startswith("/"):
                if not read_only:
                    self.note("writable-host-mount", ("services", key, "volumes"), f"{source} was mounted writable; host paths are read-only in the catalog")
                out.append(f"{source}:{target}:ro")
            else:
                local = (self.base / str(source)).resolve()
                if local.is_file() or (not local.exists() and Path(str(source)).suffix):
                    self.follow("config-file", f"{where}[{i}]", f"dropped the bind mount of the file {source}: the program delivers only files it "
                                "renders; bake it into the image, or add a renderer to render/registry.py and a configs: entry")
                    continue
                volume = catalog_name(f"{key}-{Path(str(source)).name or 'data'}")
                self.volumes.setdefault(volume, {"description": f"Was the bind mount {source} of {name}."})
                self.follow("bind-mount", f"{where}[{i}]", f"{source} is now the volume {volume}; copy its contents onto the droplet after the first deploy",
                            f"rsync -a {source.rstrip('/')}/ root@<droplet>:/mnt/devtools-data/{volume}/")
                out.append(f"{volume}:{target}{mode}")
        return out

    def _deploy(self, name: str, svc: dict[str, Any]) -> dict[str, Any]:
        at = ("services", self.names[name], "deploy")
        resources = ((svc.get("deploy") or {}).get("resources") or {})
        limits = {k: str(v) for k, v in (resources.get("limits") or {}).items() if k in ("cpus", "memory")}
        reservations = {k: str(v) for k, v in (resources.get("reservations") or {}).items() if k in ("cpus", "memory")}
        if "mem_limit" in svc:
            limits.setdefault("memory", str(svc["mem_limit"]))
        if "cpus" in svc:
            limits.setdefault("cpus", str(svc["cpus"]))
        if "mem_reservation" in svc:
            reservations.setdefault("memory", str(svc["mem_reservation"]))
        filled = [f"limits.{k}" for k in ("cpus", "memory") if k not in limits]
        filled += [f"reservations.{k}" for k in ("cpus", "memory") if k not in reservations]
        for k in ("cpus", "memory"):
            limits.setdefault(k, DEFAULT_LIMITS[k])
        parse = {"cpus": parse_cpus, "memory": parse_memory}
        for k in ("cpus", "memory"):
            if k not in reservations:
                default = DEFAULT_RESERVATIONS[k]
                reservations[k] = default if parse[k](default) <= parse[k](limits[k]) else limits[k]
        if filled:
            missing_limits = any(item.startswith("limits.") for item in filled)
            self.note("limits-missing" if missing_limits else "reservations-missing", at, f"filled from the defaults ({', '.join(filled)}): limits {DEFAULT_LIMITS['cpus']} CPU / "
                      f"{DEFAULT_LIMITS['memory']}, reservations up to {DEFAULT_RESERVATIONS['cpus']} CPU / "
                      f"{DEFAULT_RESERVATIONS['memory']}; size them from what the service uses")
        replicas = (svc.get("deploy") or {}).get("replicas")
        if replicas not in (None, 1):
            self.note("replicas", at, f"replicas: {replicas} dropped: the droplet runs one container per service")
        return {"resources": {"limits": {"cpus": limits["cpus"], "memory": limits["memory"]},
                              "reservations": {"cpus": reservations["cpus"], "memory": reservations["memory"]}}}

    def _restart(self, name: str, svc: dict[str, Any], role: str) -> str:
        at = ("services", self.names[name], "restart")
        policy = svc.get("restart")
        condition = ((svc.get("deploy") or {}).get("restart_policy") or {}).get("condition")
        if policy is None and condition is not None:
            policy = {"any": "always", "none": "no", "on-failure": "on-failure"}.get(condition)
        if isinstance(policy, str) and policy.startswith("on-failure:"):
            self.note("restart-retries", at, f"{policy}: the retry count is dropped")
            policy = "on-failure"
        if role == "job" and policy in (None, "always", "unless-stopped"):
            # Compose's own default ("no") is fine for a job; restarting it forever is the gap.
            self.note("job-restart" if policy else None, at, f"{JOB_RESTART}: a one-shot job must not be restarted once it has succeeded")
            return JOB_RESTART
        if policy not in ("no", "always", "on-failure", "unless-stopped"):
            self.note("restart-missing", at, f"filled: {DEFAULT_RESTART}, so the service comes back after a crash or a reboot")
            return DEFAULT_RESTART
        return policy

    def _drop_unsupported(self, name: str, svc: dict[str, Any]) -> None:
        handled = {"image", "build", "command", "entrypoint", "environment", "secrets", "healthcheck", "depends_on",
                   "volumes", "deploy", "restart", "cap_add", "read_only", "user", "ports", "mem_limit", "cpus",
                   "mem_reservation", "configs"}
        for option in svc:
            if option in handled or option.startswith("x-"):
                continue
            reason = DROPPED.get(option, "the catalog has no equivalent")
            self.note(DROPPED_KINDS.get(option), ("services", self.names[name]), f"{option} dropped: {reason}")
        for entry in svc.get("configs") or []:
            source = entry if isinstance(entry, str) else entry["source"]
            spec = (self.compose.model.get("configs") or {}).get(source) or {}
            origin = spec.get("file") or (f"the variable {spec['environment']}" if "environment" in spec else "inline content")
            self.follow("config-file", f"services.{name}.configs", f"dropped the config {source} ({origin}): the program delivers only files it "
                        "renders; bake it into the image, or add a renderer to render/registry.py and a configs: entry")

    def _segment(self, services: dict[str, dict[str, Any]]) -> None:
        """Networks from roles and the dependency graph: least privilege, as the catalog validates it."""
        roles = {key: svc["role"] for key, svc in services.items()}
        app_class = {key for key, role in roles.items() if role not in ("datastore", "observability")}
        for key, svc in services.items():
            deps = set(svc.get("depends_on") or {})
            users = {other for other, body in services.items() if key in (body.get("depends_on") or {})}
            neighbours = deps | users
            if roles[key] == "datastore":
                nets = ["data"]
            else:
                nets = []
                if "route" in svc:
                    nets.append("edge")
                if roles[key] != "observability" or neighbours & app_class:
                    nets.append("app")
                if roles[key] == "observability" or any(roles.get(d) == "observability" for d in neighbours):
                    nets.append("observability")
                if any(roles.get(d) == "datastore" for d in deps):
                    nets.append("data")
            svc["networks"] = nets

    def _make_room_for(self, template: dict[str, dict[str, Any]]) -> None:
        """A compose service that shares a name with the edge keeps it; the edge (found by its role) is renamed."""
        taken = {self.names[n] for n in self.compose.services if n not in self.proxies} - self.sign_on
        for name in [n for n in template["services"] if n in taken]:
            renamed = f"devtools-{name}"
            template["services"] = {renamed if k == name else k: v for k, v in template["services"].items()}
            self.follow(None, f"services.{name}", f"keeps its name; the catalog's edge is called {renamed} here")

    def _edge_template(self) -> dict[str, dict[str, Any]] | None:
        """The shipped catalog's edge and single sign-on, with the secrets, configs and volumes they use."""
        raw, problems = read_yaml(self.shipped_catalog, str(self.shipped_catalog))
        if problems or not isinstance(raw, dict):
            self.problems.extend(problems)
            return None
        shipped = raw.get("services") or {}
        names = [n for n, s in shipped.items() if isinstance(s, dict) and s.get("role") == "edge"][:1]
        # The single sign-on service is the one whose route says sign_in (as render/traefik.py finds it).
        self.sign_on = {n for n, s in shipped.items()
                        if isinstance(s, dict) and isinstance(s.get("route"), dict) and s["route"].get("sign_in")}
        names += sorted(self.sign_on)[:1]
        picked: dict[str, dict[str, Any]] = {"services": {}, "secrets": {}, "configs": {}, "volumes": {}}
        for service in names:
            body = dict(shipped[service])
            picked["services"][service] = body
            for mount in body.get("secrets") or []:
                source = mount if isinstance(mount, str) else mount["source"]
                picked["secrets"][source] = raw["secrets"][source]
                if "config" in raw["secrets"][source]:
                    self.follow(None, f"secrets.{source}", f"set the edge's secret ({raw['secrets'][source]['description']})",
                                f"pulumi config set --secret {NAMESPACE}:{raw['secrets'][source]['config']}")
            for mount in body.get("configs") or []:
                picked["configs"][mount["source"]] = raw["configs"][mount["source"]]
            for entry in body.get("volumes") or []:
                if not entry.startswith("/"):
                    picked["volumes"][entry.split(":")[0]] = raw["volumes"][entry.split(":")[0]]
        return picked


# A digest that stands in for an unpinned image when a plan must be made before it is pinned.
STAND_IN_DIGEST = "@sha256:" + "0" * 64


def with_stand_in_pins(document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The catalog document with a stand-in digest on each image the catalog would refuse as unpinned,
    and those services' names: what the rest of the plan looks like once they are pinned."""
    services, stood_in = {}, []
    for name, svc in document["services"].items():
        if image_pin_problem(svc["image"]):
            svc = {**svc, "image": svc["image"] + STAND_IN_DIGEST}
            stood_in.append(name)
        services[name] = svc
    return {**document, "services": services}, stood_in


def image_base(image: str) -> str:
    return image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]


def convert(compose: ComposeFile, shipped_catalog: Path = SHIPPED_CATALOG) -> Imported:
    return Converter(compose, shipped_catalog).run()
