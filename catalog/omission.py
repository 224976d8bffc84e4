"""Leaving services out of a stack (`devtools:omitServices`), before any target sees the catalog.

A stack may leave out a service that cannot run (langgraph cannot start at the pinned
source, see docs/UPSTREAM.md). What depends on it is said, never hidden: a kept service that
waits for an omitted one to be healthy or complete is refused (it would wait for ever); one that
only calls it (`condition: service_started`, an address in its environment) loses that edge and is
reported, since its calls will fail.
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
    calls_from: tuple[str, ...]  # kept services that call it (a service_started dependency)


def requested_omissions(raw_config: Mapping[str, str]) -> object:
    text = raw_config.get(f"{NAMESPACE}:{SETTING}")
    if text is None:
        return []
    try:
        return json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError:
        return text


CALL_ONLY = "service_started"  # the caller needs the address, not the service's health


def omit(catalog: Catalog, requested: object, settings_file: str) -> tuple[Catalog, list[Omission], list[Problem]]:
    """The catalog without the omitted services, what each leaves uncalled, and the refusals."""
    key = f"{NAMESPACE}:{SETTING}"
    if not isinstance(requested, list) or not all(isinstance(n, str) for n in requested):
        return catalog, [], [Problem(settings_file, key, "is not a list of service names",
                                     f"pulumi config set --path '{key}[0]' <service>")]
    declared = catalog.declared("services")  # a service that failed its own validation is still declared
    problems = [Problem(settings_file, f"{key}[{i}]", f"{name!r} is no catalog service", f"use one of {sorted(declared)}")
                for i, name in enumerate(requested) if name not in declared]
    omitted = [n for n in dict.fromkeys(requested) if n in catalog.services]
    kept = {n: s for n, s in catalog.services.items() if n not in omitted}
    callers: dict[str, list[str]] = {n: [] for n in omitted}
    for name, svc in list(kept.items()):
        cut = {dep: d for dep, d in svc.dependencies.items() if dep in omitted}
        for dep, needs in cut.items():
            if needs.condition == CALL_ONLY:
                callers[dep].append(name)
            else:
                problems.append(Problem(settings_file, key, f"omits {dep}, but {name} depends on it (depends_on) and would never start",
                                        f"omit {name} as well, or keep {dep}"))
        if cut:
            remaining = {dep: d for dep, d in svc.dependencies.items() if dep not in cut}
            kept[name] = svc.model_copy(update={"depends_on": remaining})
    report = [Omission(n, tuple(sorted(callers[n]))) for n in omitted]
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
