"""The observability renderers, by the name a catalog `configs:` entry gives."""

from __future__ import annotations

from render.observability.alert_rules import render_prometheus_rules
from render.observability.alertmanager_config import render_alertmanager_yml
from render.observability.alloy_config import render_alloy_config
from render.observability.dashboards import render_grafana_dashboard
from render.observability.grafana import (
    render_grafana_dashboard_provider,
    render_grafana_datasources,
    render_grafana_ini,
)
from render.observability.loki_config import render_loki_yaml
from render.observability.prometheus_config import render_prometheus_yml

OBSERVABILITY_RENDERERS = {
    "prometheus_yml": render_prometheus_yml,
    "prometheus_rules": render_prometheus_rules,
    "alertmanager_yml": render_alertmanager_yml,
    "grafana_ini": render_grafana_ini,
    "grafana_datasources": render_grafana_datasources,
    "grafana_dashboard_provider": render_grafana_dashboard_provider,
    "grafana_dashboard": render_grafana_dashboard,
    "loki_yaml": render_loki_yaml,
    "alloy_config": render_alloy_config,
}
