"""Least privilege on the cluster network: deny everything, then allow exactly what the catalog says.

- one pair of policies per catalog dependency edge (the client may send, the server may receive);
- DNS for every pod; the edge from anywhere and to the services it routes; Prometheus to what it scrapes;
- the internet (public addresses only) for services on a network the catalog does not mark internal,
  as Docker's internal networks have no route out on the droplet;
- a managed datastore is outside the cluster: its edge is egress to the VPC on the managed port;
- services that discover their targets through the Kubernetes API reach the control plane.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi

from catalog.services import Catalog, Service
from targets.kubernetes import manifests as m
from targets.kubernetes.objects import KubernetesObject

PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]
EDGE_KIND = "edge"
API_SERVER_PORTS = (443, 6443)
DEPENDENCY, ROUTE, SCRAPE = "dependency", "route", "scrape"
EDGE_KIND_LABEL = "devtools/edge-kind"


@dataclass(frozen=True)
class Edge:
    client: str
    server: str
    ports: tuple[int, ...]
    kind: str                       # dependency | route | scrape
    cidr: str | None = None         # set for a server outside the cluster (a managed datastore)


def _ports(spec: Service) -> tuple[int, ...]:
    return tuple(p["containerPort"] for p in m.container_ports(spec))


def _scraper(catalog: Catalog, prometheus_renderer: str) -> str | None:
    return next((name for name, svc in catalog.services.items()
                 if any(catalog.configs[c.source].renderer == prometheus_renderer for c in svc.configs)), None)


def edges(catalog: Catalog, deployed: set[str], managed_ports: dict[str, int], vpc_cidr: str,
          prometheus_renderer: str) -> list[Edge]:
    """Every allowed connection between the catalog's services, by why it is allowed."""
    found: list[Edge] = []
    for client in sorted(deployed):
        for server in sorted(catalog.services[client].dependencies):
            if server in managed_ports:
                found.append(Edge(client, server, (managed_ports[server],), DEPENDENCY, vpc_cidr))
            elif server in deployed and _ports(catalog.services[server]):
                found.append(Edge(client, server, _ports(catalog.services[server]), DEPENDENCY))
    edge = next((n for n in sorted(deployed) if catalog.services[n].role == EDGE_KIND), None)
    if edge:
        for server in sorted(deployed):
            spec = catalog.services[server]
            if spec.route is not None and spec.port is not None and server != edge:
                found.append(Edge(edge, server, (spec.port,), ROUTE))
    scraper = _scraper(catalog, prometheus_renderer)
    if scraper in deployed:
        for server in sorted(deployed):
            spec = catalog.services[server]
            if spec.metrics is not None and server != scraper:
                found.append(Edge(scraper, server, (spec.metrics.port or spec.port,), SCRAPE))
    return _one_per_pair(found)


def _one_per_pair(found: list[Edge]) -> list[Edge]:
    """One edge per (client, server): a pair allowed for two reasons (Prometheus depends on
    Alertmanager and scrapes it) gets one policy pair with both reasons' ports, named by the first
    reason, since two policies of one name would be two resources with the same URN."""
    merged: dict[tuple[str, str], Edge] = {}
    for edge in found:
        first = merged.get((edge.client, edge.server))
        if first is None:
            merged[(edge.client, edge.server)] = edge
        else:
            ports = tuple(sorted(set(first.ports) | set(edge.ports)))
            merged[(edge.client, edge.server)] = replace(first, ports=ports)
    return list(merged.values())


def internet_clients(catalog: Catalog, deployed: set[str]) -> list[str]:
    return sorted(n for n in deployed if any(not catalog.networks[net].internal for net in catalog.services[n].networks))


def _port_list(ports: tuple[int, ...]) -> list[dict]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def _meta(name: str, kind: str) -> dict:
    return {"name": name, "labels": {m.PART_OF_LABEL: "devtools", EDGE_KIND_LABEL: kind}}


def policy_documents(catalog: Catalog, deployed: set[str], managed_ports: dict[str, int], vpc_cidr: str,
                     namespace: str, prometheus_renderer: str, api_clients: tuple[str, ...] = ()) -> list[dict]:
    """The namespace's NetworkPolicies as (metadata, spec) documents."""
    docs = [
        {"metadata": _meta("default-deny", "deny"), "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
        {"metadata": _meta("allow-dns", "dns"), "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}},
    ]
    for edge in edges(catalog, deployed, managed_ports, vpc_cidr, prometheus_renderer):
        peer = {"ipBlock": {"cidr": edge.cidr}} if edge.cidr else {"podSelector": {"matchLabels": m.selector(edge.server)}}
        docs.append({"metadata": _meta(f"{edge.client}-to-{edge.server}-egress", edge.kind), "spec": {
            "podSelector": {"matchLabels": m.selector(edge.client)}, "policyTypes": ["Egress"],
            "egress": [{"to": [peer], "ports": _port_list(edge.ports)}]}})
        if edge.cidr is None:
            docs.append({"metadata": _meta(f"{edge.client}-to-{edge.server}-ingress", edge.kind), "spec": {
                "podSelector": {"matchLabels": m.selector(edge.server)}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": m.selector(edge.client)}}], "ports": _port_list(edge.ports)}]}})
    for name in sorted(deployed):
        spec = catalog.services[name]
        if spec.ports:
            published = tuple(int(p.split(":")[-1]) for p in spec.ports)
            docs.append({"metadata": _meta(f"{name}-from-internet", "public"), "spec": {
                "podSelector": {"matchLabels": m.selector(name)}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": _port_list(published)}]}})
    for name in internet_clients(catalog, deployed):
        docs.append({"metadata": _meta(f"{name}-to-internet", "internet"), "spec": {
            "podSelector": {"matchLabels": m.selector(name)}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}]}]}})
    for name in sorted(api_clients):
        # Service discovery talks to the control plane, whose address DigitalOcean assigns at creation.
        docs.append({"metadata": _meta(f"{name}-to-api-server", "api"), "spec": {
            "podSelector": {"matchLabels": m.selector(name)}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": _port_list(API_SERVER_PORTS)}]}})
    for doc in docs:
        doc["metadata"]["namespace"] = namespace
    return docs


@dataclass(frozen=True)
class NetworkPoliciesArgs:
    documents: list[dict]


class NetworkPolicies(pulumi.ComponentResource):
    def __init__(self, name: str, args: NetworkPoliciesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("devtools:kubernetes:NetworkPolicies", name, None, opts)
        for doc in args.documents:
            KubernetesObject(doc["metadata"]["name"], {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", **doc},
                             opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
