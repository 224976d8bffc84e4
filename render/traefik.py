"""Traefik v3 configuration for the edge, derived from the catalog.

Why Traefik: its stock binary has everything the edge needs (ACME, forward auth,
per-route rate limits, load-balancer health checks, security headers); stock Caddy
has no rate limiting without a custom build. Traefik runs with the file provider
only: the edge never sees the Docker socket.

Two files: the static configuration (entry points, ACME, metrics, where the dynamic
file is) and the dynamic configuration (one router, middleware chain and service per
catalog route).
"""

from __future__ import annotations

from catalog.errors import Problem
from catalog.model import dump_yaml
from catalog.services import Catalog, RateLimit, Service
from catalog.settings import Settings

WEB, WEBSECURE, INTERNAL = "web", "websecure", "internal"
WEB_PORT = 80
CERT_RESOLVER = "letsencrypt"
ACME_FILE = "acme.json"
DYNAMIC_RENDERER = "traefik_dynamic"
# The single sign-on service every non-public route asks (forward auth) is the one whose route
# says `sign_in: true`; its sign-in and callback pages live under this prefix (oauth2-proxy's).
AUTH_PREFIX = "/oauth2"
# Routes without their own rate_limit: per client address, generous for a UI, bounded for scripts.
DEFAULT_RATE_LIMIT = RateLimit(average=20, burst=50)
# How often the edge asks each upstream's readiness path; a failing one gets no traffic.
READINESS_INTERVAL, READINESS_TIMEOUT = "5s", "3s"

# Drop headers such as X_Auth_Request_User that upstreams could read as X-Auth-Request-User:
# a client must not be able to spoof the identity the single sign-on check hands on.
NO_ALIAS_HEADERS = {"aliasHeadersStrategy": "delete"}
# oauth2-proxy's auth answers are tiny; a bigger one is refused rather than buffered.
AUTH_RESPONSE_MAX_BYTES = 64 * 1024

SECURITY_HEADERS = "security-headers"
SSO_ERRORS, SSO_AUTH = "sso-sign-in", "sso-auth"


def edge_service(catalog: Catalog) -> tuple[str, Service] | None:
    return next(((n, s) for n, s in catalog.services.items() if s.role == "edge"), None)


def auth_service(catalog: Catalog) -> tuple[str, Service] | None:
    return next(((n, s) for n, s in catalog.services.items() if s.route is not None and s.route.sign_in), None)


def routed(catalog: Catalog) -> dict[str, Service]:
    return {name: svc for name, svc in catalog.services.items() if svc.route is not None}


def _dump(document: dict) -> str:
    header = "# Rendered by the devtools Pulumi program from config/services.yaml; do not edit on the host.\n"
    return header + dump_yaml(document, width=1000)


def _dynamic_file(catalog: Catalog, service: Service) -> str | None:
    return next(
        (m.target for m in service.configs
         if m.source in catalog.configs and catalog.configs[m.source].renderer == DYNAMIC_RENDERER),
        None,
    )


def edge_problems(catalog: Catalog, file: str) -> list[Problem]:
    """What the edge needs from the catalog; checked before anything is rendered or declared."""
    problems: list[Problem] = []

    def add(key: str, message: str, fix: str) -> None:
        problems.append(Problem(file, key, message, fix))

    for name, svc in catalog.services.items():
        if svc.ports and svc.role != "edge":
            add(f"services.{name}.ports", "publishes a port on the droplet; only the edge may",
                "remove ports: and give the service a route: so the edge reaches it over the edge network")
    routes = routed(catalog)
    found = edge_service(catalog)
    if found is None:
        if routes:
            add("services", f"{len(routes)} service(s) have a route but no service has role: edge", "add the edge service")
        return problems
    edge_name, edge = found
    at = f"services.{edge_name}"
    if edge.port is None:
        add(f"{at}.port", "the edge needs its HTTPS port", "add port: 443")
    if edge.metrics is None or edge.metrics.port is None:
        add(f"{at}.metrics.port", "the edge needs an internal port for metrics and ping", "add metrics: {path: /metrics, port: 8082}")
    if not edge.volumes:
        add(f"{at}.volumes", "the edge has no volume for its ACME account and certificates", "add volumes: [\"edge-acme:/data\"]")
    if _dynamic_file(catalog, edge) is None:
        add(f"{at}.configs", f"no config rendered by {DYNAMIC_RENDERER}: the edge would have no routes",
            f"mount a config whose renderer is {DYNAMIC_RENDERER}")
    prefixes: dict[str, str] = {}
    for name, svc in routes.items():
        prefix = svc.route.path_prefix.rstrip("/") or "/"
        if prefix in prefixes:
            add(f"services.{name}.route.path_prefix", f"{prefix} is already routed to {prefixes[prefix]}", "give each route its own prefix")
        prefixes.setdefault(prefix, name)
        if not set(svc.networks) & set(edge.networks):
            add(f"services.{name}.networks", f"shares no network with {edge_name}, so the edge cannot reach its route",
                f"add one of {sorted(edge.networks)} to its networks")
    if any(not svc.route.public for svc in routes.values()):
        found_auth = auth_service(catalog)
        auth_name, auth = found_auth if found_auth else ("", None)
        if auth is None or auth.port is None or not auth.route.public:
            add(f"services.{auth_name}" if auth_name else "services", "routes that are not public need the single sign-on service, with a port and a public route",
                f"give the sign-on service (oauth2-proxy) a port and route: {{path_prefix: {AUTH_PREFIX}, public: true, sign_in: true}}, "
                "or mark the routes public: true")
        elif auth.route.path_prefix.rstrip("/") != AUTH_PREFIX:
            add(f"services.{auth_name}.route.path_prefix", f"must be {AUTH_PREFIX}: sign-in and callback live there",
                f"write path_prefix: {AUTH_PREFIX}")
    return problems


def static_config(catalog: Catalog, service: Service, settings: Settings) -> dict:
    acme_dir = next(path for _, path, _ in service.volume_mounts())
    return {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {
            WEB: {
                "address": f":{WEB_PORT}",
                # Plain HTTP only ever answers with a permanent redirect to HTTPS.
                "http": {
                    "redirections": {"entryPoint": {"to": WEBSECURE, "scheme": "https", "permanent": True}},
                    **NO_ALIAS_HEADERS,
                },
            },
            WEBSECURE: {"address": f":{service.port}", "http": dict(NO_ALIAS_HEADERS)},
            # Metrics and ping; the port is not published, so only the Docker networks reach it.
            INTERNAL: {"address": f":{service.metrics.port}", "http": dict(NO_ALIAS_HEADERS)},
        },
        "certificatesResolvers": {
            CERT_RESOLVER: {
                "acme": {
                    "email": settings.acme_email,
                    "storage": f"{acme_dir}/{ACME_FILE}",
                    # TLS-ALPN on 443: port 80 can stay a pure redirect.
                    "tlsChallenge": {},
                }
            }
        },
        # The file provider only: no Docker provider, no Docker socket on the edge.
        "providers": {"file": {"filename": _dynamic_file(catalog, service), "watch": False}},
        "ping": {"entryPoint": INTERNAL},
        "metrics": {"prometheus": {"entryPoint": INTERNAL, "addRoutersLabels": True, "addServicesLabels": True}},
        "log": {"level": "INFO", "format": "json"},
        # Access log without request headers: cookies and tokens stay out of the logs.
        "accessLog": {"format": "json", "fields": {"headers": {"defaultMode": "drop"}}},
    }


def _rule(domain: str, prefix: str) -> str:
    # Path or PathPrefix with a slash: /api must not also match /apiary.
    prefix = prefix.rstrip("/") or "/"
    if prefix == "/":
        return f"Host(`{domain}`)"
    return f"Host(`{domain}`) && (Path(`{prefix}`) || PathPrefix(`{prefix}/`))"


def dynamic_config(catalog: Catalog, settings: Settings) -> dict:
    routers: dict[str, dict] = {}
    services: dict[str, dict] = {}
    middlewares: dict[str, dict] = {
        SECURITY_HEADERS: {
            "headers": {
                "stsSeconds": 63072000,
                "stsIncludeSubdomains": True,
                "forceSTSHeader": True,
                "contentTypeNosniff": True,
                "frameDeny": True,
                "referrerPolicy": "strict-origin-when-cross-origin",
                "permissionsPolicy": "camera=(), microphone=(), geolocation=(), payment=()",
                "contentSecurityPolicy": "frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
                # Empty values remove the headers that advertise server software.
                "customResponseHeaders": {"Server": "", "X-Powered-By": ""},
            }
        },
    }
    routes = routed(catalog)
    if any(not svc.route.public for svc in routes.values()):
        auth_name, auth = auth_service(catalog)  # edge_problems made sure it exists
        middlewares[SSO_AUTH] = {
            "forwardAuth": {
                "address": f"http://{auth_name}:{auth.port}{AUTH_PREFIX}/auth",
                "trustForwardHeader": True,
                "authResponseHeaders": ["X-Auth-Request-User", "X-Auth-Request-Email"],
                "maxResponseBodySize": AUTH_RESPONSE_MAX_BYTES,
            }
        }
        # A browser without a session gets the sign-in page (status kept: API clients see 401).
        middlewares[SSO_ERRORS] = {
            "errors": {"status": ["401"], "service": auth_name, "query": f"{AUTH_PREFIX}/sign_in?rd={{url}}"}
        }
    for name, svc in routes.items():
        route = svc.route
        limit = route.rate_limit or DEFAULT_RATE_LIMIT
        limiter = f"rate-limit-{name}"
        middlewares[limiter] = {"rateLimit": {"average": limit.average, "burst": limit.burst, "period": "1s"}}
        # Rate limit first, so floods never reach the auth service or the upstream.
        chain = [limiter, SECURITY_HEADERS] + ([] if route.public else [SSO_ERRORS, SSO_AUTH])
        if route.strip_prefix:
            # Last: the sign-in redirect must still carry the full path to come back to.
            stripper = f"strip-prefix-{name}"
            middlewares[stripper] = {"stripPrefix": {"prefixes": [route.path_prefix.rstrip("/")]}}
            chain.append(stripper)
        routers[name] = {
            "rule": _rule(settings.domain, route.path_prefix),
            "entryPoints": [WEBSECURE],
            "middlewares": chain,
            "service": name,
            "tls": {"certResolver": CERT_RESOLVER},
        }
        services[name] = {
            "loadBalancer": {
                # The network alias each container gets (its service name) on the shared network.
                "servers": [{"url": f"http://{name}:{svc.port}"}],
                "passHostHeader": True,
                "healthCheck": {"path": svc.readiness.path, "interval": READINESS_INTERVAL, "timeout": READINESS_TIMEOUT},
            }
        }
    return {
        "http": {"routers": routers, "middlewares": middlewares, "services": services},
        "tls": {"options": {"default": {"minVersion": "VersionTLS12"}}},
    }


def render_traefik_static(catalog: Catalog, service: Service, settings: Settings) -> str:
    return _dump(static_config(catalog, service, settings))


def render_traefik_dynamic(catalog: Catalog, service: Service, settings: Settings) -> str:
    return _dump(dynamic_config(catalog, settings))
