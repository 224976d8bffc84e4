"""The generated Grafana dashboard and provisioning: valid per the SDK, only scraped metrics, one row per service."""

from __future__ import annotations

import json

from grafana_foundation_sdk.models.dashboard import Dashboard, RowPanel

from policies.devtools_policy.dead_alerts import dead_references, scrape_jobs
from tests.conftest import shipped_catalog
from tests.observability_support import catalog_from, render_all, shipped_settings


def _rendered(tmp_path):
    return render_all(catalog_from(shipped_catalog()), shipped_settings(), tmp_path)


def _panels(doc: dict) -> list[dict]:
    return [p for p in doc["panels"] if p["type"] != "row"]


def test_the_dashboard_is_a_grafana_dashboard_per_the_sdk(tmp_path):
    rendered = _rendered(tmp_path)
    doc = json.loads(rendered.file("grafana", "grafana_dashboard").read_text())
    model = Dashboard.from_json(doc)
    # The SDK's model reads back every field the file holds, and writes the same document.
    assert json.loads(json.dumps(model.to_json(), default=lambda o: o.to_json())) == doc
    assert model.uid == "devtools-platform" and model.title
    assert all(isinstance(p, RowPanel) for p in model.panels if getattr(p, "type_val", None) == "row")
    positions = [(p["gridPos"]["x"], p["gridPos"]["y"]) for p in doc["panels"]]
    assert len(positions) == len(set(positions)), "two panels share a grid position"


def test_every_panel_queries_a_provisioned_data_source_and_only_scraped_metrics(tmp_path):
    rendered = _rendered(tmp_path)
    doc = json.loads(rendered.file("grafana", "grafana_dashboard").read_text())
    sources = {s["uid"]: s for s in rendered.yaml("grafana", "grafana_datasources")["datasources"]}
    jobs = scrape_jobs(rendered.yaml("prometheus", "prometheus_yml"))
    exprs = 0
    for panel in _panels(doc):
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in sources
            assert sources[target["datasource"]["uid"]]["type"] == target["datasource"]["type"]
            assert dead_references(panel["title"], target["expr"], jobs) == [], target["expr"]
            exprs += 1
    assert exprs > 50


def test_the_panel_check_catches_an_unscraped_metric(tmp_path):
    jobs = scrape_jobs(_rendered(tmp_path).yaml("prometheus", "prometheus_yml"))
    assert dead_references("panel", "sum(rate(nginx_requests_total[5m]))", jobs)


def test_each_long_running_service_has_a_row_with_its_panels(tmp_path):
    rendered = _rendered(tmp_path)
    doc = json.loads(rendered.file("grafana", "grafana_dashboard").read_text())
    rows = [p["title"] for p in doc["panels"] if p["type"] == "row"]
    for name, spec in rendered.catalog.services.items():
        assert (f"{name} ({spec.role})" in rows) == spec.long_running, name
    titles_after = _row_panels(doc, "orchestrator (agent)")
    assert {"Up", "Request rate", "p95 latency", "Error rate (5xx)", "Memory against limit", "CPU against limit",
            "Restarts (1h)"} <= set(titles_after)
    assert {"Postgres up", "Redis up", "Postgres connections"} <= set(_row_panels(doc, "Overview"))


def _row_panels(doc: dict, row: str) -> list[str]:
    titles, inside = [], False
    for panel in doc["panels"]:
        if panel["type"] == "row":
            inside = panel["title"] == row
        elif inside:
            titles.append(panel["title"])
    return titles


def test_provisioning_points_grafana_at_the_rendered_dashboard(tmp_path):
    rendered = _rendered(tmp_path)
    provider = rendered.yaml("grafana", "grafana_dashboard_provider")
    dashboard_file = next(m.target for m in rendered.catalog.services["grafana"].configs if m.source == "grafana_dashboard")
    (entry,) = provider["providers"]
    assert dashboard_file.startswith(entry["options"]["path"] + "/") and entry["type"] == "file"
    sources = rendered.yaml("grafana", "grafana_datasources")["datasources"]
    assert {(s["type"], s["url"]) for s in sources} == {("prometheus", "http://prometheus:9090"), ("loki", "http://loki:3100")}
    ini = rendered.file("grafana", "grafana_ini").read_text()
    assert f"root_url = https://{rendered.settings.domain}/grafana/" in ini and "serve_from_sub_path = true" in ini
