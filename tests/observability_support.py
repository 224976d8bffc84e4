"""Helpers for the observability tests: render the monitoring files of a catalog into a folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from catalog.inputs import load_inputs
from catalog.services import Catalog, cross_check
from catalog.settings import Settings
from ops.stackfile import read_stack_config
from render.registry import render

OBSERVABILITY = ("prometheus", "alertmanager", "grafana", "loki", "alloy")


def shipped_settings() -> Settings:
    config = read_stack_config("prod")
    return load_inputs(config.config, "prod").settings


def catalog_from(data: dict) -> Catalog:
    catalog = Catalog.model_validate(data)
    problems = cross_check(catalog, "services.yaml")
    assert not problems, problems
    return catalog


@dataclass
class Rendered:
    root: Path
    catalog: Catalog
    settings: Settings

    def path(self, service: str, container_path: str) -> Path:
        """Where a file the container sees at `container_path` was written."""
        return self.root / service / container_path.lstrip("/")

    def file(self, service: str, renderer: str) -> Path:
        spec = self.catalog.services[service]
        (mount,) = [m for m in spec.configs if self.catalog.configs[m.source].renderer == renderer]
        return self.path(service, mount.target)

    def yaml(self, service: str, renderer: str) -> dict:
        return yaml.safe_load(self.file(service, renderer).read_text())


def render_all(catalog: Catalog, settings: Settings, root: Path) -> Rendered:
    """Every config file of every service, laid out under root/<service>/<path in the container>."""
    for name, spec in catalog.services.items():
        for mount in spec.configs:
            out = root / name / mount.target.lstrip("/")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(render(catalog.configs[mount.source].renderer, catalog, spec, settings))
    return Rendered(root, catalog, settings)


def without_edge_and_backup(data: dict) -> dict:
    """The catalog without the services that feed the TLS and backup alerts (a stack without them)."""
    for name in ("edge", "backup"):
        del data["services"][name]
    return data
