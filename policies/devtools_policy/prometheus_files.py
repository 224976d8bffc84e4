"""Prometheus's files as a container receives them: its configuration and rule files among the uploads.

Shared by the no-dead-alert check and the scrape-target check, which both judge what Prometheus
will load rather than how the catalog meant it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

# libyaml's parser when PyYAML was built with it (the wheels are): the rule files run to hundreds of rules.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The key that makes an uploaded file a Prometheus configuration.
_SCRAPE_KEY = "scrape_configs"

# What _parsed gives for text that is not YAML (or nests past Python's stack): None is YAML's own null.
_NOT_YAML = object()


@lru_cache(maxsize=32)
def _parsed(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_LOADER)
    except (yaml.YAMLError, RecursionError):
        return _NOT_YAML


def parse_yaml(text: object) -> Any:
    """Parsed YAML, or None for text that is not YAML or a value that is not text (unknown, binary).

    Cached by content: a stack policy sees the same files on every call of a preview. The result is
    shared, so callers read it and never change it.
    """
    parsed = _parsed(text) if isinstance(text, str) else None
    return None if parsed is _NOT_YAML else parsed


def is_yaml(text: str) -> bool:
    """Whether the text parses as YAML (an empty file does: it holds nothing)."""
    return _parsed(text) is not _NOT_YAML


@dataclass(frozen=True)
class PrometheusFiles:
    config: Mapping[str, Any]           # the parsed prometheus.yml
    files: Mapping[str, Any]            # every uploaded file's path -> content (text, or an unknown value)
    all_paths_known: bool               # False while some upload's path is not known (first preview)


def prometheus_files(uploads: Iterable[Any]) -> PrometheusFiles | None:
    """The uploaded Prometheus configuration (the file with `scrape_configs`), None if there is none."""
    return configuration(*uploaded_files(uploads))


def uploaded_files(uploads: Iterable[Any]) -> tuple[dict[str, Any], bool]:
    """Every upload's path -> content, and whether every path is known."""
    files: dict[str, Any] = {}
    all_paths_known = True
    for upload in uploads:
        path = upload.get("file") if isinstance(upload, Mapping) else None
        if not isinstance(path, str):
            all_paths_known = False
            continue
        files[path] = upload.get("content")
    return files, all_paths_known


def configuration(files: Mapping[str, Any], all_paths_known: bool) -> PrometheusFiles | None:
    """The Prometheus configuration among `files` (uploaded_files), None if there is none."""
    for content in files.values():
        if not isinstance(content, str) or _SCRAPE_KEY not in content:
            continue  # not worth parsing: cannot be a Prometheus configuration
        config = parse_yaml(content)
        if isinstance(config, dict) and _SCRAPE_KEY in config:
            return PrometheusFiles(config, files, all_paths_known)
    return None


def static_targets(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(job name, host:port) of every static scrape target."""
    found = []
    for job in config.get("scrape_configs") or []:
        if not isinstance(job, Mapping):
            continue
        for static in job.get("static_configs") or []:
            for target in (static.get("targets") or []) if isinstance(static, Mapping) else []:
                if isinstance(target, str):
                    found.append((str(job.get("job_name")), target))
    return found


def config_map_uploads(pod: Any, containers: Iterable[Any], config_maps: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A pod's ConfigMap files as uploads (`file`, `content`): what its containers mount, at their paths.

    `config_maps` maps a ConfigMap's name to its `data`. A mount of a ConfigMap not in the plan, or of
    a key it lacks, has unknown content (not judged, never taken for a missing file).
    """
    volumes = pod.get("volumes") if isinstance(pod, Mapping) else None
    sources = {v.get("name"): (v.get("configMap") or {}).get("name") for v in volumes or []
               if isinstance(v, Mapping) and isinstance(v.get("configMap"), Mapping)}
    uploads: list[dict[str, Any]] = []
    for container in containers:
        for mount in (container.get("volumeMounts") or []) if isinstance(container, Mapping) else []:
            if not isinstance(mount, Mapping) or mount.get("name") not in sources:
                continue
            data = config_maps.get(sources[mount["name"]])
            key = mount.get("subPath")
            content = data.get(key) if isinstance(data, Mapping) and isinstance(key, str) else None
            uploads.append({"file": mount.get("mountPath"), "content": content})
    return uploads
