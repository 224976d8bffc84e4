"""oauth2-proxy's configuration file (TOML), from the stack's single sign-on settings.

oauth2-proxy answers the edge's forward-auth question for every non-public route:
202 with the user's identity, or 401 (the edge then shows its sign-in page). Its
secrets arrive as files (OAUTH2_PROXY_*_FILE, from the catalog), never in this file.
"""

from __future__ import annotations

import json

from catalog.services import Service
from catalog.settings import Settings


def _toml(value: object) -> str:
    # JSON strings and arrays of strings are valid TOML basic strings and arrays.
    return json.dumps(value)


def oauth2_proxy_options(service: Service, settings: Settings) -> dict[str, object]:
    base = f"https://{settings.domain}"
    prefix = service.route.path_prefix.rstrip("/") if service.route else "/oauth2"
    options: dict[str, object] = {
        "http_address": f"0.0.0.0:{service.port}",
        # Behind the edge: trust its X-Forwarded-* headers, answer auth requests only.
        "reverse_proxy": True,
        "upstreams": ["static://202"],
        "provider": settings.sso_provider,
        "client_id": settings.sso_client_id,
        "redirect_url": f"{base}{prefix}/callback",
        # With only an org restriction every address of its members is allowed.
        "email_domains": list(settings.sso_email_domains) or ["*"],
        "cookie_secure": True,
        "cookie_samesite": "lax",
        "cookie_domains": [settings.domain],
        "cookie_expire": "12h",
        "whitelist_domains": [settings.domain],
        "set_xauthrequest": True,
        "skip_provider_button": True,
        "silence_ping_logging": True,
    }
    if service.metrics and service.metrics.port:
        options["metrics_address"] = f"0.0.0.0:{service.metrics.port}"
    if settings.sso_github_org:
        options["github_org"] = settings.sso_github_org
    if settings.sso_oidc_issuer_url:
        options["oidc_issuer_url"] = settings.sso_oidc_issuer_url
    return options


def render_oauth2_proxy_cfg(service: Service, settings: Settings) -> str:
    lines = ["# Rendered by the devtools Pulumi program from the stack's sso* settings; do not edit on the host."]
    lines += [f"{key} = {_toml(value)}" for key, value in oauth2_proxy_options(service, settings).items()]
    return "\n".join(lines) + "\n"
