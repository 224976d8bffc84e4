"""Stack rules on monitoring: Prometheus's alerts watch something it scrapes, and it can reach its targets.

Both read what the Prometheus container receives (its uploaded prometheus.yml and rule files) and,
for reachability, the networks every container joins, so they judge the declared stack itself. On the
cluster a pod receives the same files from its ConfigMap: `no-dead-alert` judges those too, with the same
check, and `scrape-target-reachable` holds each discovered job to a workload in the plan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .dead_alerts import dead_alerts_in_uploads
from .docker import CONTAINER, service_name
from .kubernetes_rules import WORKLOADS, pod_spec
from .label_index import LabelIndex
from .metadata import ADVISORY, policy
from .prometheus_files import config_map_uploads, parse_yaml, prometheus_files, static_targets
from .stack_rules import Finding, StackResource, container_resources, joined_networks, network_names
from .values import UNKNOWN, as_list, is_unknown

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"

# Hosts that name the scraping container itself.
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def _read_rule_files(resource_type: str, props: Mapping[str, Any]) -> None:
    """`no-dead-alert`'s parsing of the files one resource carries, done in its Analyze call.

    Parsing a grown rule file is most of the check (about 1.2 s at 2000 services, 6.5 MB), and parsed
    files are kept by content, so the check finds them parsed when AnalyzeStack comes. A container's
    files are its uploads; a ConfigMap's are its values, of which a rule file holds `groups`.
    """
    if resource_type == CONTAINER:
        dead_alerts_in_uploads(as_list(props.get("uploads")))
    elif resource_type == CONFIG_MAP and isinstance(props.get("data"), Mapping):
        for value in props["data"].values():
            if isinstance(value, str) and "groups" in value:
                parse_yaml(value)


@policy("no-dead-alert", severity="high", stack=True, prepare=_read_rule_files,
      description="Every alert and recording rule Prometheus loads must watch something it scrapes: each `job` "
                  "it names is a scrape job, each metric is produced by one "
                  "(policies/devtools_policy/metric_sources.py), and each rule file in prometheus.yml is "
                  "uploaded and holds rules (a file that is not YAML, or YAML other than a mapping of `groups:`, "
                  "Prometheus refuses to load). Declare `metrics:` for the service that yields the metric in "
                  "config/services.yaml, or fix the rule in render/observability/alert_rules.py.",
      covers=("audit: missing alert rules (rules that watch nothing)",))
def no_dead_alert(resources: Sequence[StackResource], config: Mapping[str, Any]) -> list[Finding]:
    """An alert on a metric nothing collects can never fire: reported on the container that loads it."""
    found: list[Finding] = []
    for urn, uploads in _received_files(resources):
        for reference in dead_alerts_in_uploads(uploads) or []:
            found.append((urn, f"{reference} (an alert on a metric nothing collects can never fire)"))
    return found


def _config_maps(resources: Sequence[StackResource]) -> dict[Any, dict[Any, Any]]:
    """namespace -> name -> data of every ConfigMap in the plan."""
    found: dict[Any, dict[Any, Any]] = {}
    for r in resources:
        if r.type == CONFIG_MAP:
            meta = r.props.get("metadata") if isinstance(r.props.get("metadata"), Mapping) else {}
            found.setdefault(meta.get("namespace"), {})[meta.get("name")] = r.props.get("data")
    return found


def _received_files(resources: Sequence[StackResource]) -> list[tuple[str, list[Any]]]:
    """(urn, files as uploads) of every container, and of every workload's pod from its ConfigMaps."""
    return [(c.urn, as_list(c.props.get("uploads"))) for c in container_resources(resources)] + _pod_files(resources)


def _pod_files(resources: Sequence[StackResource]) -> list[tuple[str, list[Any]]]:
    """(urn, files as uploads) of every workload's pod: what it mounts from the ConfigMaps of its namespace."""
    received: list[tuple[str, list[Any]]] = []
    config_maps = _config_maps(resources)
    for r in resources:
        pod = pod_spec(r.type, r.props) if r.type in WORKLOADS else None
        if not isinstance(pod, Mapping):
            continue
        meta = r.props.get("metadata") if isinstance(r.props.get("metadata"), Mapping) else {}
        containers = as_list(pod.get("containers")) + as_list(pod.get("initContainers"))
        received.append((r.urn, config_map_uploads(pod, containers, config_maps.get(meta.get("namespace"), {}))))
    return received


def _aliases(container: StackResource) -> tuple[set[str], bool]:
    """The container's known network aliases, and whether some of them cannot be told yet."""
    entries = container.props.get("networksAdvanced")
    if is_unknown(entries):
        return set(), True
    known, unsure = set(), False
    for entry in as_list(entries):
        aliases = entry.get("aliases") if isinstance(entry, Mapping) else UNKNOWN
        if is_unknown(aliases):
            unsure = True
            continue
        for alias in as_list(aliases):
            if is_unknown(alias):
                unsure = True
            elif isinstance(alias, str):
                known.add(alias)
    return known, unsure


class _AliasIndex:
    """Which containers answer to a host name, looked up once per target instead of scanning them all."""

    def __init__(self, containers: Sequence[StackResource]):
        self.answering: dict[str, list[StackResource]] = {}
        self.unsure: set[str] = set()  # urns of containers whose aliases are not all known yet
        for c in containers:
            known, unsure = _aliases(c)
            for alias in known:
                self.answering.setdefault(alias, []).append(c)
            if unsure:
                self.unsure.add(c.urn)

    def targets(self, host: str) -> list[StackResource]:
        return self.answering.get(host, [])

    def maybe_more(self, host: str) -> bool:
        """Whether a container not known to answer to `host` might still turn out to."""
        return bool(self.unsure - {c.urn for c in self.targets(host)})


@policy("scrape-target-reachable", severity="medium", enforcement=ADVISORY, stack=True,
      description="Every scrape target is a container that shares a network with the Prometheus scraping it (a "
                  "target it cannot reach is always down): put the service or prometheus on a common network "
                  "(e.g. observability) in config/services.yaml.")
def scrape_target_reachable(resources: Sequence[StackResource], config: Mapping[str, Any]) -> list[Finding]:
    """Every static scrape target is a container that shares a network with the Prometheus scraping it.

    A target on no common network (or that no container answers to) is down forever, and every alert
    on its job's `up` fires for a fault that is only a wiring mistake.
    """
    found: list[Finding] = _undiscoverable_jobs(resources)
    by_docker_name, by_logical = network_names(resources)
    by_urn = {r.urn: logical for logical, r in by_logical.items()}
    all_containers = container_resources(resources)
    aliases = _AliasIndex(all_containers)
    for scraper in all_containers:
        files = prometheus_files(as_list(scraper.props.get("uploads")))
        if files is None:
            continue
        scraper_networks = joined_networks(scraper, by_docker_name, by_urn)
        scraper_name = service_name(scraper.props, scraper.name)
        for job, target in static_targets(files.config):
            host = target.rsplit(":", 1)[0]
            if host in LOOPBACK:
                continue
            targets = aliases.targets(host)
            if not targets:
                if not aliases.maybe_more(host):
                    found.append((scraper.urn, f"scrape job {job!r} ({target}): no container answers to {host!r}, "
                                               f"so the target is always down"))
                continue
            if scraper_networks is None:
                continue
            target_networks = [joined_networks(c, by_docker_name, by_urn) for c in targets]
            if None in target_networks or any(scraper_networks & nets for nets in target_networks):
                continue
            for c in targets:
                found.append((c.urn, f"scrape job {job!r} ({target}) shares no network with {scraper_name}, "
                                     f"so it is always down"))
    return found


_POD_LABEL = "__meta_kubernetes_pod_label_"
_PORT_LABEL = "__meta_kubernetes_pod_container_port_number"


def _kept(job: Mapping[str, Any]) -> dict[str, Any]:
    """The discovery labels a pod job keeps on, with the value each must have."""
    return {r["source_labels"][0]: r.get("regex") for r in job.get("relabel_configs") or []
            if isinstance(r, Mapping) and r.get("action") == "keep" and len(r.get("source_labels") or []) == 1}


def _discovered_pods(pod: Mapping[str, Any], labels: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The discovery labels a workload's pod offers, one set per container port (as `role: pod` gives them)."""
    base = {_POD_LABEL + re.sub(r"[^a-zA-Z0-9_]", "_", str(k)): v for k, v in labels.items()}
    # Numbers arrive as floats over the engine's protocol: compare the integer the kubelet would report.
    return [{**base, _PORT_LABEL: str(int(port["containerPort"])) if isinstance(port.get("containerPort"), (int, float))
             else str(port.get("containerPort"))}
            for c in as_list(pod.get("containers")) if isinstance(c, Mapping)
            for port in as_list(c.get("ports")) if isinstance(port, Mapping)]


def _undiscoverable_jobs(resources: Sequence[StackResource]) -> list[Finding]:
    """On the cluster: every `role: pod` job of a Prometheus keeps some pod of a workload in the plan."""
    offered: list[dict[str, Any]] = []
    for r in resources:
        pod = pod_spec(r.type, r.props) if r.type in WORKLOADS else None
        template = (r.props.get("spec") or {}).get("template") if isinstance(r.props.get("spec"), Mapping) else None
        labels = ((template or {}).get("metadata") or {}).get("labels") if isinstance(template, Mapping) else None
        if isinstance(pod, Mapping) and isinstance(labels, Mapping):
            offered += _discovered_pods(pod, labels)
    pods = LabelIndex(offered)
    found: list[Finding] = []
    for urn, uploads in _pod_files(resources):
        files = prometheus_files(uploads)
        for job in (files.config.get("scrape_configs") or []) if files else []:
            if not isinstance(job, Mapping) or not any(
                    isinstance(sd, Mapping) and sd.get("role") == "pod" for sd in job.get("kubernetes_sd_configs") or []):
                continue
            kept = _kept(job)
            if kept and not pods.matching(kept):
                found.append((urn, f"scrape job {job.get('job_name')!r}: no pod in the plan has "
                                   f"{', '.join(f'{k}={v}' for k, v in kept.items())}, so the job finds no target"))
    return found
