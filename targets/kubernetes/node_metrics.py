"""The cluster-wide read the kubelet cAdvisor job needs, declared as Pulumi resources (prometheus.py's documents)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from targets.kubernetes.prometheus import node_metrics_rbac


def node_metrics_access(account: str, namespace: str, opts: pulumi.ResourceOptions) -> None:
    role, binding = node_metrics_rbac(account, namespace)
    name = role["metadata"]["name"]
    k8s.rbac.v1.ClusterRole(name, metadata=role["metadata"], rules=role["rules"], opts=opts)
    k8s.rbac.v1.ClusterRoleBinding(name, metadata=binding["metadata"], role_ref=binding["roleRef"],
                                   subjects=binding["subjects"], opts=opts)
