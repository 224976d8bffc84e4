"""Reading a pulumi-docker Container's inputs (wire names, camelCase) in the terms the rules use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .values import UNKNOWN, as_list, is_unknown

CONTAINER = "docker:index/container:Container"
NETWORK = "docker:index/network:Network"
DOCKER_PROVIDER = "pulumi:providers:docker"

SERVICE_LABEL = "devtools.service"
ROLE_LABEL = "devtools.role"
NETWORK_LABEL = "devtools.network"
# A one-shot job (migrations) runs to completion: no health check, no restart-forever.
JOB_ROLE = "job"
DATASTORE_ROLE = "datastore"
# The edge proxy is known by its role label, whatever the catalog calls it.
EDGE_ROLE = "edge"
SECRETS_DIR = "/run/secrets/"


def label(props: Mapping[str, Any], key: str) -> Any:
    """A label's value, None when absent, UNKNOWN when the labels are not known yet."""
    labels = props.get("labels")
    if is_unknown(labels):
        return UNKNOWN
    for entry in as_list(labels):
        if isinstance(entry, Mapping) and entry.get("label") == key:
            return entry.get("value")
    return None


def service_name(props: Mapping[str, Any], fallback: str = "") -> str:
    name = label(props, SERVICE_LABEL)
    return name if isinstance(name, str) else fallback


def role(props: Mapping[str, Any]) -> Any:
    return label(props, ROLE_LABEL)


def is_job(props: Mapping[str, Any]) -> bool:
    return role(props) == JOB_ROLE


def env_pairs(props: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(key, value) of each `KEY=value` entry; an unknown entry is skipped, an unknown value kept as UNKNOWN."""
    pairs = []
    for entry in as_list(props.get("envs")):
        if isinstance(entry, str):
            key, _, value = entry.partition("=")
            pairs.append((key, value))
    return pairs


@dataclass(frozen=True)
class Upload:
    file: Any      # path in the container, or UNKNOWN
    content: Any   # text, or UNKNOWN (e.g. a generated password on a first preview)


def uploads(props: Mapping[str, Any]) -> list[Upload]:
    found = []
    for entry in as_list(props.get("uploads")):
        if is_unknown(entry):
            found.append(Upload(UNKNOWN, UNKNOWN))
        elif isinstance(entry, Mapping):
            content = entry.get("content")
            if content is None and entry.get("contentBase64") is not None:
                content = UNKNOWN  # binary content: not judged as text
            found.append(Upload(entry.get("file", UNKNOWN), content if content is not None else ""))
    return found


@dataclass(frozen=True)
class HostMount:
    source: Any          # host path, or UNKNOWN
    target: Any          # path in the container
    read_only: Any       # True, False, or UNKNOWN (compare with `is`)
    propagation: Any = None


def _read_only(flag: Any) -> Any:
    return UNKNOWN if is_unknown(flag) else flag is True


def host_mounts(props: Mapping[str, Any]) -> list[HostMount]:
    """Every host path the container sees: `volumes` with a hostPath and `mounts` of type bind."""
    found = []
    for volume in as_list(props.get("volumes")):
        if isinstance(volume, Mapping) and volume.get("hostPath") is not None:
            found.append(HostMount(volume["hostPath"], volume.get("containerPath"), _read_only(volume.get("readOnly"))))
    for mount in as_list(props.get("mounts")):
        if isinstance(mount, Mapping) and mount.get("type") == "bind":
            options = mount.get("bindOptions")
            propagation = options.get("propagation") if isinstance(options, Mapping) else None
            found.append(HostMount(mount.get("source", UNKNOWN), mount.get("target"), _read_only(mount.get("readOnly")), propagation))
    return found


def data_mounts(props: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    """(source, container path) of every persistent mount: host paths and named Docker volumes."""
    found = [(m.source, m.target) for m in host_mounts(props)]
    for volume in as_list(props.get("volumes")):
        if isinstance(volume, Mapping) and volume.get("volumeName") is not None:
            found.append((volume["volumeName"], volume.get("containerPath")))
    for mount in as_list(props.get("mounts")):
        if isinstance(mount, Mapping) and mount.get("type") == "volume":
            found.append((mount.get("source", UNKNOWN), mount.get("target")))
    return found


def run_lines(props: Mapping[str, Any]) -> list[list[Any]]:
    """The argument lists the container starts with: entrypoint and command, as given."""
    return [props[key] for key in ("entrypoints", "command") if isinstance(props.get(key), list) and props[key]]


def command_lines(props: Mapping[str, Any]) -> list[list[Any]]:
    """Every argument list the container runs: entrypoint, command and health-check test."""
    lines = run_lines(props)
    check = props.get("healthcheck")
    if isinstance(check, Mapping) and isinstance(check.get("tests"), list):
        lines.append(check["tests"])
    return lines
