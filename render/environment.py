"""A service's environment values, with `${settingName}` filled from the stack settings.

The catalog says which variable a service reads; what it holds may differ per stack
(Qdrant's URL, Linear's OAuth client id, the SMTP relay). Such a value is written
`${qdrantUrl}` in the catalog and comes from `devtools:qdrantUrl`. Every reference is
checked before anything is declared: it must name a stack setting, and that setting must be
set, so no variable the code parses arrives empty.
"""

from __future__ import annotations

import re

from pydantic.alias_generators import to_camel

from catalog.errors import Problem
from catalog.services import Catalog, Service, secret_path
from catalog.settings import NAMESPACE, Settings

SETTING_REFERENCE = re.compile(r"\$\{([A-Za-z][A-Za-z0-9]*)\}")
_FIELDS = {to_camel(name): name for name in Settings.model_fields}


def referenced_settings(value: str) -> list[str]:
    return SETTING_REFERENCE.findall(value)


def _setting_text(settings: Settings, key: str) -> str | None:
    value = getattr(settings, _FIELDS[key])
    return None if value is None else str(value)


def resolved_environment(service: Service, settings: Settings) -> dict[str, str]:
    """The environment as the process sees it (references checked by `environment_problems`)."""
    return {key: SETTING_REFERENCE.sub(lambda m: _setting_text(settings, m.group(1)) or "", value)
            for key, value in service.environment.items()}


def secret_file_variables(service: Service) -> dict[str, str]:
    """`*_FILE` variables pointing at each secret file: the value itself never enters the environment."""
    return {m.file_variable: secret_path(m.source) for m in service.secret_mounts if m.file_variable}


def environment_problems(catalog: Catalog, settings: Settings, catalog_file: str, settings_file: str) -> list[Problem]:
    problems = []
    unset: dict[str, list[str]] = {}
    for name, svc in catalog.services.items():
        for variable, value in svc.environment.items():
            for key in referenced_settings(value):
                if key not in _FIELDS:
                    problems.append(Problem(catalog_file, f"services.{name}.environment.{variable}",
                                            f"refers to ${{{key}}}, which is no stack setting",
                                            "fix the name, or write the value itself"))
                elif _setting_text(settings, key) in (None, ""):
                    unset.setdefault(key, []).append(f"{name}:{variable}")
    for key, users in sorted(unset.items()):
        # One problem per setting, naming every variable that needs it.
        problems.append(Problem(settings_file, f"{NAMESPACE}:{key}", f"is not set, and {', '.join(users)} read it",
                                f"pulumi config set {NAMESPACE}:{key} <value>"))
    return problems
