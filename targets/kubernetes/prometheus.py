"""prometheus.yml for the cluster: the catalog renderer's scrape jobs, found through Kubernetes service discovery.

The jobs, their names and labels (what the alert rules and dashboards select on) are the renderer's; only
where the targets come from changes: each static `host:port` becomes the pods of the catalog service
`host` (by their name label) declaring container port `port`, so every replica is scraped on its own, not one at random through the Service.
"""

from __future__ import annotations

import yaml

from catalog.model import dump_yaml
from targets.kubernetes.manifests import NAME_LABEL, discovery_label

POD_NAME_LABEL = discovery_label(NAME_LABEL)
HEADER = "# Rendered by the devtools Pulumi program from config/services.yaml for Kubernetes; do not edit in the cluster.\n"
PROMETHEUS_RENDERER = "prometheus_yml"


def _discovered(job: dict, namespace: str) -> dict:
    (static,) = job.pop("static_configs")
    (target,) = static["targets"]
    host, port = target.rsplit(":", 1)
    keep = [
        {"source_labels": [POD_NAME_LABEL], "regex": host, "action": "keep"},
        {"source_labels": ["__meta_kubernetes_pod_container_port_number"], "regex": port, "action": "keep"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
    ]
    fixed = [{"target_label": key, "replacement": value} for key, value in static.get("labels", {}).items()]
    return {**job, "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [namespace]}}],
            "relabel_configs": keep + fixed}


def kubernetes_prometheus_yml(rendered: str, namespace: str) -> str:
    """The rendered prometheus.yml with each static scrape job turned into Kubernetes endpoints discovery."""
    config = yaml.safe_load(rendered)
    config["scrape_configs"] = [_discovered(dict(job), namespace) for job in config.get("scrape_configs", [])]
    return HEADER + dump_yaml(config)
