"""The catalog-wide renderers stay linear as the catalog grows: counted in work done, never in time."""

from __future__ import annotations

import sys

from conftest import ROOT

from render.observability import scrape
from render.observability.alert_rules import rule_groups
from render.observability.dashboards import platform_dashboard
from tests.observability_support import catalog_from, shipped_settings

sys.path.insert(0, str(ROOT / "bench"))
from preview_bench import synthetic_catalog  # noqa: E402


def _job_lookups(monkeypatch, services: int) -> int:
    """How many times the alert rules and the dashboard look a service's scrape job up."""
    catalog, settings = catalog_from(synthetic_catalog(services)), shipped_settings()
    calls = 0
    real = scrape.job_of

    def counted(*args):
        nonlocal calls
        calls += 1
        return real(*args)

    monkeypatch.setattr(scrape, "job_of", counted)
    rule_groups(catalog, settings)
    platform_dashboard(catalog)
    monkeypatch.setattr(scrape, "job_of", real)
    return calls


def test_rules_and_dashboard_look_each_job_up_a_bounded_number_of_times(monkeypatch):
    small, large = _job_lookups(monkeypatch, 50), _job_lookups(monkeypatch, 400)
    # Linear: eight times the services, about eight times the lookups (a per-service scan of every
    # job would be sixty-four times).
    assert small > 50 and large <= 8 * small + 100, (small, large)
