"""One catalog service in the cluster: its workload (Deployment, StatefulSet, DaemonSet or Job), ConfigMap,
Service, and where it applies a PodDisruptionBudget and a HorizontalPodAutoscaler."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from catalog.kubernetes_settings import KubernetesSettings
from catalog.services import Service
from targets.kubernetes import manifests as m
from targets.kubernetes.objects import KubernetesObject

WORKLOAD_API = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "Job": "batch/v1"}


@dataclass(frozen=True)
class WorkloadArgs:
    spec: Service
    image: pulumi.Input[str]                               # a built image's reference is known after its push
    settings: KubernetesSettings
    config_files: dict[str, str]                           # catalog config name -> rendered text
    claims: dict[str, str] = field(default_factory=dict)   # catalog volume -> PersistentVolumeClaim name
    claim_templates: list[str] = field(default_factory=list)  # volumes a StatefulSet claims per pod
    affinity_to: list[str] = field(default_factory=list)   # services whose node this one must share
    environment: dict[str, pulumi.Input[str]] = field(default_factory=dict)  # the service's variables, resolved for the stack
    service_account: str | None = None
    pull_secrets: list[dict[str, str]] = field(default_factory=list)
    node_paths: tuple[str, ...] = ()                       # node directories read instead of the Docker socket
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class Workload(pulumi.ComponentResource):
    """`ready` is the resource dependents wait for: the rolled-out workload, or the Job once it completed."""

    def __init__(self, name: str, args: WorkloadArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("devtools:kubernetes:Workload", name, None, opts)
        spec, namespace = args.spec, args.settings.namespace
        child = pulumi.ResourceOptions(parent=self)
        kind = m.kind_of(spec)
        self.kind = kind

        if args.config_files:
            KubernetesObject(f"{name}-config", {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": m.metadata(m.config_map_name(name), namespace, name, spec),
                "data": dict(args.config_files),
            }, opts=child)
        template = m.pod_template(name, spec, args.image, args.environment, args.claims, args.config_files,
                                  args.affinity_to, args.node_paths)
        pod = template["spec"]
        if args.pull_secrets:
            pod["imagePullSecrets"] = list(args.pull_secrets)
        if args.service_account:
            pod["serviceAccountName"] = args.service_account
            pod["automountServiceAccountToken"] = True
        body = m.workload_spec(name, spec, template)
        if args.claim_templates:
            body["volumeClaimTemplates"] = [{"metadata": {"name": volume}, "spec": m.claim_spec(args.settings, volume)}
                                            for volume in args.claim_templates]
        object_name: pulumi.Input[str] = name
        if kind == "Job":
            object_name = pulumi.Output.from_input(args.image).apply(lambda image: m.job_name(name, template, image))
        self.workload = KubernetesObject(
            name,
            {"apiVersion": WORKLOAD_API[kind], "kind": kind, "metadata": m.metadata(object_name, namespace, name, spec),
             "spec": body},
            # pulumi-kubernetes waits for a rollout to be ready and for a Job to complete, so services that
            # depend on this one (or on the migrations) are created only after it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=args.depends_on,
                                        delete_before_replace=kind == "Job"),
        )
        self.ready = self.workload
        self.service: KubernetesObject | None = None
        if m.service_ports(spec):
            annotations = {"service.beta.kubernetes.io/do-loadbalancer-name": f"devtools-{pulumi.get_stack()}"} if spec.ports else None
            self.service = KubernetesObject(name, {
                "apiVersion": "v1", "kind": "Service",
                "metadata": m.metadata(name, namespace, name, spec, annotations),
                "spec": m.service_spec(name, spec),
            }, opts=child)
        if kind == "Deployment" and (m.replicas(spec) > 1 or spec.autoscaling):
            KubernetesObject(f"{name}-pdb", {
                "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": m.metadata(name, namespace, name, spec), "spec": m.disruption_budget_spec(name),
            }, opts=child)
        if kind == "Deployment" and spec.autoscaling:
            KubernetesObject(f"{name}-hpa", {
                "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": m.metadata(name, namespace, name, spec), "spec": m.autoscaler_spec(name, spec),
            }, opts=child)
        self.register_outputs({"kind": kind})
