"""Load and validate every input (catalog + stack settings) before any resource is declared."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from catalog.errors import InputError, Problem
from catalog.kubernetes_settings import kubernetes_problems
from catalog.model import PROGRAM_DIR, display_path
from catalog.omission import Omission, omit, requested_omissions
from catalog.services import Catalog, check_catalog
from catalog.settings import NAMESPACE, Settings, parse_settings, secret_config_keys
from catalog.wiring import wiring_problems
from render.environment import environment_problems
from render.observability.checks import observability_problems
from render.registry import mount_problems, renderer_names
from render.traefik import edge_problems

DEFAULT_CATALOG = "config/services.yaml"


@dataclass(frozen=True)
class Inputs:
    catalog: Catalog
    settings: Settings
    omitted: tuple[Omission, ...] = ()


def catalog_path(raw_config: Mapping[str, str]) -> Path:
    path = Path(raw_config.get(f"{NAMESPACE}:catalog", DEFAULT_CATALOG))
    return path if path.is_absolute() else PROGRAM_DIR / path


def load_inputs(raw_config: Mapping[str, str], stack: str) -> Inputs:
    """Raise InputError listing every problem of both files; return the validated inputs otherwise.

    `raw_config` maps `devtools:<key>` to text, external secrets included (decrypted).
    """
    settings_file = f"Pulumi.{stack}.yaml"
    path = catalog_path(raw_config)
    label = display_path(path)
    catalog, found = check_catalog(path)
    problems: list[Problem] = list(found)
    omitted: list[Omission] = []
    # A catalog with invalid entries is still checked as far as its valid ones go, so every
    # problem is reported in this one pass; only a catalog that cannot be read stops here.
    if catalog is not None:
        problems.extend(wiring_problems(catalog, label))
        # Before anything else reads it: every check and every target sees the kept services only.
        catalog, omitted, omit_problems = omit(catalog, requested_omissions(raw_config), settings_file)
        problems.extend(omit_problems)
    if catalog is not None:
        for name, config in catalog.configs.items():
            if config.renderer not in renderer_names():
                problems.append(Problem(label, f"configs.{name}.renderer", f"renderer {config.renderer!r} does not exist",
                                        f"use one of {renderer_names()}"))
        problems.extend(mount_problems(catalog, label))
        problems.extend(edge_problems(catalog, label))
        try:
            secret_values = {key: raw_config.get(f"{NAMESPACE}:{key}") for key in secret_config_keys(catalog)}
            settings = parse_settings(raw_config, catalog, settings_file, secret_values)
        except InputError as exc:
            problems.extend(exc.problems)
        else:
            problems.extend(observability_problems(catalog, settings, label, settings_file))
            if settings.kubernetes is not None:
                problems.extend(kubernetes_problems(settings.kubernetes, catalog, settings_file, NAMESPACE))
            problems.extend(environment_problems(catalog, settings, label, settings_file))
    if problems:
        raise InputError(problems)
    return Inputs(catalog, settings, tuple(omitted))
