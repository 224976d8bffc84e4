"""Prometheus scrape jobs, one per catalog service that declares `metrics:`."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.services import Catalog, Service
from policies.devtools_policy.metric_sources import matches, produced_by

PROMETHEUS_RENDERER, ALERTMANAGER_RENDERER, LOKI_RENDERER = "prometheus_yml", "alertmanager_yml", "loki_yaml"
SCRAPE_INTERVAL = "15s"
EVALUATION_INTERVAL = "15s"


@dataclass(frozen=True)
class ScrapeJob:
    job: str          # the catalog service name
    role: str
    target: str       # host:port on the service's network alias
    path: str
    yields: tuple[str, ...] = ()  # metric families (catalog `metrics.yields`)


def job_of(catalog: Catalog, name: str) -> ScrapeJob | None:
    """The scrape job of one service, or None when it exposes no metrics (or is not in the catalog)."""
    svc = catalog.services.get(name)
    if svc is None or svc.metrics is None:
        return None
    port = svc.metrics.port or svc.port
    if port is None:
        return None  # cross_check reports a metrics endpoint without a port
    return ScrapeJob(job=name, role=svc.role, target=f"{name}:{port}", path=svc.metrics.path,
                     yields=tuple(svc.metrics.yields))


def scrape_jobs(catalog: Catalog) -> list[ScrapeJob]:
    return [job for name in catalog.services if (job := job_of(catalog, name)) is not None]


def receiving(catalog: Catalog, renderer: str) -> tuple[str, Service] | None:
    """The service that receives the config file `renderer` renders: Prometheus is the one given
    prometheus.yml, Loki the one given loki.yaml, whatever the catalog calls them."""
    return next(((name, svc) for name, svc in catalog.services.items()
                 if any(catalog.configs[m.source].renderer == renderer for m in svc.configs if m.source in catalog.configs)), None)


def unreachable_jobs(catalog: Catalog, scraper: str | None = None) -> list[ScrapeJob]:
    """Scrape targets that share no network with Prometheus, so their job would always be down."""
    found = receiving(catalog, PROMETHEUS_RENDERER)
    scraper = scraper or (found[0] if found else None)
    if scraper not in catalog.services:
        return []
    networks = set(catalog.services[scraper].networks)
    return [job for job in scrape_jobs(catalog)
            if job.job != scraper and not networks & set(catalog.services[job.job].networks)]


def jobs_producing(catalog: Catalog, metric: str) -> list[ScrapeJob]:
    """The scrape jobs whose target exposes `metric` (per the metric sources table)."""
    return [job for job in scrape_jobs(catalog) if matches(metric, produced_by(job.yields))]


def job_yielding(catalog: Catalog, metric: str) -> str | None:
    """The first scrape job whose target exposes `metric`: how a rule finds the host's or a datastore's exporter."""
    return next((job.job for job in scrape_jobs(catalog) if matches(metric, produced_by(job.yields))), None)


def produces(catalog: Catalog, service: str, metric: str) -> bool:
    """Whether the scrape job of `service` (if any) yields `metric`.

    Looked up for the one service, not by scanning every job: the rules and the dashboard
    ask this for each service, and a scan would make rendering quadratic in the catalog.
    """
    job = job_of(catalog, service)
    return job is not None and matches(metric, produced_by(job.yields))
