"""What a scrape job yields, from the metric families its catalog entry declares.

A service's catalog entry lists the families its `/metrics` endpoint serves
(`metrics: {yields: [http, python, ...]}`); the program writes them into each scrape job
as the label `__devtools_yields` (Prometheus drops `__` labels after relabelling, so no
series carries it). Nothing here knows a service: only families, each the metrics one
library or exporter exports. Names ending in `_` are prefixes (an exporter's whole family);
the others are exact metric names. A job without the label yields nothing beyond the
synthetic series, so an alert on it is reported, never assumed alive.
"""

from __future__ import annotations

from collections.abc import Iterable

YIELDS_LABEL = "__devtools_yields"

# Every target yields these, whatever it exposes: Prometheus adds them at scrape time.
SYNTHETIC = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped",
                       "scrape_samples_post_metric_relabeling", "scrape_series_added"})


def _histogram(name: str) -> tuple[str, ...]:
    return (f"{name}_bucket", f"{name}_sum", f"{name}_count")


def _summary(name: str) -> tuple[str, ...]:
    return (name, f"{name}_sum", f"{name}_count")


FAMILIES: dict[str, tuple[str, ...]] = {
    # prometheus-fastapi-instrumentator's defaults; `status` is grouped ("2xx".."5xx").
    "http": ("http_requests_total", *_summary("http_request_size_bytes"), *_summary("http_response_size_bytes"),
             *_histogram("http_request_duration_seconds"), *_histogram("http_request_duration_highr_seconds")),
    # The Python client's runtime and process collectors.
    "python": ("python_", "process_"),
    # The Go client's: every Go exporter and server.
    "go": ("go_", "process_", "promhttp_"),
    # The platform's event bus (shared/lib/event_bus.py at the pinned source).
    "event_bus": ("event_bus_events_emitted_total", "event_bus_events_delivered_total",
                  "event_bus_subscriber_errors_total"),
    # The platform's agent request metrics (same file).
    "agent": (*_histogram("agent_request_latency_seconds"), "agent_requests_active", "agent_requests_total",
              "agent_responses_total", "agent_request_timeouts_total"),
    # The orchestrator's human-approval metrics.
    "approvals": ("orchestrator_approval_",),
    "node": ("node_",),
    "cadvisor": ("container_", "machine_", "cadvisor_"),
    "postgres": ("pg_", "postgres_exporter_"),
    "redis": ("redis_",),
    "prometheus": ("prometheus_", "net_conntrack_"),
    "alertmanager": ("alertmanager_",),
    "grafana": ("grafana_",),
    "loki": ("loki_", "cortex_"),
    "alloy": ("alloy_", "loki_"),
    "traefik": ("traefik_",),
    # The backup program of images/backup.
    "backup": ("devtools_backup_last_success_timestamp_seconds", "devtools_backup_last_duration_seconds"),
}


def unknown_families(families: Iterable[str]) -> list[str]:
    return [f for f in families if f not in FAMILIES]


def produced_by(families: Iterable[str]) -> tuple[str, ...]:
    """Metric names and prefixes a job declaring `families` yields (beyond the synthetic ones)."""
    return tuple(m for f in families for m in FAMILIES.get(f, ()))


def families_of_label(value: object) -> tuple[str, ...]:
    """The families a scrape job's `__devtools_yields` label names (comma separated)."""
    return tuple(p.strip() for p in value.split(",") if p.strip()) if isinstance(value, str) else ()


def matches(metric: str, produced: tuple[str, ...]) -> bool:
    return metric in SYNTHETIC or any(
        metric.startswith(p) if p.endswith("_") else metric == p for p in produced
    )
