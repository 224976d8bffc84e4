"""Config files the program renders from the catalog, by the name a catalog `configs:` entry gives."""

from __future__ import annotations

from collections.abc import Callable

from components.catalog import Catalog, Service
from components.oauth2_proxy import render_oauth2_proxy_cfg
from components.redis_conf import render_redis_conf
from components.settings import Settings
from components.traefik import render_traefik_dynamic, render_traefik_static

Renderer = Callable[[Service, Settings], str]

RENDERERS: dict[str, Renderer] = {
    "redis_conf": render_redis_conf,
    "oauth2_proxy_cfg": render_oauth2_proxy_cfg,
}

# Renderers that need the whole catalog: the edge's routes come from every service's route.
CatalogRenderer = Callable[[Catalog, Service, Settings], str]

CATALOG_RENDERERS: dict[str, CatalogRenderer] = {
    "traefik_static": render_traefik_static,
    "traefik_dynamic": render_traefik_dynamic,
}


def renderer_names() -> list[str]:
    return sorted({*RENDERERS, *CATALOG_RENDERERS})


def render(renderer: str, catalog: Catalog, service: Service, settings: Settings) -> str:
    """The file a catalog `configs:` entry names, for the service that mounts it."""
    if renderer in CATALOG_RENDERERS:
        return CATALOG_RENDERERS[renderer](catalog, service, settings)
    return RENDERERS[renderer](service, settings)
