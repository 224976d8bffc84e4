"""The cluster-wide read the kubelet cAdvisor job needs, declared as Pulumi resources (prometheus.py's documents)."""

from __future__ import annotations

import pulumi

from targets.kubernetes.objects import KubernetesObject
from targets.kubernetes.prometheus import node_metrics_rbac


def node_metrics_access(account: str, namespace: str, opts: pulumi.ResourceOptions) -> None:
    for document in node_metrics_rbac(account, namespace):
        KubernetesObject(document["metadata"]["name"], document, opts=opts)
