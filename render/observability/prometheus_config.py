"""prometheus.yml: scrape jobs from the catalog, the Alertmanager target, the rule files."""

from __future__ import annotations

import re

from catalog.errors import Problem
from catalog.model import dump_yaml
from catalog.services import Catalog, Service
from catalog.settings import Settings
from policies.devtools_policy.metric_sources import YIELDS_LABEL
from render.observability.scrape import (
    ALERTMANAGER_RENDERER,
    EVALUATION_INTERVAL,
    SCRAPE_INTERVAL,
    receiving,
    scrape_jobs,
)

HEADER = "# Rendered by the devtools Pulumi program from config/services.yaml; do not edit on the host.\n"
RULES_RENDERER = "prometheus_rules"
# The block volume also holds Postgres, Redis, Loki, Grafana and backups: Prometheus gets a quarter.
RETENTION_SHARE_OF_VOLUME = 0.25
RETENTION_SIZE_FLAG = re.compile(r"^--storage\.tsdb\.retention\.size=(\d+)GB$")


def rule_file_paths(catalog: Catalog, prometheus: Service) -> list[str]:
    """Where the rendered rule files land in the Prometheus container (its configs from the rules renderer)."""
    return [m.target for m in prometheus.configs if catalog.configs[m.source].renderer == RULES_RENDERER]


def prometheus_config(catalog: Catalog, prometheus: Service, settings: Settings) -> dict:
    config: dict = {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "evaluation_interval": EVALUATION_INTERVAL,
            "external_labels": {"platform": settings.domain},
        },
        "rule_files": rule_file_paths(catalog, prometheus),
    }
    if found := receiving(catalog, ALERTMANAGER_RENDERER):
        target = f"{found[0]}:{found[1].port}"
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [target]}]}]}
    config["scrape_configs"] = [
        {
            "job_name": job.job,
            "metrics_path": job.path,
            # The `__` label is dropped after relabelling: it tells the no-dead-alert check what the job yields.
            "static_configs": [{"targets": [job.target], "labels": {"service": job.job, "role": job.role,
                                                                     YIELDS_LABEL: ",".join(job.yields)}}],
        }
        for job in scrape_jobs(catalog)
    ]
    return config


def render_prometheus_yml(catalog: Catalog, service: Service, settings: Settings) -> str:
    return HEADER + dump_yaml(prometheus_config(catalog, service, settings))


def retention_problems(catalog: Catalog, settings: Settings, catalog_file: str, settings_file: str) -> list[Problem]:
    """Prometheus' size-based retention must fit its share of the data volume."""
    problems: list[Problem] = []
    budget = int(settings.volume_size_gb * RETENTION_SHARE_OF_VOLUME)
    for name, svc in catalog.services.items():
        for i, arg in enumerate(svc.command or []):
            match = RETENTION_SIZE_FLAG.match(arg)
            if match and int(match.group(1)) > budget:
                problems.append(Problem(
                    catalog_file, f"services.{name}.command[{i}]",
                    f"keeps up to {match.group(1)} GB of metrics, more than a quarter of the "
                    f"{settings.volume_size_gb} GB data volume ({settings_file} devtools:volumeSizeGb)",
                    f"lower it to --storage.tsdb.retention.size={budget}GB or raise devtools:volumeSizeGb"))
    return problems
