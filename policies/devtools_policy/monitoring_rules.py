"""Stack rules on monitoring: Prometheus's alerts watch something it scrapes, and it can reach its targets.

Both read what the Prometheus container receives (its uploaded prometheus.yml and rule files) and,
for reachability, the networks every container joins, so they judge the declared stack itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .dead_alerts import dead_alerts_in_uploads
from .docker import service_name
from .metadata import ADVISORY, policy
from .prometheus_files import prometheus_files, static_targets
from .stack_rules import Finding, StackResource, container_resources, joined_networks, network_names
from .values import UNKNOWN, as_list, is_unknown

# Hosts that name the scraping container itself.
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


@policy("no-dead-alert", severity="high", stack=True,
      description="Every alert and recording rule Prometheus loads must watch something it scrapes: each `job` "
                  "it names is a scrape job, each metric is produced by one "
                  "(policies/devtools_policy/metric_sources.py), and each rule file in prometheus.yml is "
                  "uploaded. Declare `metrics:` for the service that yields the metric in "
                  "config/services.yaml, or fix the rule in render/observability/alert_rules.py.",
      covers=("audit: missing alert rules (rules that watch nothing)",))
def no_dead_alert(resources: Sequence[StackResource], config: Mapping[str, Any]) -> list[Finding]:
    """An alert on a metric nothing collects can never fire: reported on the container that loads it."""
    found: list[Finding] = []
    for c in container_resources(resources):
        for reference in dead_alerts_in_uploads(as_list(c.props.get("uploads"))) or []:
            found.append((c.urn, f"{reference} (an alert on a metric nothing collects can never fire)"))
    return found


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
    by_docker_name, by_logical = network_names(resources)
    by_urn = {r.urn: logical for logical, r in by_logical.items()}
    all_containers = container_resources(resources)
    aliases = _AliasIndex(all_containers)
    found: list[Finding] = []
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
