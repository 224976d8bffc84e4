"""KubernetesStack: the whole platform on DigitalOcean Kubernetes, from the same validated inputs as the droplet."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from catalog.inputs import Inputs
from render.environment import resolved_environment
from render.registry import RENDERERS, render
from targets.backup_storage import BackupStorage, spaces_key_values
from targets.kubernetes import manifests as m
from targets.kubernetes.cluster import Cluster, ClusterArgs
from targets.kubernetes.datastores import DatastoresArgs, Endpoint, ManagedDatastores, managed_datastores, over_tls
from targets.kubernetes.network import NetworkPolicies, NetworkPoliciesArgs, policy_documents
from targets.kubernetes.node_metrics import node_metrics_access
from targets.kubernetes.objects import KubernetesObject
from targets.kubernetes.prometheus import PROMETHEUS_RENDERER, RBAC_API, scrapes_kubelets
from targets.kubernetes.renderers import KUBERNETES_RENDERERS, cluster_renderers, reads_instead_of_docker
from targets.kubernetes.workload import Workload, WorkloadArgs
from targets.registry import Registry, service_image
from targets.secrets import Secrets, derived_value

# pod-security admission: the platform's images run as root, so `restricted` warns and audits, not enforces.
PULL_SECRET = "registry-pull"
POD_SECURITY = {"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/audit": "restricted"}


def deployed_services(inputs: Inputs) -> list[str]:
    """Catalog services that run in the cluster, in start order: not the managed datastores, nor a Docker-host
    agent with no cluster counterpart (DOKS nodes run containerd and have no Docker socket; the kubelet
    embeds cAdvisor). A log shipper has one: it reads the node's pod log files instead (renderers.py)."""
    managed = managed_datastores(inputs)
    catalog = inputs.catalog
    return [name for name in catalog.start_order()
            if name not in managed and (not m.needs_docker_socket(catalog.services[name])
                                        or reads_instead_of_docker(catalog, catalog.services[name]))]


@dataclass(frozen=True)
class ClaimPlan:
    """Which PersistentVolumeClaims exist and who mounts them.

    The first service (in start order) that mounts a volume owns its claim; later ones mount the same claim
    on the same node (a ReadWriteOnce block volume attaches to one node). A StatefulSet owns its volumes as
    claim templates (one claim per pod, `<volume>-<set>-<ordinal>`); a DaemonSet's scratch state stays on
    its node (emptyDir).
    """

    owned: list[str]                     # volumes declared as PersistentVolumeClaim resources
    claims: dict[str, dict[str, str]]    # service -> volume -> claim name it mounts
    templates: dict[str, list[str]]      # StatefulSet -> volumes it claims per pod
    affinity: dict[str, list[str]]       # service -> owners whose node it must share


def claim_plan(inputs: Inputs, deployed: list[str]) -> ClaimPlan:
    catalog = inputs.catalog
    owner: dict[str, str] = {}
    plan = ClaimPlan([], {n: {} for n in deployed}, {n: [] for n in deployed}, {n: [] for n in deployed})
    for name in deployed:
        spec = catalog.services[name]
        kind = m.kind_of(spec)
        if kind == "DaemonSet":
            continue
        for volume, _, _ in spec.volume_mounts():
            first = owner.setdefault(volume, name)
            if first == name and kind == "StatefulSet":
                plan.templates[name].append(volume)
            elif first == name:
                plan.owned.append(volume)
                plan.claims[name][volume] = volume
            else:
                first_is_set = m.kind_of(catalog.services[first]) == "StatefulSet"
                plan.claims[name][volume] = f"{volume}-{first}-0" if first_is_set else volume
                plan.affinity[name].append(first)
    return plan


def cluster_environment(inputs: Inputs, service: str, endpoints: dict[str, Endpoint]) -> dict[str, pulumi.Input[str]]:
    """The service's variables resolved for the stack (render/environment.py, as on the droplet), where a
    variable names a managed datastore it depends on by port, with the managed engine's port instead, and
    every client of a managed datastore connects over TLS, which the engine requires (datastores.over_tls).

    Elsewhere the host name stays the catalog's: an ExternalName Service of that name points at the private host.
    """
    spec = inputs.catalog.services[service]
    environment: dict[str, pulumi.Input[str]] = dict(resolved_environment(spec, inputs.settings))
    for store, endpoint in endpoints.items():
        if store not in spec.dependencies:
            continue
        port = inputs.catalog.services[store].port
        for key, value in list(environment.items()):
            if not isinstance(value, str):
                continue  # already rewritten for another managed datastore (an Output naming its host)
            if value == str(port):
                environment[key] = str(endpoint.port)
            else:
                environment[key] = over_tls(value.replace(f"{store}:{port}", f"{store}:{endpoint.port}"), store, port, endpoint)
    return environment


def managed_secret_values(inputs: Inputs, secrets: dict[str, pulumi.Output[str]],
                          endpoints: dict[str, Endpoint]) -> dict[str, pulumi.Output[str]]:
    """The catalog's secrets with the managed engines' credentials: the secrets a managed datastore itself
    reads take its generated password, and a secret derived from one by template (a URL) is derived again
    from that password and written for TLS to the managed host (over_tls); a renderer's file (the ACL) is the
    in-cluster server's only, which a managed datastore does not read."""
    catalog = inputs.catalog
    values = dict(secrets)
    for store, endpoint in endpoints.items():
        port = catalog.services[store].port
        replaced = {mount.source for mount in catalog.services[store].secret_mounts if catalog.secrets[mount.source].derive is None}
        for source in replaced:
            values[source] = endpoint.password
        for name, spec in catalog.secrets.items():
            if spec.derive is None or spec.derive.source not in replaced or spec.derive.template is None:
                continue
            template = pulumi.Output.from_input(over_tls(spec.derive.template, store, port, endpoint))
            render = pulumi.Output.all(template, endpoint.password).apply(
                lambda pair: derived_value(None, pair[0])(pair[1]))
            values[name] = pulumi.Output.secret(render)
    return values


def _balancer_ip(status: dict | None) -> str:
    """The load balancer's address from a Service's status, as the API reports it (`loadBalancer.ingress`)."""
    ingress = ((status or {}).get("loadBalancer") or {}).get("ingress") or []
    return (ingress[0].get("ip") or ingress[0].get("hostname") or "") if ingress else ""


@dataclass(frozen=True)
class PlatformArgs:
    inputs: Inputs
    secrets: dict[str, pulumi.Output[str]]
    endpoints: dict[str, Endpoint]
    vpc_cidr: str
    images: dict[str, pulumi.Input[str]]              # built services' pinned references (targets/registry.py)
    pull_config: pulumi.Output[str] | None = None     # the registry's read-only Docker config, a secret


class Platform(pulumi.ComponentResource):
    """Every Kubernetes object of the platform; the provider comes from `opts` and every child inherits it."""

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("devtools:kubernetes:Platform", name, None, opts)
        inputs = args.inputs
        catalog, settings = inputs.catalog, inputs.settings
        k8s_settings = settings.kubernetes
        assert k8s_settings is not None
        namespace = k8s_settings.namespace
        child = pulumi.ResourceOptions(parent=self)

        self.namespace = KubernetesObject(namespace, {
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {m.PART_OF_LABEL: "devtools", **POD_SECURITY}},
        }, opts=child)
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])

        deployed = deployed_services(inputs)
        used_secrets = sorted({s.source for n in deployed for s in catalog.services[n].secret_mounts})
        for secret in used_secrets:
            KubernetesObject(m.secret_object_name(secret), {
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": m.secret_object_name(secret), "namespace": namespace,
                             "labels": {m.PART_OF_LABEL: "devtools"}},
                "type": "Opaque",
                "stringData": {"value": args.secrets[secret]},
            }, opts=in_namespace)
        pull_secrets: list[dict[str, str]] = []
        if args.pull_config is not None:
            # The stack registry's read-only credential, as the kubelet reads it for every pull.
            KubernetesObject(PULL_SECRET, {
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": PULL_SECRET, "namespace": namespace, "labels": {m.PART_OF_LABEL: "devtools"}},
                "type": "kubernetes.io/dockerconfigjson", "stringData": {".dockerconfigjson": args.pull_config},
            }, opts=in_namespace)
            pull_secrets = [{"name": PULL_SECRET}]
        for store, endpoint in args.endpoints.items():
            # The catalog's host name for the datastore, resolving to the managed database's private host.
            KubernetesObject(store, {
                "apiVersion": "v1", "kind": "Service",
                "metadata": m.metadata(store, namespace, store, catalog.services[store]),
                "spec": {"type": "ExternalName", "externalName": endpoint.host},
            }, opts=in_namespace)

        volumes = claim_plan(inputs, deployed)
        for volume in volumes.owned:
            # Protected: losing a claim loses the data on it; a replace must be deliberate.
            KubernetesObject(volume, {
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": volume, "namespace": namespace, "labels": {m.PART_OF_LABEL: "devtools"}},
                "spec": m.claim_spec(k8s_settings, volume),
            }, opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace], protect=True))

        self.workloads: dict[str, Workload] = {}
        for service in deployed:
            spec = catalog.services[service]
            files = {m.WRAPPER_FILE: RENDERERS[m.WRAPPER_FILE](spec, settings)} if spec.exported_secrets else {}
            for mount in spec.configs:
                renderer = catalog.configs[mount.source].renderer
                files[mount.source] = render(renderer, catalog, spec, settings)
                if renderer in KUBERNETES_RENDERERS:
                    files[mount.source] = KUBERNETES_RENDERERS[renderer](files[mount.source], namespace)
            account = self._discovery_account(service, namespace, in_namespace) if cluster_renderers(catalog, spec) else None
            if account and any(scrapes_kubelets(files[c.source]) for c in spec.configs
                               if catalog.configs[c.source].renderer == PROMETHEUS_RENDERER):
                node_metrics_access(account, namespace, in_namespace)
            self.workloads[service] = Workload(
                service,
                WorkloadArgs(
                    spec=spec,
                    image=service_image(service, spec, settings, args.images),
                    pull_secrets=pull_secrets,
                    settings=k8s_settings,
                    config_files=files,
                    claims=volumes.claims[service],
                    claim_templates=volumes.templates[service],
                    affinity_to=volumes.affinity[service],
                    environment=cluster_environment(inputs, service, args.endpoints),
                    service_account=account,
                    node_paths=reads_instead_of_docker(catalog, spec),
                    # Deployments wait for readiness and Jobs for completion: compose's conditions, in order.
                    depends_on=[self.namespace] + [self.workloads[d].ready for d in spec.dependencies if d in self.workloads],
                ),
                opts=child,
            )
        NetworkPolicies("network", NetworkPoliciesArgs(policy_documents(
            catalog, set(deployed), {s: e.port for s, e in args.endpoints.items()}, args.vpc_cidr, namespace,
            PROMETHEUS_RENDERER, tuple(n for n in deployed if cluster_renderers(catalog, catalog.services[n])))),
            opts=in_namespace)
        edge = next((n for n in deployed if catalog.services[n].ports), None)
        balancer = self.workloads[edge].service if edge else None
        # pulumi-kubernetes waits for a LoadBalancer Service's address, so it is known once the Service is up.
        self.address = balancer.status.apply(_balancer_ip) if balancer else pulumi.Output.from_input("")
        self.register_outputs({})

    def _discovery_account(self, service: str, namespace: str, opts: pulumi.ResourceOptions) -> str:
        """What its Kubernetes service discovery needs (`role: pod`): read the namespace's pods, nothing else."""
        name = f"{service}-discovery"
        meta = {"name": name, "namespace": namespace, "labels": {m.PART_OF_LABEL: "devtools"}}
        read = ["get", "list", "watch"]
        KubernetesObject(name, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta,
                                "automountServiceAccountToken": False}, opts=opts)
        KubernetesObject(name, {"apiVersion": RBAC_API, "kind": "Role", "metadata": meta,
                                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": read}]}, opts=opts)
        KubernetesObject(name, {"apiVersion": RBAC_API, "kind": "RoleBinding", "metadata": meta,
                                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]}, opts=opts)
        return name


class KubernetesStack(pulumi.ComponentResource):
    def __init__(self, name: str, inputs: Inputs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("devtools:stack:KubernetesStack", name, None, opts)
        settings = inputs.settings
        child = pulumi.ResourceOptions(parent=self)
        self.cluster = Cluster("cluster", ClusterArgs(settings), opts=child)
        self.kubeconfig = self.cluster.kubeconfig
        self.registry = Registry("registry", inputs.catalog, settings, opts=child)
        self.secrets = Secrets("secrets", inputs.catalog, opts=child)
        endpoints: dict[str, Endpoint] = {}
        engines = managed_datastores(inputs)
        if engines:
            stores = ManagedDatastores("datastores", DatastoresArgs(inputs, engines, self.cluster.vpc.id, self.cluster.cluster.id), opts=child)
            endpoints = stores.endpoints
        values = managed_secret_values(inputs, self.secrets.values, endpoints)
        pull = self.registry.pull_auth.config_file_content if self.registry.pull_auth else None
        self.platform = Platform("platform", PlatformArgs(inputs, values, endpoints, settings.vpc_ip_range,
                                                          self.registry.images, pull),
                                 opts=pulumi.ResourceOptions(parent=self, providers=[self.cluster.provider]))
        self.address = self.platform.address
        self.backup_storage = BackupStorage("backups", settings, spaces_key_values(inputs.catalog, self.secrets.values), opts=child)
        self.register_outputs({"address": self.address})
