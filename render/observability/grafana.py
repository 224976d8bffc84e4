"""Grafana provisioning: server settings, the Prometheus and Loki data sources, the dashboard provider."""

from __future__ import annotations

from catalog.model import dump_yaml
from catalog.services import Catalog, Service
from catalog.settings import Settings
from render.observability.scrape import LOKI_RENDERER, PROMETHEUS_RENDERER, receiving

HEADER = "# Rendered by the devtools Pulumi program from config/services.yaml; do not edit on the host.\n"
PROMETHEUS_UID = "prometheus"
LOKI_UID = "loki"
DASHBOARD_RENDERER = "grafana_dashboard"


def render_grafana_ini(catalog: Catalog, service: Service, settings: Settings) -> str:
    # Grafana is served under the edge's path prefix for it, behind the edge's single sign-on.
    prefix = service.route.path_prefix.rstrip("/") if service.route else ""
    return "\n".join([
        "; Rendered by the devtools Pulumi program from config/services.yaml; do not edit on the host.",
        "[server]",
        f"http_port = {service.port}",
        f"domain = {settings.domain}",
        f"root_url = https://{settings.domain}{prefix}/",
        f"serve_from_sub_path = {'true' if prefix else 'false'}",
        "[analytics]",
        "reporting_enabled = false",
        "check_for_updates = false",
        "[users]",
        "allow_sign_up = false",
        "[auth.anonymous]",
        "enabled = false",
        "[security]",
        "cookie_secure = true",
        "disable_gravatar = true",
        "",
    ])


def datasources(catalog: Catalog) -> dict:
    sources = []
    if prometheus := receiving(catalog, PROMETHEUS_RENDERER):
        sources.append({"name": "Prometheus", "type": "prometheus", "uid": PROMETHEUS_UID, "access": "proxy",
                        "url": f"http://{prometheus[0]}:{prometheus[1].port}", "isDefault": True,
                        "editable": False})
    if loki := receiving(catalog, LOKI_RENDERER):
        sources.append({"name": "Loki", "type": "loki", "uid": LOKI_UID, "access": "proxy",
                        "url": f"http://{loki[0]}:{loki[1].port}", "editable": False})
    return {"apiVersion": 1, "datasources": sources}


def render_grafana_datasources(catalog: Catalog, service: Service, settings: Settings) -> str:
    return HEADER + dump_yaml(datasources(catalog))


def dashboard_dirs(catalog: Catalog, grafana: Service) -> list[str]:
    """Folders in the Grafana container holding dashboards the program renders."""
    return sorted({m.target.rsplit("/", 1)[0] for m in grafana.configs
                   if catalog.configs[m.source].renderer == DASHBOARD_RENDERER})


def render_grafana_dashboard_provider(catalog: Catalog, service: Service, settings: Settings) -> str:
    providers = [
        {"name": f"devtools-{i}", "folder": "Dev-Tools", "type": "file", "disableDeletion": True,
         "allowUiUpdates": False, "updateIntervalSeconds": 60, "options": {"path": path}}
        for i, path in enumerate(dashboard_dirs(catalog, service))
    ]
    return HEADER + dump_yaml({"apiVersion": 1, "providers": providers})
