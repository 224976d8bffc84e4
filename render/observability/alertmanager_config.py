"""alertmanager.yml: route by severity, receivers from the stack settings, inhibition.

Critical alerts go to Slack and (when configured) e-mail, and repeat hourly; warnings go
to e-mail (or Slack when no address is set) and repeat every 12 hours. Credentials are
read from the secret files the catalog mounts, never written into this file.
"""

from __future__ import annotations

from catalog.model import dump_yaml
from catalog.services import Catalog, Service, secret_path
from catalog.settings import Settings

# Which mounted secret is which credential: the variable the catalog names its file by.
SLACK_FILE_VARIABLE = "ALERT_SLACK_WEBHOOK_URL_FILE"
SMTP_FILE_VARIABLE = "ALERT_SMTP_PASSWORD_FILE"
CRITICAL, WARNING = "critical", "warning"


def _receivers(settings: Settings) -> list[dict]:
    slack = {
        "channel": "#devtools-alerts",
        "send_resolved": True,
        "title": '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.service }})',
        "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\n"
                "Runbook: {{ .Annotations.runbook_url }}\n{{ end }}",
    }
    email = [{"to": settings.alert_email, "send_resolved": True}] if settings.alert_email else []
    return [
        {"name": CRITICAL, "slack_configs": [slack], **({"email_configs": email} if email else {})},
        {"name": WARNING, **({"email_configs": email} if email else {"slack_configs": [slack]})},
    ]


def alertmanager_config(service: Service, settings: Settings) -> dict:
    mounted = {m.file_variable: m.source for m in service.secret_mounts if m.file_variable}
    global_: dict = {"resolve_timeout": "5m"}
    if SLACK_FILE_VARIABLE in mounted:
        global_["slack_api_url_file"] = secret_path(mounted[SLACK_FILE_VARIABLE])
    if settings.alert_email:
        global_.update({"smtp_smarthost": settings.alert_smtp_smarthost, "smtp_from": settings.alert_email_from,
                        "smtp_require_tls": True})
        if settings.alert_smtp_username:
            global_["smtp_auth_username"] = settings.alert_smtp_username
        if SMTP_FILE_VARIABLE in mounted:
            global_["smtp_auth_password_file"] = secret_path(mounted[SMTP_FILE_VARIABLE])
    return {
        "global": global_,
        "route": {
            "receiver": WARNING,
            "group_by": ["alertname", "service"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "12h",
            "routes": [
                {"receiver": CRITICAL, "matchers": [f'severity="{CRITICAL}"'], "repeat_interval": "1h"},
                {"receiver": WARNING, "matchers": [f'severity="{WARNING}"']},
            ],
        },
        "inhibit_rules": [
            # The host is down: every per-container alert is a symptom of it.
            {"source_matchers": ['alertname="HostDown"'], "target_matchers": ['scope="container"']},
            # A critical alert makes the warning of the same name and service redundant
            # (CriticalErrorRate over HighErrorRate, an imminent certificate expiry over a near one).
            {"source_matchers": [f'severity="{CRITICAL}"'], "target_matchers": [f'severity="{WARNING}"'],
             "equal": ["service"]},
        ],
        "receivers": _receivers(settings),
    }


def render_alertmanager_yml(catalog: Catalog, service: Service, settings: Settings) -> str:
    header = "# Rendered by the devtools Pulumi program from config/services.yaml; do not edit on the host.\n"
    return header + dump_yaml(alertmanager_config(service, settings), width=200)
