"""Config files the program renders from the catalog, by the name a catalog `configs:` entry gives."""

from __future__ import annotations

from collections.abc import Callable

from components.catalog import Service
from components.redis_conf import render_redis_conf
from components.settings import Settings

Renderer = Callable[[Service, Settings], str]

RENDERERS: dict[str, Renderer] = {
    "redis_conf": render_redis_conf,
}
