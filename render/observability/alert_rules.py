"""Alert rules: the platform-wide set plus one group per catalog service.

Every rule carries `severity` (critical pages, warning mails), `service`, and the
annotations `summary`, `description` and `runbook_url` (an anchor in docs/RUNBOOK.md).
Rules are only generated for metrics some scrape job produces: an exporter or service
missing from the catalog takes its alerts with it, and `dead_alerts` checks the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.model import dump_yaml
from catalog.services import Catalog, Service
from catalog.settings import Settings
from render.cloud_init import DATA_ROOT
from render.observability.scrape import job_yielding, jobs_producing, produces

RUNBOOK = "docs/RUNBOOK.md"

# Thresholds, in one place so docs/OBSERVABILITY.md and the tests read the same numbers.
ERROR_RATIO_WARNING = 0.05
ERROR_RATIO_CRITICAL = 0.20
P95_SECONDS = 2.0
LIMIT_SHARE = 0.90            # memory or CPU use against the catalog limit
RESTARTS_IN_15M = 2
DISK_FREE_RATIO = 0.10
FILL_HORIZON_HOURS = 24
BACKUP_MISSED_RUNS = 1        # as the backup container's health check: one failed run is tolerated
BACKUP_SLACK_HOURS = 2        # runs drift by their own duration; a slow one must not page
TLS_WARNING_DAYS = 14
TLS_CRITICAL_DAYS = 3

HTTP_METRIC = "http_requests_total"
DOWN_ALERT = {"agent": "AgentDown", "gateway": "MCPGatewayDown", "service": "ServiceDown",
              "datastore": "ServiceDown", "edge": "EdgeDown", "observability": "MonitoringTargetDown"}
DOWN_SEVERITY = {"observability": "warning"}
BACKUP_METRIC = "devtools_backup_last_success_timestamp_seconds"
START_METRIC = "process_start_time_seconds"
TLS_METRIC = "traefik_tls_certs_not_after"
HOST_MOUNTS = ("/", DATA_ROOT)
# What finds each exporter: a metric only it yields (the catalog's `metrics.yields`), not its name.
HOST_METRIC = "node_filesystem_avail_bytes"
CONTAINER_METRIC = "container_memory_working_set_bytes"
# cAdvisor's name for the Docker label devtools.service; the cluster's kubelet job relabels into it.
CONTAINER_SERVICE_LABEL = "container_label_devtools_service"
POSTGRES_UP, REDIS_UP = "pg_up", "redis_up"


@dataclass(frozen=True)
class Rule:
    alert: str
    expr: str
    severity: str
    summary: str
    description: str
    for_: str = "5m"
    labels: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "alert": self.alert,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity, **self.labels},
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                "runbook_url": f"{RUNBOOK}#{runbook_anchor(self.alert)}",
            },
        }


def runbook_anchor(alert: str) -> str:
    """The GitHub anchor of the `### <alert>` heading in docs/RUNBOOK.md."""
    return alert.lower()


def _http_rules(name: str) -> list[Rule]:
    sel = f'job="{name}"'
    # The instrumentator groups status codes ("2xx".."5xx"), so 5xx is matched as a whole.
    ratio = (f'sum(rate(http_requests_total{{{sel},status="5xx"}}[5m]))'
             f" / sum(rate(http_requests_total{{{sel}}}[5m]))")
    labels = {"service": name}
    return [
        Rule("HighErrorRate", f"{ratio} > {ERROR_RATIO_WARNING}", "warning",
             f"{name}: more than {ERROR_RATIO_WARNING:.0%} of requests fail",
             f"{name} answered {{{{ $value | humanizePercentage }}}} of its requests with a 5xx status over 5 minutes.",
             "5m", labels),
        Rule("CriticalErrorRate", f"{ratio} > {ERROR_RATIO_CRITICAL}", "critical",
             f"{name}: more than {ERROR_RATIO_CRITICAL:.0%} of requests fail",
             f"{name} answered {{{{ $value | humanizePercentage }}}} of its requests with a 5xx status over 5 minutes.",
             "2m", labels),
        Rule("SlowResponseTime",
             f"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[5m]))) > {P95_SECONDS:g}",
             "warning", f"{name}: p95 response time above {P95_SECONDS:g}s",
             f"95% of {name}'s requests took up to {{{{ $value | humanizeDuration }}}} over the last 5 minutes.",
             "10m", labels),
    ]


def _container_rules(name: str, spec: Service, containers_job: str) -> list[Rule]:
    """Use against the limits the catalog gives this service (cAdvisor sees its containers by label)."""
    sel = f'job="{containers_job}",{CONTAINER_SERVICE_LABEL}="{name}"'
    limits = spec.deploy.resources.limits
    labels = {"service": name, "scope": "container"}
    return [
        Rule("HighMemoryUsage", f"max(container_memory_working_set_bytes{{{sel}}}) > {LIMIT_SHARE} * {limits.memory}",
             "warning", f"{name}: memory above {LIMIT_SHARE:.0%} of its {limits.memory // 1024**2} MiB limit",
             f"{name} uses {{{{ $value | humanize1024 }}}}B; at its limit the kernel kills it.", "5m", labels),
        Rule("HighCPUUsage", f"sum(rate(container_cpu_usage_seconds_total{{{sel}}}[5m])) > {LIMIT_SHARE} * {limits.cpus:g}",
             "warning", f"{name}: CPU above {LIMIT_SHARE:.0%} of its {limits.cpus:g} CPU limit",
             f"{name} uses {{{{ $value | printf \"%.2f\" }}}} CPUs and is being throttled.", "10m", labels),
        Rule("ContainerRestarting", f"sum(changes(container_start_time_seconds{{{sel}}}[15m])) > {RESTARTS_IN_15M}",
             "warning", f"{name}: restarted more than {RESTARTS_IN_15M} times in 15 minutes",
             f"{name}'s container started {{{{ $value }}}} times in 15 minutes: it is crashing and being restarted.",
             "0m", labels),
    ]


def service_rules(catalog: Catalog, name: str, settings: Settings, containers_job: str | None) -> list[Rule]:
    """One service's rules; `containers_job` is the job yielding container metrics (found once per catalog)."""
    spec = catalog.services[name]
    rules: list[Rule] = []
    if spec.metrics is not None and spec.long_running:
        alert = DOWN_ALERT.get(spec.role, "ServiceDown")
        rules.append(Rule(alert, f'up{{job="{name}"}} == 0', DOWN_SEVERITY.get(spec.role, "critical"),
                          f"{name} is down", f"Prometheus could not scrape {name} for 2 minutes.", "2m",
                          {"service": name}))
        if produces(catalog, name, HTTP_METRIC):
            rules += _http_rules(name)
    if spec.long_running and containers_job:
        rules += _container_rules(name, spec, containers_job)
    return rules


def backup_max_age_hours(settings: Settings) -> int:
    """How old the last successful backup may get: the schedule's interval, the missed runs, slack."""
    return (1 + BACKUP_MISSED_RUNS) * settings.backup_interval_hours + BACKUP_SLACK_HOURS


def _backup_rule(job: str, settings: Settings) -> Rule:
    hours = backup_max_age_hours(settings)
    sel = f'job="{job}"'
    # The program exposes the last success only once it has one; until then its start time
    # stands in, so a backup that never succeeds alerts as well.
    expr = (f"(time() - max({BACKUP_METRIC}{{{sel}}}) > {hours} * 3600)"
            f" or ((time() - max({START_METRIC}{{{sel}}}) > {hours} * 3600) unless on() {BACKUP_METRIC}{{{sel}}})")
    return Rule("BackupNotRun", expr, "critical", f"No successful backup for {hours} hours",
                "No backup succeeded for {{ $value | humanizeDuration }} (since the last success, "
                "or since the backup program started if it has none).", "10m", {"service": job})


def watched(catalog: Catalog, exporter: str) -> str:
    """The datastore an exporter watches: the one it depends on (itself when it depends on none)."""
    stores = [d for d in catalog.services[exporter].dependencies if catalog.services.get(d) and catalog.services[d].role == "datastore"]
    return stores[0] if stores else exporter


def platform_rules(catalog: Catalog, settings: Settings) -> list[Rule]:
    rules: list[Rule] = []
    host_job = job_yielding(catalog, HOST_METRIC)
    if host_job:
        mounts = "|".join(HOST_MOUNTS)
        fs = f'job="{host_job}",mountpoint=~"{mounts}"'
        host = {"service": "host", "scope": "host"}
        rules += [
            Rule("HostDown", f'up{{job="{host_job}"}} == 0', "critical", "The droplet's metrics are gone",
                 "Prometheus cannot reach the node exporter: the host is overloaded or failing. "
                 "Per-container alerts are silenced while this fires.", "2m", host),
            Rule("LowDiskSpace", f"node_filesystem_avail_bytes{{{fs}}} / node_filesystem_size_bytes{{{fs}}} < {DISK_FREE_RATIO}",
                 "critical", "Less than 10% disk space left on {{ $labels.mountpoint }}",
                 "{{ $labels.mountpoint }} has {{ $value | humanizePercentage }} free.", "5m", host),
            Rule("VolumeFillingUp",
                 f'predict_linear(node_filesystem_avail_bytes{{job="{host_job}",mountpoint="{DATA_ROOT}"}}[6h], '
                 f"{FILL_HORIZON_HOURS} * 3600) < 0",
                 "warning", f"The data volume will be full within {FILL_HORIZON_HOURS} hours",
                 f"At the rate of the last 6 hours, {DATA_ROOT} runs out of space within {FILL_HORIZON_HOURS} hours.",
                 "30m", host),
        ]
    if job := job_yielding(catalog, POSTGRES_UP):
        rules.append(Rule("PostgresDown", f'{POSTGRES_UP}{{job="{job}"}} == 0', "critical", "Postgres is down",
                          "The Postgres exporter cannot connect to Postgres.", "1m", {"service": watched(catalog, job)}))
    if job := job_yielding(catalog, REDIS_UP):
        rules.append(Rule("RedisDown", f'{REDIS_UP}{{job="{job}"}} == 0', "critical", "Redis is down",
                          "The Redis exporter cannot connect to Redis: the event bus is gone.", "1m", {"service": watched(catalog, job)}))
    rules += [_backup_rule(job.job, settings) for job in jobs_producing(catalog, BACKUP_METRIC)]
    for job in jobs_producing(catalog, TLS_METRIC):
        sel = f'job="{job.job}"'
        for alert, days, severity in (("TLSCertificateExpiring", TLS_WARNING_DAYS, "warning"),
                                      ("TLSCertificateExpiryImminent", TLS_CRITICAL_DAYS, "critical")):
            rules.append(Rule(
                alert, f"min by (cn) ({TLS_METRIC}{{{sel}}}) - time() < {days} * 86400", severity,
                f"TLS certificate {{{{ $labels.cn }}}} expires within {days} days",
                "The certificate expires in {{ $value | humanizeDuration }}; ACME renewal is failing.", "1h",
                {"service": job.job}))
    return rules


def rule_groups(catalog: Catalog, settings: Settings) -> dict:
    groups = [{"name": "platform", "rules": [r.to_dict() for r in platform_rules(catalog, settings)]}]
    containers_job = job_yielding(catalog, CONTAINER_METRIC)  # once: looking it up scans every job
    for name in catalog.services:
        rules = service_rules(catalog, name, settings, containers_job)
        if rules:
            groups.append({"name": f"service:{name}", "rules": [r.to_dict() for r in rules]})
    return {"groups": [g for g in groups if g["rules"]]}


def render_prometheus_rules(catalog: Catalog, service: Service, settings: Settings) -> str:
    header = "# Rendered by the devtools Pulumi program from config/services.yaml; do not edit on the host.\n"
    return header + dump_yaml(rule_groups(catalog, settings), width=200)
