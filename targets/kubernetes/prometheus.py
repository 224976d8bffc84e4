"""prometheus.yml for the cluster: the catalog renderer's scrape jobs, found through Kubernetes service discovery.

The jobs, their names and labels (what the alert rules and dashboards select on) are the renderer's; only
where the targets come from changes: each static `host:port` becomes the pods of the catalog service
`host` (by their name label) declaring container port `port`, so every replica is scraped on its own, not one at random through the Service.

One job is different: the one yielding the container metrics (cAdvisor's family). DOKS nodes have no Docker
socket for a cAdvisor container, but every kubelet embeds cAdvisor, so on the cluster that job scrapes each
node's kubelet through the API server proxy, with Prometheus's service account token (the ClusterRole of
`node_metrics_rbac` lets it), and relabels the kubelet's `container` label into the one the Docker labels
give on the droplet, so the alert rules and the dashboard stay one set.
"""

from __future__ import annotations

from catalog.model import dump_yaml, load_yaml
from policies.devtools_policy.metric_sources import FAMILIES, YIELDS_LABEL, families_of_label, matches
from render.observability.alert_rules import CONTAINER_METRIC, CONTAINER_SERVICE_LABEL
from targets.kubernetes.manifests import NAME_LABEL, PART_OF_LABEL, discovery_label

POD_NAME_LABEL = discovery_label(NAME_LABEL)
HEADER = "# Rendered by the devtools Pulumi program from config/services.yaml for Kubernetes; do not edit in the cluster.\n"
PROMETHEUS_RENDERER = "prometheus_yml"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
API_SERVER = "kubernetes.default.svc:443"
KUBELET_CADVISOR_PATH = "/api/v1/nodes/${1}/proxy/metrics/cadvisor"
RBAC_API = "rbac.authorization.k8s.io/v1"


def _container_families(job: dict) -> tuple[str, ...]:
    """The families of the job's yields label that give the container metrics (empty for any other job)."""
    (static,) = job["static_configs"]
    families = families_of_label(static.get("labels", {}).get(YIELDS_LABEL))
    return tuple(f for f in families if matches(CONTAINER_METRIC, FAMILIES.get(f, ())))


def _fixed_labels(labels: dict) -> list[dict]:
    return [{"target_label": key, "replacement": value} for key, value in labels.items()]


def _discovered(job: dict, namespace: str) -> dict:
    (static,) = job.pop("static_configs")
    (target,) = static["targets"]
    host, port = target.rsplit(":", 1)
    keep = [
        {"source_labels": [POD_NAME_LABEL], "regex": host, "action": "keep"},
        {"source_labels": ["__meta_kubernetes_pod_container_port_number"], "regex": port, "action": "keep"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
    ]
    return {**job, "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [namespace]}}],
            "relabel_configs": keep + _fixed_labels(static.get("labels", {}))}


def _kubelet_cadvisor(job: dict, namespace: str, families: tuple[str, ...]) -> dict:
    """The container-metrics job scraping every node's kubelet cAdvisor through the API server proxy.

    The kubelet serves only cAdvisor's families there (not the Go runtime of a cAdvisor container), so
    the yields label says just those. Its series name the pod's container (`container`, the catalog
    service: manifests.pod_template names it so) and `namespace`; the platform's get the droplet's
    service label, and the other namespaces' series are dropped.
    """
    (static,) = job.pop("static_configs")
    labels = {**static.get("labels", {}), YIELDS_LABEL: ",".join(families)}
    route = [
        {"target_label": "__address__", "replacement": API_SERVER},
        {"source_labels": ["__meta_kubernetes_node_name"], "regex": "(.+)", "target_label": "__metrics_path__",
         "replacement": KUBELET_CADVISOR_PATH},
        {"source_labels": ["__meta_kubernetes_node_name"], "target_label": "node"},
    ]
    job.pop("metrics_path", None)
    return {
        **job,
        "scheme": "https",
        "authorization": {"credentials_file": f"{SERVICE_ACCOUNT_DIR}/token"},
        "tls_config": {"ca_file": f"{SERVICE_ACCOUNT_DIR}/ca.crt"},
        "kubernetes_sd_configs": [{"role": "node"}],
        "relabel_configs": route + _fixed_labels(labels),
        "metric_relabel_configs": [
            {"source_labels": ["namespace"], "regex": namespace, "action": "keep"},
            {"source_labels": ["container"], "regex": "(.+)", "target_label": CONTAINER_SERVICE_LABEL,
             "replacement": "${1}"},
        ],
    }


def _cluster_job(job: dict, namespace: str) -> dict:
    families = _container_families(job)
    return _kubelet_cadvisor(job, namespace, families) if families else _discovered(job, namespace)


def scrapes_kubelets(config_text: str) -> bool:
    """Whether a cluster prometheus.yml reads the kubelets (and so needs `node_metrics_rbac`)."""
    config = load_yaml(config_text.removeprefix(HEADER)) or {}
    return any(sd.get("role") == "node" for job in config.get("scrape_configs") or []
               for sd in job.get("kubernetes_sd_configs") or [])


def node_metrics_rbac(account: str, namespace: str) -> list[dict]:
    """ClusterRole and binding for the kubelet job: list the nodes, read their metrics through the proxy."""
    name = f"{namespace}-{account}-node-metrics"  # cluster-scoped: the namespace keeps it unique
    meta = {"name": name, "labels": {PART_OF_LABEL: "devtools"}}
    return [
        {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": meta, "rules": [
            {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["nodes/proxy", "nodes/metrics"], "verbs": ["get"]},
        ]},
        {"apiVersion": RBAC_API, "kind": "ClusterRoleBinding", "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]},
    ]


def kubernetes_prometheus_yml(rendered: str, namespace: str) -> str:
    """The rendered prometheus.yml with each static scrape job turned into Kubernetes discovery."""
    config = load_yaml(rendered)
    config["scrape_configs"] = [_cluster_job(dict(job), namespace) for job in config.get("scrape_configs", [])]
    return HEADER + dump_yaml(config)
