"""Policy results for people (text) and for code scanning (SARIF 2.1.0, one result per violation)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.analyzer import PackInfo
from ops.engine import PROGRAM_DIR, Recorded
from ops.plan import Violation
from policies.devtools_policy.docker import CONTAINER

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"mandatory": "error", "remediate": "error", "advisory": "warning", "disabled": "none"}
_ORDER = {"mandatory": 0, "remediate": 1, "advisory": 2, "disabled": 3}


def short_description(description: str, width: int = 100) -> str:
    """A policy's description cut to a title: its first sentence, without asides, up to the first `: `."""
    sentence = re.sub(r"\s*\([^)]*\)", "", description.split(". ")[0]).split(": ")[0].rstrip(".")
    if len(sentence) <= width:
        return sentence
    return sentence[:width].rsplit(" ", 1)[0] + "…"


def resource_label(violation: Violation, by_urn: dict[str, Recorded]) -> str:
    resource = by_urn.get(violation.urn or "")
    if resource is None:
        return "stack"
    return f"{resource.type.split(':')[-1]} {resource.name}"


def render_violations(violations: list[Violation], resources: list[Recorded], info: PackInfo) -> str:
    mandatory = sum(1 for p in info.policies if p.enforcement == "mandatory")
    lines = [f"policy pack {info.name} {info.version}: {len(info.policies)} policies "
             f"({mandatory} mandatory, {len(info.policies) - mandatory} advisory by default)"]
    if not violations:
        lines.append("  no violations")
        return "\n".join(lines)
    by_urn = {r.urn: r for r in resources}
    for v in sorted(violations, key=lambda v: (_ORDER.get(v.enforcement, 9), v.policy, resource_label(v, by_urn))):
        lines.append(f"  {v.enforcement:<9} {v.policy}  {resource_label(v, by_urn)}: {v.message}")
    lines.append("  how to fix:")
    for name in sorted({v.policy for v in violations}):
        policy = info.policy(name)
        lines.append(f"    {name}: {policy.description if policy else ''}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Sources:
    """Where a violation points in the repository: the catalog for services, the stack file otherwise."""

    catalog: Path
    stack_file: Path

    def _relative(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(PROGRAM_DIR))
        except ValueError:
            return str(path)

    @staticmethod
    def _line(path: Path, pattern: str) -> int:
        try:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if re.match(pattern, line):
                    return number
        except OSError:
            pass
        return 1

    def locate(self, violation: Violation, by_urn: dict[str, Recorded]) -> tuple[str, int]:
        resource = by_urn.get(violation.urn or "")
        if resource is not None and resource.type == CONTAINER:
            service = service_of(resource)
            return self._relative(self.catalog), self._line(self.catalog, rf"^\s{{2}}{re.escape(service)}:\s*$")
        if violation.policy.endswith("-capacity"):
            return self._relative(self.stack_file), self._line(self.stack_file, r"^\s*devtools:dropletSize:")
        if resource is None:
            return self._relative(self.catalog), 1
        return self._relative(self.stack_file), 1


def service_of(resource: Recorded) -> str:
    """The catalog service a resource belongs to (its devtools.service label), else its name."""
    return _label(resource, "devtools.service") or resource.name


def _label(resource: Recorded, key: str) -> str | None:
    for entry in resource.inputs.get("labels") or []:
        if isinstance(entry, dict) and entry.get("label") == key and isinstance(entry.get("value"), str):
            return entry["value"]
    return None


def to_sarif(violations: list[Violation], resources: list[Recorded], info: PackInfo, sources: Sources) -> dict[str, Any]:
    by_urn = {r.urn: r for r in resources}
    rules = [
        {
            "id": p.name,
            "name": p.name,
            "shortDescription": {"text": short_description(p.description)},
            "fullDescription": {"text": p.description},
            "help": {"text": p.description},
            "defaultConfiguration": {"level": SARIF_LEVEL.get(p.enforcement, "warning")},
            "properties": {"severity": p.severity, "tags": list(p.tags), "enforcement": p.enforcement},
        }
        for p in info.policies
    ]
    index = {p.name: i for i, p in enumerate(info.policies)}
    results = []
    for v in violations:
        uri, line = sources.locate(v, by_urn)
        resource = by_urn.get(v.urn or "")
        result: dict[str, Any] = {
            "ruleId": v.policy,
            "level": SARIF_LEVEL.get(v.enforcement, "warning"),
            "message": {"text": f"{resource_label(v, by_urn)}: {v.message}"},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}},
                **({"logicalLocations": [{"name": resource.name, "fullyQualifiedName": resource.urn, "kind": "resource"}]}
                   if resource else {}),
            }],
            "partialFingerprints": {"policyResource/v1": f"{v.policy}:{v.urn or 'stack'}:{v.message}"},
            "properties": {"enforcement": v.enforcement, "severity": v.severity},
        }
        if v.policy in index:
            result["ruleIndex"] = index[v.policy]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": f"{info.name}-policy-pack", "version": info.version,
                                "informationUri": "https://www.pulumi.com/docs/iac/packages-and-automation/crossguard/",
                                "rules": rules}},
            "results": results,
        }],
    }
