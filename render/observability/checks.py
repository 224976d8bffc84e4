"""What the observability part of the catalog must satisfy before anything is declared."""

from __future__ import annotations

from catalog.errors import Problem
from catalog.services import Catalog
from catalog.settings import Settings
from render.observability.alloy_config import RENDERER as ALLOY_RENDERER
from render.observability.prometheus_config import retention_problems
from render.observability.scrape import LOKI_RENDERER, receiving


def observability_problems(catalog: Catalog, settings: Settings, catalog_file: str, settings_file: str) -> list[Problem]:
    problems = retention_problems(catalog, settings, catalog_file, settings_file)
    for name, config in catalog.configs.items():
        if config.renderer == ALLOY_RENDERER and receiving(catalog, LOKI_RENDERER) is None:
            problems.append(Problem(catalog_file, f"configs.{name}",
                                    f"ships logs to Loki, but no service receives a {LOKI_RENDERER} config",
                                    "add the loki service, or remove the log shipper and its config"))
    return problems
