"""`python -m ops audit`: the pre-deployment audit of a compose file, in the seed audit's shape.

Three sources, one list of findings: what the import had to change (ops/compose/convert.py
records each gap of the compose file), the policy pack over the imported plan (the same
engine, analyzer and pack as `python -m ops preview`, so the audit and the preview agree), and
checks that only make sense on compose (one env_file for every service, memory limits against
the droplet). Each finding has its scope, priority, evidence (file, line, service, key),
impact and fix.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from catalog.errors import InputError, Invalid
from catalog.inputs import load_inputs
from catalog.settings import NAMESPACE
from catalog.sizes import SIZES, DropletSize
from catalog.units import parse_cpus, parse_memory
from ops.analyzer import PackError, PackInfo, PolicyPackClient
from ops.compose.convert import Imported, convert, with_stand_in_pins
from ops.compose.emit import emit
from ops.compose.gaps import GAP_KINDS, PRIORITIES, SCOPES
from ops.compose.load import ComposeError, ComposeFile, load_compose
from ops.engine import run_program
from ops.plan import Violation
from ops.preview import EXIT_BAD_INPUT, EXIT_PACK_FAILED, evaluate
from ops.report import SARIF_SCHEMA, service_of, short_description
from ops.stackfile import read_stack_config
from policies.devtools_policy.registry import BY_NAME

FORMATS = ("md", "json", "sarif")
EXIT_OK, EXIT_P0 = 0, 1

# The policy pack's rules by audit scope; a rule not listed here is reported under containerization.
POLICY_SCOPES = {
    1: ("stack-settings-not-placeholders",),
    2: ("redis-persistence", "volumes-not-shared"),
    3: ("container-memory-limit", "container-cpu-limit", "restart-policy", "image-pinned", "default-cgroup",
        "uploads-need-writable-root", "read-only-root-filesystem", "memory-capacity", "cpu-capacity",
        "user-defined-network", "mount-propagation-private"),
    4: ("container-healthcheck", "no-published-ports"),
    5: ("log-rotation", "no-dead-alert", "scrape-target-reachable", "droplet-backups-monitoring"),
    6: ("no-hardcoded-credentials", "secrets-as-files", "no-privileged-containers", "docker-socket-mount",
        "no-new-privileges", "no-host-namespaces", "no-sensitive-host-mounts", "no-host-devices",
        "security-profiles-confined", "firewall-no-public-admin-ports", "network-segmentation", "capabilities-dropped"),
}
SCOPE_OF_POLICY = {name: scope for scope, names in POLICY_SCOPES.items() for name in names}
PRIORITY_OF_SEVERITY = {"critical": "P0", "high": "P0", "medium": "P1", "low": "P2"}


def add_arguments(parser) -> None:
    parser.add_argument("file", metavar="FILE", help="the compose file to audit")
    parser.add_argument("--env-file", metavar="PATH", help="the .env file for interpolation (default: .env beside FILE, if present)")
    parser.add_argument("--format", choices=FORMATS, default="md", help="md (default: the seed audit's layout), json, or sarif "
                                                                         "(findings at the compose file's lines)")
    parser.add_argument("--droplet-size", choices=sorted(SIZES), metavar="SIZE",
                        help=f"judge memory limits against this droplet size (default: the stack's); one of {', '.join(SIZES)}")
    parser.add_argument("--stack", default="prod", help="stack whose settings the imported plan uses (default: prod)")


@dataclass(frozen=True)
class Finding:
    id: str            # the gap kind or the policy's name
    source: str        # import | policy | compose
    scope: int
    priority: str
    title: str
    file: str
    line: int
    service: str | None
    key: str
    impact: str
    fix: str
    effort: str


@dataclass
class Audit:
    compose: ComposeFile
    findings: list[Finding]
    passed: dict[int, list[str]]
    pack: PackInfo | None
    droplet_size: str
    notes: list[str]


def gap_findings(compose: ComposeFile, imported: Imported) -> list[Finding]:
    findings = []
    for gap in imported.gaps:
        kind = GAP_KINDS[gap.kind]
        line = compose.line(*compose.key_path(gap.key))
        findings.append(Finding(gap.kind, "import", kind.scope, kind.priority, kind.title, compose.label, line, gap.service,
                                gap.key, f"{kind.impact} ({gap.detail})", kind.fix, kind.effort))
    return findings


def compose_findings(compose: ComposeFile, size: str, host_reserve: int) -> list[Finding]:
    """Checks that only make sense on the compose file itself."""
    found: list[Finding] = []
    services = compose.services

    def add(kind: str, service: str | None, key: str, detail: str) -> None:
        gap = GAP_KINDS[kind]
        line = compose.line("services", service, key.split(".")[-1]) if service else compose.line(key)
        found.append(Finding(kind, "compose", gap.scope, gap.priority, gap.title, compose.label, line, service,
                             f"services.{service}.{key}" if service else key, f"{gap.impact} ({detail})", gap.fix, gap.effort))

    # One env_file that every service reading an env_file reads: each gets all the others' variables.
    readers = {name: set(_env_files(svc)) for name, svc in services.items() if _env_files(svc)}
    shared = set.intersection(*readers.values()) if len(readers) > 1 else set()
    for path in sorted(shared):
        for name in readers:
            add("env-file-shared", name, "env_file", f"{path} is read by all {len(readers)} services that read an env_file")
    for name, svc in services.items():
        logging = svc.get("logging") or {}
        if not (logging.get("options") or {}).get("max-size") and logging.get("driver") not in ("local", "none", "journald"):
            add("log-rotation", name, "logging", "json-file logs grow without bound")
    for resource, detail in overcommitted(services, SIZES[size], host_reserve):
        add("overcommit", None, f"deploy.resources.limits.{resource}", detail)
    if not any(_is_observability(svc) for svc in services.values()):
        add("no-observability", None, "services", "no Prometheus, Grafana, Loki or similar service in the file")
    return found


def overcommitted(services: dict[str, dict[str, Any]], size: DropletSize, host_reserve: int) -> list[tuple[str, str]]:
    """The compose file's own limits against the droplet, with the pack's capacity factors (memory, cpus)."""
    found = []
    for resource, rule, parse, legacy in (("memory", "memory-capacity", parse_memory, "mem_limit"),
                                          ("cpus", "cpu-capacity", parse_cpus, "cpus")):
        factor = float(BY_NAME[rule].config()["limitOvercommitFactor"])
        total, unbounded = 0.0, 0
        for svc in services.values():
            limit = (((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}).get(resource) or svc.get(legacy)
            try:
                total += parse(str(limit)) if limit is not None else 0
            except Invalid:
                continue  # the import reports the value itself
            unbounded += limit is None
        capacity = size.memory_bytes - host_reserve if resource == "memory" else size.vcpus
        if total > factor * capacity:
            shown = (f"{total / 1024**3:.2f} GiB of limits, {total / capacity:.2f}x the {capacity / 1024**3:.2f} GiB allocatable"
                     if resource == "memory" else f"{total:g} CPUs of limits, {total / capacity:.2f}x the {capacity} vCPUs")
            found.append((resource, f"{shown} on {size.slug} (at most {factor:g}x, as the pack's {rule} allows)"
                          + (f"; {unbounded} more service(s) have no limit at all" if unbounded else "")))
    return found


def _env_files(svc: dict[str, Any]) -> list[str]:
    files = svc.get("env_file") or []
    return [f if isinstance(f, str) else f["path"] for f in ([files] if isinstance(files, str) else files)]


def _is_observability(svc: dict[str, Any]) -> bool:
    from ops.compose.images import known_role

    return known_role(str(svc.get("image") or "")) == "observability"


def policy_findings(compose: ComposeFile, imported: Imported, violations: list[Violation], resources) -> list[Finding]:
    by_urn = {r.urn: r for r in resources}
    to_compose = {catalog: name for name, catalog in imported.services.items()}
    findings = []
    for v in violations:
        resource = by_urn.get(v.urn or "")
        catalog_service = service_of(resource) if resource is not None else None
        service = to_compose.get(catalog_service or "")
        line = compose.line("services", service) if service else 1
        where = f"services.{service}" if service else (f"{catalog_service} (added by the import)" if catalog_service else "(stack)")
        priority = PRIORITY_OF_SEVERITY.get(v.severity, "P1")
        if v.enforcement == "advisory" and priority == "P0":
            priority = "P1"
        findings.append(Finding(v.policy, "policy", SCOPE_OF_POLICY.get(v.policy, 3), priority, f"policy {v.policy}", compose.label,
                                line, service or catalog_service, where, v.message, "", "Low"))
    return findings


def _with_policy_fixes(findings: list[Finding], info: PackInfo) -> list[Finding]:
    out = []
    for f in findings:
        policy = info.policy(f.id) if f.source == "policy" else None
        if policy is not None:
            title = short_description(policy.description)
            f = Finding(**{**asdict(f), "title": title, "fix": policy.description})
        out.append(f)
    return out


def audit(compose_file: Path, env_file: Path | None, stack: str, droplet_size: str | None) -> Audit:
    """Raise ComposeError / InputError for bad input, PackError when the pack cannot run."""
    compose = load_compose(compose_file, env_file)
    imported = convert(compose)
    document, stood_in = with_stand_in_pins(imported.document)
    notes = [f"planned with a stand-in digest for {', '.join(stood_in)} (their images are not pinned)"] if stood_in else []
    findings = gap_findings(compose, imported)
    info = None
    with tempfile.TemporaryDirectory(prefix="compose-audit-") as tmp:
        catalog_file = Path(tmp) / "services.yaml"
        catalog_file.write_text(emit(document, {}), encoding="utf-8")
        stack_config = read_stack_config(stack, str(catalog_file))
        if droplet_size:
            stack_config.config[f"{NAMESPACE}:dropletSize"] = droplet_size
        try:
            inputs = load_stack_inputs(stack_config, stack, notes)
        except InputError as error:
            size = droplet_size or stack_config.config.get(f"{NAMESPACE}:dropletSize", "")
            gap = GAP_KINDS["catalog-validation"]
            findings += [Finding("catalog-validation", "import", gap.scope, gap.priority, gap.title, compose.label, 1, None, p.key,
                                 f"{gap.impact}: {p.message}", p.fix, gap.effort) for p in error.problems]
            notes.append("the policy pack did not run: the imported catalog does not validate yet")
            reserve = 1536 * 1024**2
        else:
            size, reserve = inputs.settings.droplet_size, inputs.settings.host_memory_reserve
            resources = run_program(stack_config.config, stack_config.secret_keys, stack)
            plain = {k: v for k, v in stack_config.config.items() if k not in stack_config.secret_keys}
            with PolicyPackClient(stack=stack, dry_run=True, config=plain) as pack:
                info, violations = evaluate(pack, resources)
            findings += _with_policy_fixes(policy_findings(compose, imported, violations, resources), info)
    findings += compose_findings(compose, size if size in SIZES else "s-8vcpu-16gb", reserve)
    findings.sort(key=lambda f: (f.scope, PRIORITIES.index(f.priority), f.id, f.service or "", f.key))
    return Audit(compose, findings, _passed(findings, info), info, size, notes)


def load_stack_inputs(stack_config, stack: str, notes: list[str]):
    """The imported catalog with the stack's settings. Settings written for another catalog (a stack that
    omits one of its services, say) are left out of the plan, with a note, rather than stop the audit."""
    try:
        return load_inputs(stack_config.config, stack)
    except InputError as error:
        if not all(p.file == stack_config.file for p in error.problems):
            raise
        keys = sorted({p.key.split("[")[0] for p in error.problems})
        for key in keys:
            stack_config.config.pop(key, None)
        notes.append(f"planned without {', '.join(keys)} of {stack_config.file}, which do not fit this file: "
                     + "; ".join(f"{p.key}: {p.message}" for p in error.problems))
        return load_inputs(stack_config.config, stack)


def _passed(findings: list[Finding], info: PackInfo | None) -> dict[int, list[str]]:
    seen = {f.id for f in findings}
    passed: dict[int, list[str]] = {scope: [] for scope in range(1, len(SCOPES) + 1)}
    for kind, gap in GAP_KINDS.items():
        if kind not in seen and kind != "catalog-validation":
            passed[gap.scope].append(gap.passed)
    for policy in (info.policies if info else []):
        if policy.name not in seen:
            passed[SCOPE_OF_POLICY.get(policy.name, 3)].append(f"policy `{policy.name}` passes")
    return passed


# --- output ------------------------------------------------------------------------------------

def to_markdown(result: Audit) -> str:
    findings = result.findings
    services = len(result.compose.services)
    lines = [f"# Pre-Deployment Audit & Gap Analysis: {result.compose.label}", "",
             f"Generated by `python -m ops audit` from {services} compose service(s), against the droplet size "
             f"{result.droplet_size}" + (f" and the policy pack {result.pack.name} {result.pack.version} "
                                          f"({len(result.pack.policies)} policies) over the imported plan" if result.pack else "") + ".",
             *(f"Note: {note}." for note in result.notes), "", "## 🔍 Audit Scope", ""]
    lines += [f"{i}. **{scope}**" for i, scope in enumerate(SCOPES, start=1)]
    for i, scope in enumerate(SCOPES, start=1):
        lines += ["", "---", "", f"## {i}. {scope} Audit", "", "### ✅ Findings", ""]
        lines += [f"- {text}" for text in result.passed[i]] or ["- nothing in this scope passed every check"]
        gaps = [f for f in findings if f.scope == i]
        lines += ["", "### ⚠️ Gaps Identified", ""]
        if not gaps:
            lines.append("None.")
        for n, (title, group) in enumerate(_grouped(gaps), start=1):
            first = group[0]
            lines += [f"{n}. **{title}** ({first.priority})", ""]
            for f in group:
                lines.append(f"   - Evidence: `{f.file}:{f.line}`" + (f" service `{f.service}`" if f.service else "")
                             + f", key `{f.key}`: {f.impact}")
            lines += [f"   - Fix: {first.fix}", ""]
    lines += ["---", "", "## 📋 Gap Analysis Summary", ""]
    for priority, heading in zip(PRIORITIES, ("Critical (Must Fix Before Deploy)", "High Priority (Should Fix)",
                                              "Medium Priority (Nice to Have)"), strict=True):
        rows = [(title, group) for title, group in _grouped([f for f in findings if f.priority == priority])]
        lines += [f"### {heading}", ""]
        if not rows:
            lines += ["None.", ""]
            continue
        lines += ["| Gap | Impact | Effort | Priority |", "| --- | --- | --- | --- |"]
        for title, group in rows:
            where = ", ".join(sorted({f.service for f in group if f.service})) or "the file"
            impact = group[0].impact.split(" (")[0] if group[0].source != "policy" else group[0].impact
            lines.append(f"| {title} ({where}) | {_cell(impact)} | {group[0].effort} | {priority} |")
        lines.append("")
    counts = {p: sum(1 for f in findings if f.priority == p) for p in PRIORITIES}
    lines.append(f"Totals: {counts['P0']} P0, {counts['P1']} P1, {counts['P2']} P2 finding(s).")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _grouped(findings: list[Finding]) -> list[tuple[str, list[Finding]]]:
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.title, []).append(f)
    return list(groups.items())


def to_json(result: Audit) -> dict[str, Any]:
    return {
        "file": result.compose.label,
        "dropletSize": result.droplet_size,
        "policyPack": {"name": result.pack.name, "version": result.pack.version} if result.pack else None,
        "notes": result.notes,
        "scopes": [{"number": i, "name": scope, "passed": result.passed[i],
                    "findings": [asdict(f) for f in result.findings if f.scope == i]} for i, scope in enumerate(SCOPES, start=1)],
        "summary": {p: sum(1 for f in result.findings if f.priority == p) for p in PRIORITIES},
    }


SARIF_LEVEL = {"P0": "error", "P1": "warning", "P2": "note"}


def to_sarif(result: Audit) -> dict[str, Any]:
    ids = sorted({f.id for f in result.findings})
    first = {i: next(f for f in result.findings if f.id == i) for i in ids}
    rules = [{"id": i, "name": i, "shortDescription": {"text": first[i].title},
              "help": {"text": first[i].fix or first[i].title},
              "defaultConfiguration": {"level": SARIF_LEVEL[first[i].priority]},
              "properties": {"priority": first[i].priority, "scope": SCOPES[first[i].scope - 1]}} for i in ids]
    results = [{
        "ruleId": f.id,
        "ruleIndex": ids.index(f.id),
        "level": SARIF_LEVEL[f.priority],
        "message": {"text": f"{f.title}" + (f" ({f.service})" if f.service else "") + f": {f.impact}. Fix: {f.fix}"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": f.file}, "region": {"startLine": f.line}}}],
        "partialFingerprints": {"composeFinding/v1": f"{f.id}:{f.service or ''}:{f.key}"},
        "properties": {"priority": f.priority, "scope": SCOPES[f.scope - 1], "key": f.key, "source": f.source},
    } for f in result.findings]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "devtools-compose-audit", "rules": rules,
                            "informationUri": "https://github.com/compose-spec/compose-spec"}},
        "results": results,
    }]}


def run(args) -> int:
    try:
        result = audit(Path(args.file), Path(args.env_file) if args.env_file else None, args.stack, args.droplet_size)
    except (ComposeError, InputError) as error:
        print(error.render().replace("in the inputs; nothing was declared", "in the compose input; nothing was audited"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except PackError as error:
        print(f"policy pack: {error}", file=sys.stderr)
        return EXIT_PACK_FAILED
    if args.format == "json":
        print(json.dumps(to_json(result), indent=2))
    elif args.format == "sarif":
        print(json.dumps(to_sarif(result), indent=2))
    else:
        print(to_markdown(result), end="")
    return EXIT_P0 if any(f.priority == "P0" for f in result.findings) else EXIT_OK
