"""Config files the program renders from the catalog, by the name a catalog `configs:` entry gives."""

from __future__ import annotations

from collections.abc import Callable

from catalog.errors import Problem
from catalog.services import Catalog, Service
from catalog.settings import Settings
from render.backup_conf import render_backup_conf
from render.hand_written import render_approval_policies
from render.migrations import render_migrate_runner, render_migrations
from render.oauth2_proxy import render_oauth2_proxy_cfg
from render.observability.renderers import OBSERVABILITY_RENDERERS
from render.postgres_conf import render_postgres_conf
from render.redis_conf import acl_secret, render_redis_conf
from render.secret_renderers import ACL_RENDERER
from render.secrets_wrapper import render_secrets_wrapper
from render.traefik import render_traefik_dynamic, render_traefik_static

# Renderers that need only their own service and the stack settings.
Renderer = Callable[[Service, Settings], str]

RENDERERS: dict[str, Renderer] = {
    "postgres_conf": render_postgres_conf,
    "migrations": render_migrations,
    "migrate_runner": render_migrate_runner,
    "backup_conf": render_backup_conf,
    "oauth2_proxy_cfg": render_oauth2_proxy_cfg,
    # Every service whose secrets export into plain variables gets it as its entrypoint.
    "secrets_wrapper": render_secrets_wrapper,
    "approval_policies": render_approval_policies,
}

# Renderers that derive their file from the whole catalog: scrape jobs, alert rules and
# dashboards from every service's metrics; the edge's routes from every service's route.
CatalogRenderer = Callable[[Catalog, Service, Settings], str]

CATALOG_RENDERERS: dict[str, CatalogRenderer] = {
    **OBSERVABILITY_RENDERERS,
    # The ACL file it names is the redis service's secret derived with the ACL renderer.
    "redis_conf": render_redis_conf,
    "traefik_static": render_traefik_static,
    "traefik_dynamic": render_traefik_dynamic,
}


# What a renderer reads from the service it is mounted on, so a config mounted on a service
# it was not written for is refused with a fix before anything is rendered.
NEEDS: dict[str, tuple[str, ...]] = {
    "redis_conf": ("port", "volume", "ACL file"),
    "postgres_conf": ("port",),
    "loki_yaml": ("port", "volume"),
    "grafana_ini": ("port",),
    "oauth2_proxy_cfg": ("port",),
    "traefik_static": ("port", "volume", "metrics port"),
}
_HAS = {
    "port": (lambda catalog, svc: svc.port is not None, "add port: <the port it listens on>"),
    "volume": (lambda catalog, svc: bool(svc.volume_mounts()), "add volumes: [\"<volume>:/data\"] for its data"),
    "metrics port": (lambda catalog, svc: svc.metrics is not None and svc.metrics.port is not None,
                     "add metrics: {path: /metrics, port: <internal port>}"),
    "ACL file": (lambda catalog, svc: acl_secret(catalog, svc) is not None,
                 f"add a secret derived with renderer {ACL_RENDERER} (derive: {{from: <its password>, renderer: "
                 f"{ACL_RENDERER}}}) to its secrets"),
}


def mount_problems(catalog: Catalog, file: str) -> list[Problem]:
    """Config mounts whose renderer needs something the service does not declare."""
    problems = []
    for name, svc in catalog.services.items():
        for i, mount in enumerate(svc.configs):
            config = catalog.configs.get(mount.source)
            for need in NEEDS.get(config.renderer, ()) if config else ():
                present, fix = _HAS[need]
                if not present(catalog, svc):
                    problems.append(Problem(file, f"services.{name}.configs[{i}]",
                                            f"{config.renderer} renders from the service's {need}, and {name} has none",
                                            f"{fix}, or mount {mount.source} only on the service it is written for"))
    return problems


def renderer_names() -> list[str]:
    return sorted({*RENDERERS, *CATALOG_RENDERERS})


def render(renderer: str, catalog: Catalog, service: Service, settings: Settings) -> str:
    """The text of one config file, by the renderer name its catalog `configs:` entry gives."""
    if renderer in CATALOG_RENDERERS:
        return CATALOG_RENDERERS[renderer](catalog, service, settings)
    return RENDERERS[renderer](service, settings)
