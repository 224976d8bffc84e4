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


@container_rule
def cpu_limit(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    cpus, quota = props.get("cpus"), props.get("cpuQuota")
    if is_unknown(cpus) or is_unknown(quota):
        return []
    if (_number(cpus) or 0) > 0 or (_number(quota) or 0) > 0:
        return []
    return ["no CPU limit (cpus)"]


@container_rule
def redis_persistence(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if not is_redis(props):
        return []
    return persistence_problems(props)


def _file_contents(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(u.file, u.content) for u in uploads(props) if isinstance(u.file, str) and isinstance(u.content, str)]


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


@container_rule
def secrets_as_files(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    found = credentials.credentials_in_env(env_pairs(props))
    for line in command_lines(props):
        found += credentials.credentials_in_command(line)
    return sorted(set(found)) + _undelivered_secret_files(props)


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


@container_rule
def image_pinned(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    image = props.get("image")
    if not isinstance(image, str):
        return [] if is_unknown(image) else ["no image"]
    problem = image_pin_problem(image)
    return [problem[0]] if problem else []


def _published(props: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    return [(p.get("external"), p.get("internal")) for p in as_list(props.get("ports")) if isinstance(p, Mapping)]


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


@container_rule
def no_privileged(_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if props.get("privileged") is True and not _service_allowed(props, config):
        return ["runs privileged: full access to the host's devices and kernel"]
    return []


def _is_socket_mount(source: str) -> bool:
    source = posixpath.normpath(source)
    return source in DOCKER_SOCKETS or source in ("/var/run", "/run")


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


@container_rule
def no_new_privileges(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    opts = props.get("securityOpts")
    if is_unknown(opts):
        return []
    if any(isinstance(o, str) and o.replace("=", ":") in ("no-new-privileges", "no-new-privileges:true")
           for o in as_list(opts)) or any(is_unknown(o) for o in as_list(opts)):
        return []
    return ["setuid binaries can raise privileges (securityOpts lacks no-new-privileges:true)"]


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


@container_rule
def host_devices(_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    devices = [d for d in as_list(props.get("devices")) if isinstance(d, Mapping)]
    if devices and not _service_allowed(props, config):
        return [f"has host device {d.get('hostPath', '?')}" for d in devices]
    return []


@container_rule
def mount_propagation(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    return [f"bind mount {m.source} uses {m.propagation} propagation"
            for m in host_mounts(props) if m.propagation in ("shared", "rshared")]


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


@container_rule
def default_cgroup(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    parent = props.get("cgroupParent")
    if isinstance(parent, str) and parent:
        return [f"runs under cgroup {parent} instead of Docker's own (cgroupParent)"]
    return []


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


@container_rule
def read_only_root(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    value = props.get("readOnly")
    if is_unknown(value) or value is True:
        return []
    return ["the root filesystem is writable (readOnly is not set)"]
