"""Config files that differ on the cluster, by catalog renderer name: each takes the renderer's own text.

The registry's renderer runs first (render/registry.py), so the jobs, rules and labels stay the catalog's;
these only change how the file finds its targets on Kubernetes. A service receiving one of them reads the
Kubernetes API (a read-only Role in its namespace), and `reads_instead_of_docker` names the node paths
that replace a Docker socket it mounts on the droplet.
"""

from __future__ import annotations

from collections.abc import Callable

from catalog.services import Catalog, Service
from targets.kubernetes.logs import ALLOY_RENDERER, LOG_DIRECTORY, kubernetes_alloy_config
from targets.kubernetes.prometheus import PROMETHEUS_RENDERER, kubernetes_prometheus_yml

KUBERNETES_RENDERERS: dict[str, Callable[[str, str], str]] = {
    PROMETHEUS_RENDERER: kubernetes_prometheus_yml,
    ALLOY_RENDERER: kubernetes_alloy_config,
}
READS_INSTEAD_OF_DOCKER: dict[str, tuple[str, ...]] = {ALLOY_RENDERER: (LOG_DIRECTORY,)}


def cluster_renderers(catalog: Catalog, spec: Service) -> list[str]:
    return [catalog.configs[c.source].renderer for c in spec.configs if catalog.configs[c.source].renderer in KUBERNETES_RENDERERS]


def reads_instead_of_docker(catalog: Catalog, spec: Service) -> tuple[str, ...]:
    return tuple(path for renderer in cluster_renderers(catalog, spec) for path in READS_INSTEAD_OF_DOCKER.get(renderer, ()))
