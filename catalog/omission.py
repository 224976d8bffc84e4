"""Leaving services out of a stack (`devtools:omitServices`), before any target sees the catalog.

A stack may leave out a service that cannot run (langgraph cannot start at the pinned
source, see docs/UPSTREAM.md). What depends on it is said, never hidden: a kept service that
`depends_on` an omitted one is refused (it would wait for it for ever); one that only calls it
(its environment holds the omitted service's address) is reported, since its calls will fail.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from catalog.errors import Problem
from catalog.services import Catalog
from catalog.settings import NAMESPACE

SETTING = "omitServices"


@dataclass(frozen=True)
class Omission:
    service: str
    calls_from: tuple[str, ...]  # kept services whose environment addresses it


def requested_omissions(raw_config: Mapping[str, str]) -> object:
    text = raw_config.get(f"{NAMESPACE}:{SETTING}")
    if text is None:
        return []
    try:
        return json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError:
        return text


def _addresses(catalog: Catalog, caller: str, target: str) -> bool:
    return any(f"://{target}:" in value for value in catalog.services[caller].environment.values())


def omit(catalog: Catalog, requested: object, settings_file: str) -> tuple[Catalog, list[Omission], list[Problem]]:
    """The catalog without the omitted services, what each leaves uncalled, and the refusals."""
    key = f"{NAMESPACE}:{SETTING}"
    if not isinstance(requested, list) or not all(isinstance(n, str) for n in requested):
        return catalog, [], [Problem(settings_file, key, "is not a list of service names",
                                     f"pulumi config set --path '{key}[0]' <service>")]
    problems = [Problem(settings_file, f"{key}[{i}]", f"{name!r} is no catalog service", f"use one of {sorted(catalog.services)}")
                for i, name in enumerate(requested) if name not in catalog.services]
    omitted = [n for n in dict.fromkeys(requested) if n in catalog.services]
    kept = {n: s for n, s in catalog.services.items() if n not in omitted}
    for name, svc in kept.items():
        for dep in svc.dependencies:
            if dep in omitted:
                problems.append(Problem(settings_file, key, f"omits {dep}, but {name} depends on it (depends_on) and would never start",
                                        f"omit {name} as well, or keep {dep}"))
    report = [Omission(n, tuple(sorted(c for c in kept if _addresses(catalog, c, n)))) for n in omitted]
    if not omitted:
        return catalog, report, problems
    return catalog.model_copy(update={"services": kept}), report, problems


def describe(omissions: list[Omission]) -> list[str]:
    """Lines the preview prints: what is left out and who will miss it."""
    lines = []
    for o in omissions:
        callers = f"; its callers will get errors: {', '.join(o.calls_from)}" if o.calls_from else "; no kept service calls it"
        lines.append(f"omitted: {o.service} (devtools:{SETTING}){callers}")
    return lines
