"""Rules on Kubernetes objects and managed databases (the DOKS target).

Resource rules: `check(resource_type, props, config) -> messages`; stack rules:
`check(resources, config) -> [(urn or None, message)]`. As the container rules, a value the engine does
not know yet (UNKNOWN) is skipped; a value that is there but cannot be read (a malformed quantity, a pod
spec that is not a mapping) is a finding, so a shape the pack does not understand never passes silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .credentials import has_url_password
from .images import image_pin_problem
from .label_index import LabelIndex
from .metadata import policy
from .placeholders import is_secret_looking_key
from .values import as_list, is_hashable, is_unknown

WORKLOADS = {
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
LONG_RUNNING = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet",
                "kubernetes:apps/v1:ReplicaSet", "kubernetes:core/v1:Pod")
REPLICATED = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DISRUPTION_BUDGET = "kubernetes:policy/v1:PodDisruptionBudget"
AUTOSCALER = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
DATABASE = "digitalocean:index/databaseCluster:DatabaseCluster"
DATABASE_FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall"
SECRETS_DIR = "/run/secrets/"
QUANTITY = re.compile(r"^(\d+(\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")
SCALE = {None: 1, "m": 0.001, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
PRIVATE_RULE_TYPES = ("k8s", "droplet", "tag", "app")
HOST_NAMESPACES = {"hostNetwork": "network", "hostPID": "PID", "hostIPC": "IPC"}

Finding = tuple[str | None, str]


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Any:
    """The pod spec of a workload (None for other types); UNKNOWN, or a non-mapping, passed on as found."""
    path = WORKLOADS.get(resource_type)
    if path is None:
        return None
    value: Any = props
    for key in path:
        if is_unknown(value) or not isinstance(value, Mapping):
            return value
        value = value.get(key, {})
    return value


def _containers(resource_type: str, props: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], list[str]]:
    """The workload's containers (init containers too) and a finding if its pod spec cannot be read."""
    spec = pod_spec(resource_type, props)
    if spec is None or is_unknown(spec):
        return [], []
    if not isinstance(spec, Mapping):
        return [], ["the pod spec is not a mapping, so it cannot be judged"]
    containers = [c for c in as_list(spec.get("containers")) + as_list(spec.get("initContainers")) if isinstance(c, Mapping)]
    if not containers:
        return [], ["the pod spec declares no containers"]
    return containers, []


def _name(container: Mapping[str, Any]) -> str:
    name = container.get("name")
    return name if isinstance(name, str) else "?"


def quantity(value: Any) -> float | None:
    """A Kubernetes quantity as a number; None when it cannot be read."""
    if isinstance(value, int | float):
        return float(value)
    match = QUANTITY.match(str(value))
    return float(match.group(1)) * SCALE[match.group(3)] if match else None


@policy("k8s-requests-and-limits", severity="high",
        description="Every container of a Kubernetes workload requests CPU and memory and is limited, request no "
                    "larger than limit: set deploy.resources.reservations and limits for the service in "
                    "config/services.yaml.",
        covers=("audit: resource limits missing (P0)", "checkov CKV_K8S_10-13"))
def requests_and_limits(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    containers, found = _containers(resource_type, props)
    for container in containers:
        resources = container.get("resources") or {}
        if is_unknown(resources):
            continue
        for resource in ("cpu", "memory"):
            request = (resources.get("requests") or {}).get(resource)
            limit = (resources.get("limits") or {}).get(resource)
            if is_unknown(request) or is_unknown(limit):
                continue
            if request is None or limit is None:
                missing = " and ".join(k for k, v in (("request", request), ("limit", limit)) if v is None)
                found.append(f"container {_name(container)} has no {resource} {missing}")
                continue
            req, lim = quantity(request), quantity(limit)
            if req is None or lim is None:
                found.append(f"container {_name(container)}: {resource} {request!r}/{limit!r} is not a quantity")
            elif req > lim:
                found.append(f"container {_name(container)}: {resource} request {request} exceeds its limit {limit}")
    return found


@policy("k8s-probes", severity="medium",
        description="Every long-running container has a liveness and a readiness probe: give the service "
                    "healthcheck: and readiness: in config/services.yaml.",
        covers=("audit: health checks", "checkov CKV_K8S_8", "checkov CKV_K8S_9"))
def probes(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if resource_type not in LONG_RUNNING:
        return []
    spec = pod_spec(resource_type, props)
    containers, found = _containers(resource_type, props)
    regular = as_list(spec.get("containers")) if isinstance(spec, Mapping) else []
    for container in containers:
        if container not in regular:
            continue  # init containers run to completion: no probes
        for probe in ("livenessProbe", "readinessProbe"):
            if container.get(probe) is None:
                found.append(f"container {_name(container)} has no {probe}")
    return found


@policy("k8s-secrets-as-files", severity="high",
        description="Secrets reach a pod as mounted files under /run/secrets, never through env (secretKeyRef, "
                    "envFrom or a literal credential): list the secret under the service's secrets: in "
                    "config/services.yaml.",
        covers=("design: secrets as files", "checkov CKV_K8S_35"))
def secrets_as_files(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    containers, found = _containers(resource_type, props)
    for container in containers:
        for source in as_list(container.get("envFrom")):
            if isinstance(source, Mapping) and source.get("secretRef") is not None:
                found.append(f"container {_name(container)} imports a Secret into its environment (envFrom.secretRef)")
        for env in as_list(container.get("env")):
            if not isinstance(env, Mapping):
                continue
            name, value = env.get("name"), env.get("value")
            if isinstance(env.get("valueFrom"), Mapping) and "secretKeyRef" in env["valueFrom"]:
                found.append(f"container {_name(container)}: env {name} takes a Secret's value (secretKeyRef)")
            elif isinstance(name, str) and isinstance(value, str) and (
                    (is_secret_looking_key(name) and value and not value.startswith(SECRETS_DIR)) or has_url_password(value)):
                found.append(f"container {_name(container)}: env {name} holds a credential in plain text")
    return found


@policy("k8s-no-privilege", severity="critical",
        description="No pod shares the host's network, PID or IPC namespace, and no container runs privileged, "
                    "may escalate privileges or keeps capabilities it did not add back (drop ALL).",
        covers=("checkov CKV_K8S_16", "checkov CKV_K8S_17", "checkov CKV_K8S_18", "checkov CKV_K8S_19",
                "checkov CKV_K8S_20", "checkov CKV_K8S_28"))
def no_privilege(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    containers, found = _containers(resource_type, props)
    spec = pod_spec(resource_type, props)
    if isinstance(spec, Mapping):
        found += [f"the pod shares the host's {namespace} namespace ({key}: true)"
                  for key, namespace in HOST_NAMESPACES.items() if spec.get(key) is True]
    for container in containers:
        context = container.get("securityContext") or {}
        if is_unknown(context):
            continue
        if context.get("privileged") is True:
            found.append(f"container {_name(container)} runs privileged")
        if context.get("allowPrivilegeEscalation") is not False and not is_unknown(context.get("allowPrivilegeEscalation")):
            found.append(f"container {_name(container)} may escalate privileges (allowPrivilegeEscalation is not false)")
        drops = as_list((context.get("capabilities") or {}).get("drop"))
        if "ALL" not in drops:
            found.append(f"container {_name(container)} does not drop ALL capabilities")
    return found


@policy("k8s-image-pinned", severity="medium",
        description="Pin every pod's image to a released version tag or a digest, never `latest` or no tag.",
        covers=("audit: image versioning",))
def image_pinned(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    containers, found = _containers(resource_type, props)
    for container in containers:
        image = container.get("image")
        if is_unknown(image):
            continue
        if not isinstance(image, str) or not image:
            found.append(f"container {_name(container)} names no image")
            continue
        problem = image_pin_problem(image)
        if problem:
            found.append(f"container {_name(container)}: {problem[0]}")
    return found


# --- stack rules -----------------------------------------------------------------------------

def _pod_labels(resource: Any) -> Mapping[str, Any] | None:
    template = ((resource.props.get("spec") or {}).get("template") or {}) if isinstance(resource.props.get("spec"), Mapping) else {}
    if resource.type == "kubernetes:core/v1:Pod":
        return (resource.props.get("metadata") or {}).get("labels") or {}
    labels = (template.get("metadata") or {}).get("labels") if isinstance(template, Mapping) else None
    return labels if isinstance(labels, Mapping) else None


def _namespace(resource: Any) -> Any:
    return (resource.props.get("metadata") or {}).get("namespace")


def _match_labels(selector: Any) -> Mapping[str, Any] | None:
    """The labels a selector requires, or None when it selects nothing this pack can tell: not a mapping,
    with matchExpressions (not evaluated here), or with matchLabels that are not a mapping. Such a
    selector does not count as coverage."""
    if not isinstance(selector, Mapping) or selector.get("matchExpressions"):
        return None
    match = selector.get("matchLabels") or {}
    return match if isinstance(match, Mapping) else None


_NAMESPACE = object()  # a workload's namespace, filed in the index as one more label, which no selector names


def _covered(workloads: Sequence[tuple[Any, Mapping[str, Any]]], selectors: Sequence[tuple[Any, Any]]) -> set[str]:
    """URNs of the (workload, pod labels) that some (namespace, selector) selects."""
    index = LabelIndex([{**labels, _NAMESPACE: _namespace(workload)} for workload, labels in workloads])
    covered: set[str] = set()
    for namespace, selector in selectors:
        match = _match_labels(selector)
        if match is not None:
            covered.update(workloads[i][0].urn for i in index.matching({**match, _NAMESPACE: namespace}))
    return covered


@policy("k8s-network-policy-coverage", severity="high", stack=True,
        description="Every workload's pods are selected by a NetworkPolicy of their namespace that restricts both "
                    "ingress and egress (the target declares a default-deny policy per namespace).",
        covers=("audit: no network policies", "checkov CKV2_K8S_6"))
def network_policy_coverage(resources: Sequence[Any], config: Mapping[str, Any]) -> list[Finding]:
    """Every workload's pods are selected by a NetworkPolicy of its namespace restricting ingress and egress."""
    findings: list[Finding] = []
    workloads = []
    for workload in (r for r in resources if r.type in WORKLOADS):
        labels = _pod_labels(workload)
        if labels is None:
            findings.append((workload.urn, "its pod labels cannot be read, so NetworkPolicy coverage cannot be judged"))
        else:
            workloads.append((workload, labels))
    restricting = [(_namespace(p), (p.props.get("spec") or {}).get("podSelector")) for p in resources
                   if p.type == NETWORK_POLICY
                   and {"Ingress", "Egress"} <= set(as_list((p.props.get("spec") or {}).get("policyTypes")))]
    covered = _covered(workloads, restricting)
    for workload, _ in workloads:
        if workload.urn not in covered:
            findings.append((workload.urn, f"{workload.name}: no NetworkPolicy in its namespace restricts both its ingress "
                                           "and egress (add a default-deny policy with podSelector: {})"))
    return findings


def _autoscaled_minimums(resources: Sequence[Any]) -> dict[tuple[Any, Any], list[Any]]:
    """(namespace, target name) -> the minReplicas of each autoscaler scaling that target, in plan order."""
    minimums: dict[tuple[Any, Any], list[Any]] = {}
    for hpa in (r for r in resources if r.type == AUTOSCALER):
        spec = hpa.props.get("spec") or {}
        target = (spec.get("scaleTargetRef") or {}).get("name")
        if is_hashable(target) and is_hashable(_namespace(hpa)):
            minimums.setdefault((_namespace(hpa), target), []).append(spec.get("minReplicas", 1))
    return minimums


def _replicas(resource: Any, autoscaled: Mapping[tuple[Any, Any], list[Any]]) -> Any:
    count = (resource.props.get("spec") or {}).get("replicas", 1)
    name, namespace = (resource.props.get("metadata") or {}).get("name"), _namespace(resource)
    for minimum in autoscaled.get((namespace, name), []) if is_hashable(name) and is_hashable(namespace) else []:
        count = max(quantity(count) or 0, quantity(minimum) or 0)
    return count


@policy("k8s-disruption-budget", severity="medium", stack=True,
        description="A Deployment or StatefulSet with more than one replica (or an autoscaler whose minimum is "
                    "above one) has a PodDisruptionBudget selecting its pods, so node drains and upgrades keep it "
                    "serving.")
def disruption_budget(resources: Sequence[Any], config: Mapping[str, Any]) -> list[Finding]:
    """A service that runs more than one copy keeps serving through node drains: it needs a PodDisruptionBudget."""
    autoscaled = _autoscaled_minimums(resources)
    counted = [(workload, _replicas(workload, autoscaled)) for workload in resources if workload.type in REPLICATED]
    replicated = [(workload, _pod_labels(workload) or {}) for workload, count in counted
                  if not is_unknown(count) and (quantity(count) or 0) > 1]
    budgets = [(_namespace(b), (b.props.get("spec") or {}).get("selector")) for b in resources if b.type == DISRUPTION_BUDGET]
    covered = _covered(replicated, budgets)
    findings: list[Finding] = []
    for workload, count in counted:
        if is_unknown(count):
            continue
        copies = quantity(count)
        if copies is None:
            findings.append((workload.urn, f"replicas {count!r} is not a number"))
        elif copies > 1 and workload.urn not in covered:
            findings.append((workload.urn, f"{workload.name} runs {copies:g} replicas but no PodDisruptionBudget selects its pods"))
    return findings


@policy("managed-database-private", severity="critical", stack=True,
        description="A managed database sits on the stack's VPC (private_network_uuid) and has a DatabaseFirewall "
                    "admitting only the cluster (rule type k8s), droplets, tags or apps, never addresses.",
        covers=("audit: databases reachable from outside",))
def managed_database_private(resources: Sequence[Any], config: Mapping[str, Any]) -> list[Finding]:
    """A managed database sits on the private network and admits only the cluster (or droplets, tags, apps)."""
    findings: list[Finding] = []
    guards: dict[str, list[Any]] = {}  # database URN -> the firewalls whose cluster_id depends on it
    for firewall in (r for r in resources if r.type == DATABASE_FIREWALL):
        for urn in dict.fromkeys((firewall.property_dependencies or {}).get("clusterId", [])):
            guards.setdefault(urn, []).append(firewall)
    for database in (r for r in resources if r.type == DATABASE):
        network = database.props.get("privateNetworkUuid")
        if network is None or network == "":
            findings.append((database.urn, f"{database.name} has no private network (set private_network_uuid to the stack's VPC)"))
        guarding = guards.get(database.urn, [])
        if not guarding:
            findings.append((database.urn, f"{database.name} has no DatabaseFirewall: it accepts connections from anywhere"))
        for firewall in guarding:
            for rule in as_list(firewall.props.get("rules")):
                kind = rule.get("type") if isinstance(rule, Mapping) else None
                if is_unknown(kind):
                    continue
                if kind not in PRIVATE_RULE_TYPES:
                    findings.append((firewall.urn, f"{firewall.name} admits {kind} {rule.get('value')!r}: admit the "
                                                   "cluster (type k8s) instead of addresses"))
    return findings
