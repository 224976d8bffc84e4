"""The Kubernetes manifests a recorded plan declares, normalised, and the checks no API schema makes."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pulumi.runtime import rpc

from ops.engine import Recorded

SECRET_PLACEHOLDER = "secret-placeholder"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def normalise(value):
    """Recorded inputs as the API server would receive them: secrets as a placeholder, whole floats as ints."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return SECRET_PLACEHOLDER if not isinstance(value.get("value"), dict) else normalise(value["value"])
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _wrapped_to_placeholder(value):
    # A secret wrapping a whole map (stringData) keeps its keys; every leaf becomes the placeholder.
    if isinstance(value, dict):
        return {k: _wrapped_to_placeholder(v) for k, v in value.items()}
    return SECRET_PLACEHOLDER


def manifest(resource: Recorded) -> dict:
    inputs = dict(resource.inputs)
    doc = {}
    for key, value in inputs.items():
        if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            doc[key] = _wrapped_to_placeholder(value.get("value"))
        else:
            doc[key] = normalise(value)
    return doc


def manifests(resources: list[Recorded]) -> list[dict]:
    """Every Kubernetes object the plan declares (not the provider itself)."""
    return [manifest(r) for r in resources if r.type.startswith("kubernetes:") and r.custom]


def write_all(docs: list[dict], directory: Path) -> list[Path]:
    paths = []
    for i, doc in enumerate(docs):
        path = directory / f"{i:03d}-{doc['kind'].lower()}-{doc['metadata']['name']}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        paths.append(path)
    return paths


def by_kind(docs: list[dict], *kinds: str) -> list[dict]:
    return [d for d in docs if d["kind"] in kinds]


def _matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def _pod_spec(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]


def semantic_problems(docs: list[dict]) -> list[str]:
    """What the schemas do not see: selectors, ports, targets, secret references, policy coverage, names."""
    problems: list[str] = []
    workloads = by_kind(docs, *WORKLOAD_KINDS)
    secrets = {d["metadata"]["name"] for d in by_kind(docs, "Secret")}
    config_maps = {d["metadata"]["name"] for d in by_kind(docs, "ConfigMap")}
    pod_labels = {d["metadata"]["name"]: d["spec"]["template"]["metadata"].get("labels", {}) for d in workloads}
    ports_of = {name: {p["name"]: p["containerPort"] for c in _pod_spec(d)["containers"] for p in c.get("ports", [])}
                for name, d in ((d["metadata"]["name"], d) for d in workloads)}

    for doc in workloads:
        name, kind = doc["metadata"]["name"], doc["kind"]
        selector = doc["spec"].get("selector", {}).get("matchLabels")
        if kind != "Job" and not (selector and _matches(selector, pod_labels[name])):
            problems.append(f"{kind} {name}: selector {selector} does not match its pod labels {pod_labels[name]}")
        declared = set(ports_of[name]) | set(ports_of[name].values())
        for container in _pod_spec(doc)["containers"]:
            for probe_key in ("livenessProbe", "readinessProbe"):
                port = (container.get(probe_key) or {}).get("httpGet", {}).get("port")
                if port is not None and port not in declared:
                    problems.append(f"{kind} {name}: {probe_key} port {port!r} is not a declared container port")
        problems += [f"{kind} {name}: imagePullSecrets names Secret {ref['name']}, which is not declared"
                     for ref in _pod_spec(doc).get("imagePullSecrets", []) if ref["name"] not in secrets]
        volumes = _pod_spec(doc).get("volumes", [])
        known = {v["name"] for v in volumes} | {t["metadata"]["name"] for t in doc["spec"].get("volumeClaimTemplates", [])}
        for container in _pod_spec(doc)["containers"]:
            problems += [f"{kind} {name}: mount {mount['name']} names no volume of the pod"
                         for mount in container.get("volumeMounts", []) if mount["name"] not in known]
        for volume in volumes:
            refs = [s["secret"]["name"] for s in volume.get("projected", {}).get("sources", []) if "secret" in s]
            if "secret" in volume:
                refs.append(volume["secret"]["secretName"])
            problems += [f"{kind} {name}: volume {volume['name']} names Secret {ref}, which is not declared"
                         for ref in refs if ref not in secrets]
            cm = volume.get("configMap", {}).get("name")
            if cm is not None and cm not in config_maps:
                problems.append(f"{kind} {name}: volume {volume['name']} names ConfigMap {cm}, which is not declared")
        for container in _pod_spec(doc)["containers"]:
            for env in container.get("env", []):
                if "valueFrom" in env and "secretKeyRef" in env["valueFrom"]:
                    problems.append(f"{kind} {name}: env {env['name']} takes a Secret's value; mount it as a file")

    for service in by_kind(docs, "Service"):
        name, spec = service["metadata"]["name"], service["spec"]
        if spec.get("type") == "ExternalName":
            continue
        backing = [w for w, labels in pod_labels.items() if _matches(spec.get("selector"), labels)]
        if not backing:
            problems.append(f"Service {name}: selector {spec.get('selector')} matches no pod")
        for port in spec.get("ports", []):
            target = port.get("targetPort", port["port"])
            if backing and not any(target in ports_of[w] or target in ports_of[w].values() for w in backing):
                problems.append(f"Service {name}: targetPort {target!r} is not a declared container port of its pods")

    deployments = {d["metadata"]["name"]: d for d in by_kind(docs, "Deployment", "StatefulSet")}
    for hpa in by_kind(docs, "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        if ref["name"] not in deployments or deployments[ref["name"]]["kind"] != ref["kind"]:
            problems.append(f"HorizontalPodAutoscaler {hpa['metadata']['name']}: target {ref['kind']} {ref['name']} does not exist")
    for pdb in by_kind(docs, "PodDisruptionBudget"):
        selector = pdb["spec"]["selector"]["matchLabels"]
        if not any(_matches(selector, labels) for labels in pod_labels.values()):
            problems.append(f"PodDisruptionBudget {pdb['metadata']['name']}: selects no pod")

    policies = by_kind(docs, "NetworkPolicy")
    for name, labels in pod_labels.items():
        covering = [p for p in policies if _matches(p["spec"]["podSelector"].get("matchLabels", {}), labels)
                    and {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes", []))]
        if not covering:
            problems.append(f"workload {name}: no NetworkPolicy denies its ingress and egress by default")

    for doc in docs:
        name = doc["metadata"].get("name", "")
        pattern = DNS_1123_SUBDOMAIN if doc["kind"] in ("ConfigMap", "Secret") else DNS_1123_LABEL
        if not pattern.match(name) or len(name) > 63:
            problems.append(f"{doc['kind']} {name!r}: not a valid DNS-1123 name")
    return problems


def allowed_edges(docs: list[dict], kind: str = "dependency") -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(client, server) pairs the NetworkPolicies of one kind allow: from the egress side and from the ingress side."""
    name_label = "app.kubernetes.io/name"
    egress, ingress = set(), set()
    for policy in by_kind(docs, "NetworkPolicy"):
        if policy["metadata"]["labels"].get("devtools/edge-kind") != kind:
            continue
        spec = policy["spec"]
        selected = spec["podSelector"]["matchLabels"][name_label]
        for rule in spec.get("egress", []):
            for peer in rule["to"]:
                server = peer.get("podSelector", {}).get("matchLabels", {}).get(name_label)
                egress.add((selected, server or policy["metadata"]["name"].split("-to-")[1].removesuffix("-egress")))
        for rule in spec.get("ingress", []):
            for peer in rule["from"]:
                ingress.add((peer["podSelector"]["matchLabels"][name_label], selected))
    return egress, ingress
