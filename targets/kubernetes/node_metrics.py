"""The cluster-wide read the kubelet cAdvisor job needs, declared as Pulumi resources (prometheus.py's documents)."""

from __future__ import annotations

import pulumi

from targets.kubernetes.prometheus import node_metrics_rbac
from targets.sdk import provider_sdk

# Only the resource modules this file uses (targets/sdk.py says why).
rbac_v1 = provider_sdk("pulumi_kubernetes.rbac.v1", "ClusterRole", "ClusterRoleBinding")


def node_metrics_access(account: str, namespace: str, opts: pulumi.ResourceOptions) -> None:
    role, binding = node_metrics_rbac(account, namespace)
    name = role["metadata"]["name"]
    rbac_v1.ClusterRole(name, metadata=role["metadata"], rules=role["rules"], opts=opts)
    rbac_v1.ClusterRoleBinding(name, metadata=binding["metadata"], role_ref=binding["roleRef"],
                               subjects=binding["subjects"], opts=opts)
