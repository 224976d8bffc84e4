"""Rules on one Docker container: `check(resource_type, props, config) -> messages` (empty when it passes).

`props` are the container's inputs in rule form (values.py): a value the engine does not know yet is
UNKNOWN, and a rule that needs it says nothing rather than guess.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from . import credentials
from .docker import (
    CONTAINER,
    DATASTORE_ROLE,
    SECRETS_DIR,
    command_lines,
    env_pairs,
    host_mounts,
    is_job,
    role,
    service_name,
    uploads,
)
from .images import image_pin_problem
from .metadata import ADVISORY, DATABASE_PORTS, PORTS, SERVICES, policy
from .redis import is_redis, persistence_problems
from .values import as_list, is_unknown

Check = Callable[[str, Mapping[str, Any], Mapping[str, Any]], list[str]]

DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
SENSITIVE_HOST_DIRS = ("/", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sys", "/usr", "/root",
                       "/var/lib/docker", "/run", "/var/run")
# Capabilities that amount to root on the host, or to reading any file (CIS 5.4, KICS check_cap_add_cap_drop).
DANGEROUS_CAPABILITIES = frozenset({"ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_RAWIO", "SYS_PTRACE", "SYS_BOOT",
                                    "NET_ADMIN", "DAC_READ_SEARCH", "MAC_ADMIN", "MAC_OVERRIDE", "BPF",
                                    "PERFMON", "SYS_TIME", "LINUX_IMMUTABLE"})
ROTATING_LOG_DRIVERS = ("local", "journald", "syslog", "fluentd", "gelf", "awslogs", "gcplogs", "splunk", "loki", "none")


def container_rule(check: Check) -> Check:
    """Apply `check` to containers only."""

    @wraps(check)
    def only_containers(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
        return check(resource_type, props, config) if resource_type == CONTAINER else []

    return only_containers


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@policy("container-memory-limit", severity="high",
      description="Every container needs a memory limit and a reservation no larger than it: set "
                  "deploy.resources.limits.memory and reservations.memory for the service in "
                  "config/services.yaml.",
      covers=("audit: resource limits missing (P0)", "CIS 5.11", "KICS memory_not_limited"))
@container_rule
def memory_limit(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    memory, reservation = props.get("memory"), props.get("memoryReservation")
    if is_unknown(memory):
        return []
    limit = _number(memory)
    if not limit or limit <= 0:
        return ["no memory limit (memory)"]
    found = []
    if not is_unknown(reservation):
        reserved = _number(reservation)
        if not reserved or reserved <= 0:
            found.append("no memory reservation (memoryReservation)")
        elif reserved > limit:
            found.append(f"memory reservation {reserved:g} MB exceeds the limit {limit:g} MB")
    return found


@policy("container-cpu-limit", severity="high",
      description="Every container needs a CPU limit: set deploy.resources.limits.cpus for the service in "
                  "config/services.yaml.",
      covers=("audit: resource limits missing (P0)", "CIS 5.12", "KICS cpus_not_limited"))
@container_rule
def cpu_limit(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    cpus, quota = props.get("cpus"), props.get("cpuQuota")
    if is_unknown(cpus) or is_unknown(quota):
        return []
    if (_number(cpus) or 0) > 0 or (_number(quota) or 0) > 0:
        return []
    return ["no CPU limit (cpus)"]


@policy("redis-persistence", severity="critical",
      description="Redis must survive a restart with its data: appendonly yes, appendfsync everysec (or "
                  "always), at least one `save` rule, and `dir` on a persistent volume, whether set in the "
                  "uploaded redis.conf or on the command line (see render/redis_conf.py).",
      covers=("audit: Redis persistence not configured (P0)",))
@container_rule
def redis_persistence(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if not is_redis(props):
        return []
    return persistence_problems(props)


def _file_contents(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(u.file, u.content) for u in uploads(props) if isinstance(u.file, str) and isinstance(u.content, str)]


@policy("no-hardcoded-credentials", severity="critical",
      description="No fallback or stand-in credential in a container's environment, command line or uploaded "
                  "files (changeme, password, <...>, your-..., ${VAR:-default}), and no literal credential in "
                  "an uploaded config file: declare a secret in config/services.yaml and read it from "
                  "/run/secrets/<name>.",
      covers=("audit: hardcoded fallback passwords (P0)",))
@container_rule
def no_hardcoded_credentials(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    found = credentials.placeholders_in_env(env_pairs(props))
    for line in command_lines(props):
        found += credentials.placeholders_in_command(line)
    for path, content in _file_contents(props):
        found += credentials.placeholders_in_file(path, content)
    return found


def _undelivered_secret_files(props: Mapping[str, Any]) -> list[str]:
    """`*_FILE` variables naming a file under /run/secrets that the container never receives."""
    files = uploads(props)
    if is_unknown(props.get("uploads")) or any(not isinstance(u.file, str) for u in files):
        return []
    delivered = {u.file for u in files}
    mounted = [m.target for m in host_mounts(props) if isinstance(m.target, str)]
    found = []
    for key, value in env_pairs(props):
        if key.endswith("_FILE") and isinstance(value, str) and value.startswith(SECRETS_DIR):
            if value not in delivered and not any(value.startswith(t.rstrip("/") + "/") for t in mounted):
                found.append(f"environment {key} points at {value}, which the container does not receive")
    return found


@policy("secrets-as-files", severity="high",
      description="Credentials reach a container as files under /run/secrets, never as environment values or "
                  "command-line arguments (both show in `docker inspect` and process lists): list the secret "
                  "under the service's `secrets:` and let the program set <NAME>_FILE (which must name a file "
                  "the container receives).",
      covers=("audit: secrets management", "design: secrets as files"))
@container_rule
def secrets_as_files(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    found = credentials.credentials_in_env(env_pairs(props))
    for line in command_lines(props):
        found += credentials.credentials_in_command(line)
    return sorted(set(found)) + _undelivered_secret_files(props)


@policy("restart-policy", severity="medium",
      description="A long-running container restarts by itself after a crash or reboot: use restart "
                  "unless-stopped (the default), always, or on-failure with a retry count; a one-shot job "
                  "(role job) uses no or on-failure.",
      covers=("audit: no restart policies on some services", "CIS 5.15 (on-failure:5: see docs)",
              "KICS restart_policy_on_failure_not_set_to_5"))
@container_rule
def restart_policy(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    restart, retries = props.get("restart"), props.get("maxRetryCount")
    if is_unknown(restart) or is_unknown(role(props)):
        return []
    if is_job(props):
        if restart in ("always", "unless-stopped"):
            return [f"a one-shot job with restart {restart} would run again forever"]
        return []
    if restart in ("unless-stopped", "always"):
        return []
    if restart == "on-failure":
        if is_unknown(retries) or (_number(retries) or 0) >= 1:
            return []
        return ["restart on-failure without a retry count (maxRetryCount)"]
    return [f"restart policy is {restart or 'not set'!r}: the service stays down after a crash or a reboot"]


@policy("container-healthcheck", severity="medium",
      description="Every long-running container needs a health check (healthcheck: {path: /health} or a test "
                  "command); only role job is exempt.",
      covers=("audit: health checks", "CIS 5.27", "KICS healthcheck_not_set"))
@container_rule
def healthcheck(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    check = props.get("healthcheck")
    if is_unknown(check) or is_unknown(role(props)) or is_job(props):
        return []
    tests = check.get("tests") if isinstance(check, Mapping) else None
    if is_unknown(tests):
        return []
    if not isinstance(tests, list) or not tests or tests[0] == "NONE":
        return ["a long-running container has no health check"]
    return []


@policy("image-pinned", severity="medium",
      description="Pin every image by digest or to one release, never a moving tag (no tag, `latest`, "
                  "`<name>-latest`, or an official image's major or major.minor tag such as `redis:7-alpine` or "
                  "`postgres:16`): the same preview must deploy the same software.",
      covers=("CIS 5.28 (partly)", "audit: image versioning"))
@container_rule
def image_pinned(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    image = props.get("image")
    if not isinstance(image, str):
        return [] if is_unknown(image) else ["no image"]
    problem = image_pin_problem(image)
    return [problem[0]] if problem else []


def _published(props: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    return [(p.get("external"), p.get("internal")) for p in as_list(props.get("ports")) if isinstance(p, Mapping)]


@policy("no-published-ports", severity="high",
      description="Only the edge proxy publishes host ports (80 and 443), and no container ever publishes a "
                  "database port: remove `ports:` from the service and route through the edge instead.",
      settings={"allowedPorts": {"type": "object", "additionalProperties": PORTS, "default": {"edge": [80, 443]},
                                 "description": "service name -> host ports it may publish"},
                "databasePorts": {**PORTS, "default": DATABASE_PORTS, "description": "ports never published"}},
      covers=("audit: all services exposed directly", "CIS 5.8", "CIS 5.9", "CIS 5.14",
              "KICS privileged_ports_mapped_in_container",
              "KICS container_traffic_not_bound_to_host_interface"))
@container_rule
def published_ports(_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    allow_list = config.get("allowedPorts") or {}
    allowed = {int(p) for p in allow_list.get(service_name(props), [])}
    permitted = "; ".join(f"{svc} {', '.join(str(int(p)) for p in ports)}" for svc, ports in sorted(allow_list.items()))
    database_ports = {int(p) for p in config.get("databasePorts") or []}
    found = []
    if props.get("publishAllPorts") is True:
        found.append("publishes every exposed port (publishAllPorts)")
    for external, internal in _published(props):
        if is_unknown(external) or is_unknown(internal):
            continue
        ext = int(_number(external) or 0)  # 0: Docker picks a random host port
        inside = int(_number(internal) or 0)
        host_port = str(ext) if ext else "a random port"
        if ext in database_ports or inside in database_ports:
            found.append(f"publishes database port {inside} on the host as {host_port}")
        elif role(props) == DATASTORE_ROLE:
            found.append(f"a datastore publishes port {inside} on the host as {host_port}")
        elif ext not in allowed:
            found.append(f"publishes port {inside} on the host as {host_port}; host ports allowed: {permitted or 'none'}")
    return found


def _service_allowed(props: Mapping[str, Any], config: Mapping[str, Any], key: str = "allowedServices") -> bool:
    return service_name(props) in (config.get(key) or [])


@policy("no-privileged-containers", severity="critical",
      description="No container runs privileged: add only the capabilities it needs (cap_add) instead.",
      settings={"allowedServices": {**SERVICES, "default": [],
                                      "description": "services allowed to run privileged"}},
      covers=("CIS 5.5", "KICS privileged_containers_enabled"))
@container_rule
def no_privileged(_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if props.get("privileged") is True and not _service_allowed(props, config):
        return ["runs privileged: full access to the host's devices and kernel"]
    return []


def _is_socket_mount(source: str) -> bool:
    source = posixpath.normpath(source)
    return source in DOCKER_SOCKETS or source in ("/var/run", "/run")


@policy("docker-socket-mount", severity="critical",
      description="Only an allow-listed monitoring agent may mount the Docker socket, and only read-only: the "
                  "socket is root on the host. Remove the mount, or add the service to this policy's "
                  "allowedServices with a reason.",
      settings={"allowedServices": {**SERVICES, "default": ["alloy", "cadvisor"],
                                    "description": "services that may mount the socket read-only"}},
      covers=("CIS 5.32", "KICS docker_socket_mounted_in_container"))
@container_rule
def docker_socket(_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    found = []
    for mount in host_mounts(props):
        if not isinstance(mount.source, str) or not _is_socket_mount(mount.source):
            continue
        if not _service_allowed(props, config):
            found.append(f"mounts the Docker socket ({mount.source}): root on the host for anyone in the container")
        elif mount.read_only is False:
            found.append(f"mounts the Docker socket ({mount.source}) writable")
    return found


@policy("no-new-privileges", severity="high",
      description="Set security_opts no-new-privileges:true so setuid binaries cannot raise privileges (the "
                  "program's ServiceContainer does this for every service).",
      covers=("CIS 5.26", "KICS no_new_privileges_not_set", "KICS security_opt_not_set"))
@container_rule
def no_new_privileges(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    opts = props.get("securityOpts")
    if is_unknown(opts):
        return []
    if any(isinstance(o, str) and o.replace("=", ":") in ("no-new-privileges", "no-new-privileges:true")
           for o in as_list(opts)) or any(is_unknown(o) for o in as_list(opts)):
        return []
    return ["setuid binaries can raise privileges (securityOpts lacks no-new-privileges:true)"]


@policy("capabilities-dropped", severity="high",
      description="Drop ALL capabilities and add back only what the service needs (cap_add), never host-level "
                  "ones such as SYS_ADMIN or NET_ADMIN.",
      covers=("CIS 5.4", "KICS container_capabilities_unrestricted", "KICS check_cap_add_cap_drop"))
@container_rule
def capabilities_dropped(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    caps = props.get("capabilities")
    if is_unknown(caps):
        return []
    caps = caps if isinstance(caps, Mapping) else {}
    drops, adds = caps.get("drops"), caps.get("adds")
    found = []
    if (not is_unknown(drops) and not any(is_unknown(d) for d in as_list(drops))
            and "ALL" not in [str(d).upper() for d in as_list(drops)]):
        found.append("keeps Docker's default capabilities (capabilities.drops lacks ALL)")
    if not is_unknown(adds):
        dangerous = sorted({str(a).upper().removeprefix("CAP_") for a in as_list(adds)} & DANGEROUS_CAPABILITIES)
        if dangerous:
            found.append(f"adds host-level capabilities {', '.join(dangerous)}")
    return found


@policy("log-rotation", severity="medium",
      description="Container logs must rotate: json-file with max-size and max-file (stack settings logMaxSize "
                  "and logMaxFiles), or a driver that rotates or ships them.",
      covers=("audit: log aggregation (disk safety)",))
@container_rule
def log_rotation(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    driver, opts = props.get("logDriver"), props.get("logOpts")
    if is_unknown(driver) or is_unknown(opts):
        return []
    if driver in ROTATING_LOG_DRIVERS:
        return []
    opts = opts if isinstance(opts, Mapping) else {}
    missing = [key for key in ("max-size", "max-file") if not opts.get(key)]
    if missing:
        return [f"{driver or 'json-file (default)'} logs without {' and '.join(missing)} grow until the disk is full"]
    return []


@policy("no-host-namespaces", severity="critical",
      description="Do not share the host's (or another container's) network, PID, IPC, user or cgroup "
                  "namespace: remove network_mode/pid/ipc/userns_mode host.",
      covers=("CIS 5.10", "CIS 5.16", "CIS 5.17", "CIS 5.31", "KICS host_namespace_is_shared",
              "KICS shared_host_network_namespace", "KICS network_mode_host_exists",
              "KICS shared_host_ipc_namespace", "KICS ipc_set_to_host",
              "KICS shared_host_user_namespace", "KICS userns_set_to_host"))
@container_rule
def host_namespaces(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    found = []
    for key, what in (("networkMode", "network"), ("pidMode", "PID"), ("ipcMode", "IPC"), ("usernsMode", "user")):
        value = props.get(key)
        if isinstance(value, str) and (value == "host" or (key != "usernsMode" and value.startswith("container:"))):
            found.append(f"shares the {'host' if value == 'host' else value}'s {what} namespace ({key}: {value})")
    if props.get("cgroupnsMode") == "host":
        found.append("shares the host's cgroup namespace (cgroupnsMode: host)")
    return found


def _sensitive(path: str) -> bool:
    path = posixpath.normpath(path)
    return any(path == d or (d != "/" and path.startswith(d + "/")) for d in SENSITIVE_HOST_DIRS)


@policy("no-sensitive-host-mounts", severity="critical",
      description="Never mount system directories of the host (/, /etc, /proc, /sys, /var/lib/docker, ...) "
                  "writable; read-only only for the monitoring agents listed in readOnlyAllowedServices. Keep "
                  "data under the data volume.",
      settings={"readOnlyAllowedServices": {**SERVICES, "default": ["alloy", "cadvisor", "node-exporter"],
                                              "description": "services that may mount system directories read-only"}},
      covers=("CIS 5.6", "KICS volume_has_sensitive_host_directory"))
@container_rule
def sensitive_host_mounts(_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    found = []
    for mount in host_mounts(props):
        if not isinstance(mount.source, str) or not _sensitive(mount.source):
            continue
        if posixpath.normpath(mount.source) in DOCKER_SOCKETS:
            continue  # judged by the docker-socket rule
        if mount.read_only is False:
            found.append(f"mounts host directory {mount.source} writable")
        elif not _service_allowed(props, config, "readOnlyAllowedServices"):
            found.append(f"mounts host directory {mount.source} (read-only)")
    return found


@policy("no-host-devices", severity="high",
      description="Do not pass host devices into containers; add the service to allowedServices only with a "
                  "reason.",
      settings={"allowedServices": {**SERVICES, "default": ["cadvisor"],
                                      "description": "services that may see host devices (cAdvisor reads /dev/kmsg)"}},
      covers=("CIS 5.18",))
@container_rule
def host_devices(_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    devices = [d for d in as_list(props.get("devices")) if isinstance(d, Mapping)]
    if devices and not _service_allowed(props, config):
        return [f"has host device {d.get('hostPath', '?')}" for d in devices]
    return []


@policy("mount-propagation-private", severity="medium",
      description="Bind mounts must not use shared or rshared propagation: leave propagation at its private "
                  "default.",
      covers=("CIS 5.20",))
@container_rule
def mount_propagation(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    return [f"bind mount {m.source} uses {m.propagation} propagation"
            for m in host_mounts(props) if m.propagation in ("shared", "rshared")]


@policy("security-profiles-confined", severity="high",
      description="Keep Docker's default seccomp and AppArmor profiles and SELinux labels: remove "
                  "seccomp=unconfined, apparmor=unconfined and label=disable from security_opts.",
      covers=("CIS 5.2", "CIS 5.3", "CIS 5.22", "KICS default_seccomp_profile_disabled",
              "KICS seccomp_disabled"))
@container_rule
def security_profiles(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    found = []
    for opt in as_list(props.get("securityOpts")):
        if not isinstance(opt, str):
            continue
        normal = opt.replace("=", ":").lower()
        if normal in ("seccomp:unconfined", "apparmor:unconfined", "label:disable", "systempaths:unconfined"):
            found.append(f"switches off a kernel security profile ({opt})")
    return found


@policy("user-defined-network", severity="medium",
      description="Every container joins the catalog's named networks (networks: in config/services.yaml), "
                  "never Docker's default bridge.",
      covers=("CIS 5.30", "KICS networks_not_set"))
@container_rule
def user_defined_network(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    mode, networks = props.get("networkMode"), props.get("networksAdvanced")
    if is_unknown(mode) or is_unknown(networks):
        return []
    if mode in ("bridge", "default"):
        return [f"joins Docker's default bridge (networkMode: {mode}), where every container can reach it"]
    if mode in (None, "") and not as_list(networks):
        return ["joins no named network (networksAdvanced), so it lands on Docker's default bridge"]
    return []


@policy("default-cgroup", severity="low",
      description="Leave containers in Docker's own cgroup: remove cgroup_parent.",
      covers=("CIS 5.25", "KICS cgroup_not_default"))
@container_rule
def default_cgroup(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    parent = props.get("cgroupParent")
    if isinstance(parent, str) and parent:
        return [f"runs under cgroup {parent} instead of Docker's own (cgroupParent)"]
    return []


@policy("uploads-need-writable-root", severity="high",
      description="A container that receives files (configs, secrets) cannot have a read-only root filesystem: "
                  "Docker refuses to upload into it and the deploy fails. Drop read_only: true from the "
                  "service, or give it no files.")
@container_rule
def uploads_need_writable_root(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    """Docker copies uploaded files into the container before it starts, and refuses to write a
    read-only root filesystem: such a container fails on `pulumi up`, after the preview passed."""
    if props.get("readOnly") is not True:
        return []
    uploads = props.get("uploads")
    if is_unknown(uploads) or not uploads:
        return []
    files = [u.get("file") for u in uploads if isinstance(u, Mapping)]
    shown = ", ".join(f for f in files if isinstance(f, str)) or "its files"
    return [f"the root filesystem is read-only, so Docker cannot upload {shown} into it"]


@policy("read-only-root-filesystem", severity="low", enforcement=ADVISORY,
      description="Prefer a read-only root filesystem (read_only: true in the catalog) with the writable paths "
                  "on volumes.",
      covers=("CIS 5.13",))
@container_rule
def read_only_root(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    value = props.get("readOnly")
    if is_unknown(value) or value is True:
        return []
    return ["the root filesystem is writable (readOnly is not set)"]
