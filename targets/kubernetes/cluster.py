"""The DOKS cluster in the stack's VPC, and the pulumi-kubernetes provider every Kubernetes resource goes through."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from catalog.settings import Settings
from targets.sdk import provider_sdk

# Only the resource modules this file uses (targets/sdk.py says why).
do = provider_sdk("pulumi_digitalocean", "vpc", "kubernetes_cluster")

NODE_POOL_LABEL = "devtools/pool"


@dataclass(frozen=True)
class ClusterArgs:
    settings: Settings


class Cluster(pulumi.ComponentResource):
    """VPC, cluster with an autoscaling node pool, and `provider`: a Kubernetes provider from its kubeconfig."""

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("devtools:kubernetes:Cluster", name, None, opts)
        settings = args.settings
        k8s_settings = settings.kubernetes
        assert k8s_settings is not None
        stack = pulumi.get_stack()
        child = pulumi.ResourceOptions(parent=self)

        self.vpc = do.Vpc(f"{name}-vpc", name=f"devtools-{stack}", region=settings.region,
                          ip_range=settings.vpc_ip_range, opts=child)
        self.cluster = do.KubernetesCluster(
            f"{name}-doks",
            name=f"devtools-{stack}",
            region=settings.region,
            version=k8s_settings.version,
            vpc_uuid=self.vpc.id,
            ha=k8s_settings.ha,
            auto_upgrade=k8s_settings.auto_upgrade,
            # Upgrades bring new nodes up before old ones drain, so PodDisruptionBudgets keep serving.
            surge_upgrade=k8s_settings.surge_upgrade,
            maintenance_policy=do.KubernetesClusterMaintenancePolicyArgs(
                day=k8s_settings.maintenance_day, start_time=k8s_settings.maintenance_start),
            # The API server answers the admins' addresses only (the droplet's SSH rule, here).
            control_plane_firewall=do.KubernetesClusterControlPlaneFirewallArgs(
                enabled=True, allowed_addresses=list(settings.admin_cidrs)),
            node_pool=do.KubernetesClusterNodePoolArgs(
                name=f"{name}-pool",
                size=k8s_settings.node_size,
                auto_scale=True,
                min_nodes=k8s_settings.min_nodes,
                max_nodes=k8s_settings.max_nodes,
                node_count=k8s_settings.min_nodes,
                labels={NODE_POOL_LABEL: "platform"},
                tags=list(settings.tags),
            ),
            tags=list(settings.tags),
            opts=child,
        )
        self.kubeconfig = pulumi.Output.secret(
            self.cluster.kube_configs.apply(lambda configs: configs[0].raw_config if configs else ""))
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            # Resources name their own namespace; nothing lands in `default` by accident.
            namespace=k8s_settings.namespace,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"cluster_id": self.cluster.id})
