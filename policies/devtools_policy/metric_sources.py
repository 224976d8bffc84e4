"""Which metrics each scrape job produces: the table the no-dead-alert check relies on.

A job is named after its catalog service and carries that service's `role` label.
What a job exposes is looked up by job name first (the exporters and the platform's
own monitoring components), then by role (every agent, gateway and service speaks the
application metrics contract documented in docs/OBSERVABILITY.md). Names ending in
`_` are prefixes (an exporter's whole family); the others are exact metric names.
"""

from __future__ import annotations

# Every target yields these, whatever it exposes: Prometheus adds them at scrape time.
SYNTHETIC = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped",
                       "scrape_samples_post_metric_relabeling", "scrape_series_added"})

# Go runtime and process metrics: every Go binary and the Python client library expose them.
RUNTIME = ("go_", "process_")

# The application metrics contract of the Python services (FastAPI + prometheus_client).
HTTP_METRICS = (
    "http_requests_total",                 # counter {method, handler, status}; status "2xx".."5xx"
    "http_request_duration_seconds_bucket",  # histogram {method, handler, le}
    "http_request_duration_seconds_sum",
    "http_request_duration_seconds_count",
)
LLM_METRICS = (
    "llm_tokens_total",                  # counter {model, type="prompt"|"completion"}
    "llm_inference_requests_total",      # counter {model}
    "llm_inference_failures_total",      # counter {model, reason}
)
BACKUP_METRICS = (
    "devtools_backup_last_success_timestamp_seconds",  # gauge: Unix time of the last good backup
    "devtools_backup_last_duration_seconds",           # gauge
)

BY_ROLE: dict[str, tuple[str, ...]] = {
    "agent": (*HTTP_METRICS, *LLM_METRICS, "python_", "process_"),
    "gateway": (*HTTP_METRICS, "python_", "process_"),
    "service": (*HTTP_METRICS, "python_", "process_"),
}

BY_JOB: dict[str, tuple[str, ...]] = {
    "node-exporter": ("node_", *RUNTIME),
    "cadvisor": ("container_", "machine_", "cadvisor_", *RUNTIME),
    "postgres-exporter": ("pg_", "postgres_exporter_", *RUNTIME),
    "redis-exporter": ("redis_", *RUNTIME),
    "prometheus": ("prometheus_", "net_conntrack_", *RUNTIME),
    "alertmanager": ("alertmanager_", *RUNTIME),
    "grafana": ("grafana_", *RUNTIME),
    "loki": ("loki_", "cortex_", *RUNTIME),
    "alloy": ("alloy_", "loki_", *RUNTIME),
    "edge": ("traefik_", *RUNTIME),
    "backup": (*BACKUP_METRICS, *RUNTIME),
}


def produced_by(job: str, role: str | None) -> tuple[str, ...]:
    """Metric names and prefixes one scrape job yields (beyond the synthetic ones)."""
    if job in BY_JOB:
        return BY_JOB[job]
    return BY_ROLE.get(role or "", ())


def matches(metric: str, produced: tuple[str, ...]) -> bool:
    return metric in SYNTHETIC or any(
        metric.startswith(p) if p.endswith("_") else metric == p for p in produced
    )
