"""Stack-level findings of the offline preview about monitoring: dead alerts, unreachable targets."""

from __future__ import annotations

from pulumi.runtime import rpc

from components.catalog import Catalog
from components.observability.scrape import unreachable_jobs
from ops.engine import Recorded
from ops.plan import Violation
from policies.devtools_policy.dead_alerts import dead_alerts_in_uploads

CONTAINER = "docker:index/container:Container"


def _plain_uploads(uploads: object) -> list[dict]:
    """The uploads list as the policy pack sees it; a list holding a secret arrives wrapped as a whole."""
    if rpc.is_rpc_secret(uploads):
        uploads = uploads["value"]  # type: ignore[index]
    return [u for u in uploads if isinstance(u, dict)] if isinstance(uploads, list) else []


def observability_findings(resources: list[Recorded], catalog: Catalog) -> list[Violation]:
    findings: list[Violation] = []
    for resource in resources:
        if resource.type != CONTAINER:
            continue
        dead = dead_alerts_in_uploads(_plain_uploads(resource.inputs.get("uploads")))
        for reference in dead or []:
            findings.append(Violation("no-dead-alert", "mandatory", "high", None,
                                      f"{reference} (an alert on a metric nothing collects can never fire)"))
    for job in unreachable_jobs(catalog):
        findings.append(Violation(
            "scrape-target-reachable", "advisory", "medium", None,
            f"scrape job {job.job!r} ({job.target}) shares no network with prometheus, so it is always down; "
            f"put one of them on a common network in config/services.yaml"))
    return findings
