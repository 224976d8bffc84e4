"""Kubernetes objects for one catalog service, as API documents (camelCase dicts): pure functions, no Pulumi.

The components in this folder hand these documents to pulumi-kubernetes; the tests validate the same
shapes against the API schemas. Values that only exist at deploy time (secret data) are filled in by the
components.
"""

from __future__ import annotations

import hashlib
import json
import re

from catalog.kubernetes_settings import KubernetesSettings
from catalog.services import SECRETS_DIR, Healthcheck, Service
from catalog.units import megabytes
from render.environment import secret_file_variables
from render.secrets_wrapper import WRAPPER_PATH, wrapper_entrypoint

NAME_LABEL = "app.kubernetes.io/name"
PART_OF_LABEL = "app.kubernetes.io/part-of"
ROLE_LABEL = "devtools.role"
CONFIG_HASH = "devtools/config-hash"
HTTP_PORT, METRICS_PORT = "http", "metrics"
DOCKER_SOCKET = "/var/run/docker.sock"
HOSTNAME_TOPOLOGY = "kubernetes.io/hostname"
# The entrypoint wrapper's key in the service's ConfigMap (render/secrets_wrapper.py, the droplet's own file).
WRAPPER_FILE = "secrets_wrapper"


def dns_name(text: str) -> str:
    """A DNS-1123 label from a catalog name (secret names use `_`)."""
    return re.sub(r"[^a-z0-9-]", "-", text.lower()).strip("-")[:63]


def discovery_label(label: str) -> str:
    """How Kubernetes service discovery (Prometheus, Alloy) names a pod label: `__meta_kubernetes_pod_label_<name>`."""
    return "__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", label)


def secret_object_name(secret: str) -> str:
    return f"secret-{dns_name(secret)}"


def config_map_name(service: str) -> str:
    return f"{service}-config"


def selector(service: str) -> dict[str, str]:
    return {NAME_LABEL: service}


def labels(service: str, spec: Service) -> dict[str, str]:
    return {**selector(service), PART_OF_LABEL: "devtools", ROLE_LABEL: spec.role}


def metadata(name: str, namespace: str, service: str, spec: Service, annotations: dict | None = None) -> dict:
    doc = {"name": name, "namespace": namespace, "labels": labels(service, spec)}
    if annotations:
        doc["annotations"] = annotations
    return doc


def needs_docker_socket(spec: Service) -> bool:
    """A Docker-host agent: DOKS nodes run containerd and have no Docker socket to read."""
    return any(host == DOCKER_SOCKET for host, _, _ in spec.host_mounts())


def kind_of(spec: Service) -> str:
    """Job for one-shot jobs, DaemonSet for per-node agents (host paths), StatefulSet for datastores."""
    if not spec.long_running:
        return "Job"
    if spec.host_mounts():
        return "DaemonSet"
    if spec.role == "datastore":
        return "StatefulSet"
    return "Deployment"


def replicas(spec: Service) -> int:
    return spec.autoscaling.min_replicas if spec.autoscaling else spec.replicas


def container_ports(spec: Service) -> list[dict]:
    """Every port the service listens on: its own, its metrics port, and the ports it publishes (the edge)."""
    ports: dict[int, str] = {}
    if spec.port is not None:
        ports[spec.port] = HTTP_PORT
    if spec.metrics is not None and spec.metrics.port is not None:
        ports.setdefault(spec.metrics.port, METRICS_PORT)
    for mapping in spec.ports:
        internal = int(mapping.split(":")[-1])
        ports.setdefault(internal, f"p{internal}")
    return [{"name": name, "containerPort": port, "protocol": "TCP"} for port, name in ports.items()]


def service_ports(spec: Service) -> list[dict]:
    """The Service's ports: each container port under its name. The edge's Service is the public load
    balancer, so it carries only the ports the catalog publishes (its metrics stay inside the cluster)."""
    published = {int(m.split(":")[-1]): int(m.split(":")[-2]) for m in spec.ports}
    ports = [p for p in container_ports(spec) if not published or p["containerPort"] in published]
    return [{"name": p["name"], "port": published.get(p["containerPort"], p["containerPort"]),
             "targetPort": p["name"], "protocol": "TCP"} for p in ports]


def _quantity_cpu(cpus: float) -> str:
    return f"{round(cpus * 1000)}m"


def _quantity_memory(memory: int) -> str:
    return f"{megabytes(memory)}Mi"


def resources(spec: Service) -> dict:
    limits, reservations = spec.deploy.resources.limits, spec.deploy.resources.reservations
    return {
        "requests": {"cpu": _quantity_cpu(reservations.cpus), "memory": _quantity_memory(reservations.memory)},
        "limits": {"cpu": _quantity_cpu(limits.cpus), "memory": _quantity_memory(limits.memory)},
    }


def _exec(test: list[str]) -> dict:
    if test[0] == "CMD-SHELL":
        return {"command": ["sh", "-c", " ".join(test[1:])]}
    return {"command": list(test[1:] if test[0] == "CMD" else test)}


def _timing(check: Healthcheck) -> dict:
    return {"periodSeconds": max(1, round(check.interval)), "timeoutSeconds": max(1, round(check.timeout)),
            "failureThreshold": check.retries}


def liveness_probe(spec: Service) -> dict | None:
    check = spec.healthcheck
    if check is None:
        return None
    action = {"httpGet": {"path": check.path, "port": HTTP_PORT}} if check.path else {"exec": _exec(check.test)}
    return {**action, **_timing(check), "initialDelaySeconds": round(check.start_period)}


def readiness_probe(spec: Service) -> dict | None:
    """The readiness path where the catalog has one; otherwise the liveness check answers both questions."""
    if spec.readiness is not None:
        timing = _timing(spec.healthcheck) if spec.healthcheck else {}
        return {"httpGet": {"path": spec.readiness.path, "port": HTTP_PORT}, **timing, "periodSeconds": 10}
    probe = liveness_probe(spec)
    if probe is None:
        return None
    return {k: v for k, v in probe.items() if k != "initialDelaySeconds"}


def run_as(spec: Service) -> dict:
    """Non-root where the catalog gives a numeric non-zero user; the platform's images run as root otherwise.

    A named user (e.g. `postgres`) cannot be verified as non-root by the kubelet, so it is left to the image.
    """
    if spec.user is None:
        return {"runAsNonRoot": False}
    user, _, group = spec.user.partition(":")
    if not user.isdigit():
        return {}
    context: dict = {"runAsUser": int(user), "runAsNonRoot": int(user) != 0}
    if group.isdigit():
        context["runAsGroup"] = int(group)
    return context


def container_security(spec: Service) -> dict:
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": spec.read_only,
        "capabilities": {"drop": ["ALL"], **({"add": list(spec.cap_add)} if spec.cap_add else {})},
        **run_as(spec),
    }


def pod_security() -> dict:
    # The edge binds 80/443 with every capability dropped, as on the droplet (Docker sets the same sysctl).
    return {"seccompProfile": {"type": "RuntimeDefault"},
            "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]}


def volumes_and_mounts(service: str, spec: Service, claims: dict[str, str],
                       node_paths: tuple[str, ...] = ()) -> tuple[list[dict], list[dict]]:
    """Pod volumes and the container's mounts: secrets (one projected volume), config files, claims, host paths.

    `claims` maps each catalog volume the service mounts to its PersistentVolumeClaim; a volume without one
    (a per-node agent's scratch state) is an emptyDir. `node_paths` are read from the node instead of the
    Docker socket, which containerd nodes do not have.
    """
    volumes: list[dict] = []
    mounts: list[dict] = []
    if spec.secret_mounts:
        volumes.append({"name": "secrets", "projected": {"defaultMode": 0o444, "sources": [
            {"secret": {"name": secret_object_name(m.source), "items": [{"key": "value", "path": m.source}]}}
            for m in spec.secret_mounts]}})
        mounts.append({"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True})
    if spec.configs or spec.exported_secrets:
        volumes.append({"name": "config", "configMap": {"name": config_map_name(service), "defaultMode": 0o444}})
        mounts.extend({"name": "config", "mountPath": m.target, "subPath": m.source, "readOnly": True} for m in spec.configs)
    if spec.exported_secrets:
        mounts.append({"name": "config", "mountPath": WRAPPER_PATH, "subPath": WRAPPER_FILE, "readOnly": True})
    for volume, path, read_only in spec.volume_mounts():
        if volume in claims:
            volumes.append({"name": volume, "persistentVolumeClaim": {"claimName": claims[volume]}})
        elif kind_of(spec) == "DaemonSet":
            volumes.append({"name": volume, "emptyDir": {}})
        mounts.append({"name": volume, "mountPath": path, "readOnly": read_only})
    host_paths = [(host, path) for host, path, _ in spec.host_mounts() if host != DOCKER_SOCKET]
    host_paths += [(node_path, node_path) for node_path in node_paths]
    for i, (host, path) in enumerate(host_paths):
        volumes.append({"name": f"host-{i}", "hostPath": {"path": host, "type": "Directory"}})
        mounts.append({"name": f"host-{i}", "mountPath": path, "readOnly": True})
    return volumes, mounts


def config_hash(files: dict[str, str]) -> str:
    """Changes with any config file, so pods roll when their files change (subPath mounts do not update)."""
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


def pod_template(service: str, spec: Service, image: object, environment: dict[str, object], claims: dict[str, str],
                 config_files: dict[str, str], affinity_to: list[str], node_paths: tuple[str, ...] = ()) -> dict:
    """`environment` is the service's, resolved for the stack; `config_files` holds the ConfigMap's files."""
    volumes, mounts = volumes_and_mounts(service, spec, claims, node_paths)
    # A per-node agent learns its node from the downward API (it reads only that node's pods).
    node_env = [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}] if node_paths else []
    container = {
        "name": service,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "env": [{"name": k, "value": v} for k, v in (*environment.items(), *secret_file_variables(spec).items())] + node_env,
        "ports": container_ports(spec),
        "resources": resources(spec),
        "securityContext": container_security(spec),
        "volumeMounts": mounts,
    }
    if spec.exported_secrets:
        # The wrapper fills the plain variables from the files, then execs the catalog's command.
        container["command"] = wrapper_entrypoint()
    elif spec.entrypoint:
        container["command"] = list(spec.entrypoint)
    if spec.command:
        container["args"] = list(spec.command)
    if spec.long_running:
        for key, probe in (("livenessProbe", liveness_probe(spec)), ("readinessProbe", readiness_probe(spec))):
            if probe is not None:
                container[key] = probe
    pod: dict = {
        "automountServiceAccountToken": False,
        "securityContext": pod_security(),
        "containers": [container],
        "volumes": volumes,
    }
    if not spec.long_running:
        pod["restartPolicy"] = "Never"
    if replicas(spec) > 1 or spec.autoscaling:
        pod["topologySpreadConstraints"] = [{"maxSkew": 1, "topologyKey": HOSTNAME_TOPOLOGY,
                                             "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": selector(service)}}]
    if affinity_to:
        # A ReadWriteOnce block volume attaches to one node: pods sharing it must share that node.
        pod["affinity"] = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": HOSTNAME_TOPOLOGY, "labelSelector": {"matchLabels": selector(owner)}} for owner in affinity_to]}}
    annotations = {CONFIG_HASH: config_hash(config_files)} if config_files else {}
    template_meta: dict = {"labels": labels(service, spec)}
    if annotations:
        template_meta["annotations"] = annotations
    return {"metadata": template_meta, "spec": pod}


def workload_spec(service: str, spec: Service, template: dict) -> dict:
    """The spec of the workload object `kind_of(spec)` names."""
    kind = kind_of(spec)
    if kind == "Job":
        return {"backoffLimit": 2, "template": template}
    body: dict = {"selector": {"matchLabels": selector(service)}, "template": template}
    if kind == "DaemonSet":
        return body
    if spec.autoscaling is None:
        # With an autoscaler, the count is its to set: a declared one would reset it on every update.
        body["replicas"] = replicas(spec)
    if kind == "StatefulSet":
        body["serviceName"] = service
        return body
    # Two processes on one data directory corrupt it: a writer's old pod goes before the new one starts.
    body["strategy"] = {"type": "Recreate"} if spec.writes_state else {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    return body


def job_name(service: str, template: dict, image: str) -> str:
    """Jobs are immutable: a changed template is a new Job, named by its content (the image, which may be
    known only once built, is hashed as its resolved reference)."""
    containers = [{**c, "image": image} for c in template["spec"]["containers"]]
    content = {**template, "spec": {**template["spec"], "containers": containers}}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:8]
    return f"{service}-{digest}"


def service_spec(service: str, spec: Service) -> dict:
    body = {"selector": selector(service), "ports": service_ports(spec)}
    if spec.ports:
        # The edge: a DigitalOcean load balancer in front; Local keeps the client address for rate limits.
        body.update({"type": "LoadBalancer", "externalTrafficPolicy": "Local"})
    elif kind_of(spec) == "StatefulSet":
        body["clusterIP"] = "None"
    return body


def disruption_budget_spec(service: str) -> dict:
    return {"maxUnavailable": 1, "selector": {"matchLabels": selector(service)}}


def autoscaler_spec(service: str, spec: Service) -> dict:
    assert spec.autoscaling is not None
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service},
        "minReplicas": spec.autoscaling.min_replicas,
        "maxReplicas": spec.autoscaling.max_replicas,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": spec.autoscaling.cpu_utilization}}}],
    }


def claim_spec(k8s: KubernetesSettings, volume: str) -> dict:
    return {"accessModes": ["ReadWriteOnce"], "storageClassName": k8s.storage_class,
            "resources": {"requests": {"storage": f"{k8s.claim_gb(volume)}Gi"}}}
