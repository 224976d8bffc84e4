"""What the observability part of the catalog must satisfy before anything is declared."""

from __future__ import annotations

from catalog.errors import Problem
from catalog.services import Catalog
from catalog.settings import Settings
from render.observability.alloy_config import LOKI
from render.observability.alloy_config import RENDERER as ALLOY_RENDERER
from render.observability.prometheus_config import retention_problems


def observability_problems(catalog: Catalog, settings: Settings, catalog_file: str, settings_file: str) -> list[Problem]:
    problems = retention_problems(catalog, settings, catalog_file, settings_file)
    for name, config in catalog.configs.items():
        if config.renderer == ALLOY_RENDERER and LOKI not in catalog.declared("services"):
            problems.append(Problem(catalog_file, f"configs.{name}",
                                    "ships logs to Loki, but the catalog has no `loki` service",
                                    "add the loki service, or remove the log shipper and its config"))
    return problems
