"""`python -m ops verify`: after a deploy, is every service up and ready, and is every agent registered?

For each catalog service with an HTTP health check it calls the health path and the
readiness path; then it asks the agent registry for its agents and names every catalog
agent (role agent) missing from it. Exit 0 only when all of that holds.

The platform's own known defects (config/platform-contract.yaml `defects:`, docs/UPSTREAM.md)
are reported by name: a failure they explain says so, a defect with a live sign is checked
(e.g. a route that answers 404), and one with no live sign is listed as present in the source.

Where the services are reached:
  --url-template URL   e.g. http://{service}:{port} from a container on the app network
                       (the default), or http://127.0.0.1:{port} through your own tunnels
  --ssh root@HOST      from the operator's machine: finds each container's address on the
                       droplet (by its devtools.service label) and opens one SSH tunnel
                       with a local port per service for the duration of the check
"""

from __future__ import annotations

import argparse
import json
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from catalog.errors import InputError
from catalog.omission import omit, requested_omissions
from catalog.services import Catalog, load_catalog
from ops.contract import Defect, defects
from ops.engine import PROGRAM_DIR
from ops.stackfile import read_stack_config

DEFAULT_REGISTRY_PATH = "/agents"


@dataclass
class ProbeResult:
    url: str
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class ServiceResult:
    service: str
    health: ProbeResult
    ready: ProbeResult | None

    @property
    def ok(self) -> bool:
        return self.health.ok and (self.ready is None or self.ready.ok)


@dataclass
class DefectResult:
    id: str
    service: str
    summary: str
    source: str
    seen: bool | None  # True: the running platform shows it; None: no live sign, present in the source


@dataclass
class Report:
    services: list[ServiceResult] = field(default_factory=list)
    agents_expected: list[str] = field(default_factory=list)
    agents_missing: list[str] = field(default_factory=list)
    registry_error: str | None = None
    defects: list[DefectResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        seen = any(d.seen for d in self.defects)
        return all(s.ok for s in self.services) and not self.agents_missing and self.registry_error is None and not seen


def probe(url: str, timeout: float) -> ProbeResult:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return ProbeResult(url, response.status)
    except urllib.error.HTTPError as exc:
        return ProbeResult(url, exc.code, f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return ProbeResult(url, None, str(reason))


def http_services(catalog: Catalog) -> dict[str, int]:
    """Services answering HTTP health checks on their port (jobs and datastores are Docker-checked)."""
    return {name: svc.port for name, svc in catalog.services.items()
            if svc.port is not None and svc.healthcheck is not None and svc.healthcheck.path is not None}


def registered_agents(payload: object) -> set[str]:
    """Agent ids and names in the registry's answer: a list of agents, or {"agents": [...]}."""
    if isinstance(payload, dict):
        payload = payload.get("agents", payload.get("items", []))
    found: set[str] = set()
    for entry in payload if isinstance(payload, list) else []:
        if isinstance(entry, str):
            found.add(entry)
        elif isinstance(entry, dict):
            found.update(str(entry[k]) for k in ("agent_id", "id", "name") if entry.get(k))
    return found


def registry_service(catalog: Catalog) -> str | None:
    """The service the agents register with: the one their AGENT_REGISTRY_URL names."""
    for svc in catalog.services.values():
        url = svc.environment.get("AGENT_REGISTRY_URL", "")
        host = url.split("://", 1)[-1].split(":", 1)[0].split("/", 1)[0]
        if host in catalog.services:
            return host
    return None


def request_status(url: str, method: str, timeout: float) -> int | None:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=b"{}" if method == "POST" else None, method=method,
                                                           headers={"Content-Type": "application/json"}), timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def check_defect(defect: Defect, result: ServiceResult | None, base_url: str | None, timeout: float) -> DefectResult:
    seen: bool | None = None
    detect = defect.detect
    if "unreachable" in detect:
        seen = result is not None and result.health.status is None
    elif "ready" in detect:
        seen = result is not None and result.ready is not None and result.ready.status == detect["ready"]
    elif "request" in detect:
        ask = detect["request"]
        seen = base_url is not None and request_status(base_url.rstrip("/") + ask["path"], ask["method"], timeout) == ask["status"]
    return DefectResult(defect.id, defect.service, defect.summary, defect.source, seen)


def verify(catalog: Catalog, base_urls: dict[str, str], registry_path: str = DEFAULT_REGISTRY_PATH,
           timeout: float = 5.0, known: list[Defect] | None = None) -> Report:
    report = Report()
    for name in http_services(catalog):
        svc = catalog.services[name]
        base = base_urls[name].rstrip("/")
        health = probe(base + svc.healthcheck.path, timeout)
        ready = probe(base + svc.readiness.path, timeout) if svc.readiness else None
        report.services.append(ServiceResult(name, health, ready))
    results = {s.service: s for s in report.services}
    for defect in defects() if known is None else known:
        if defect.service in catalog.services:  # an omitted service's defects are not this stack's
            report.defects.append(check_defect(defect, results.get(defect.service), base_urls.get(defect.service), timeout))

    report.agents_expected = sorted(n for n, s in catalog.services.items() if s.role == "agent")
    registry = registry_service(catalog)
    if registry is None or registry not in base_urls:
        report.registry_error = "no service of the catalog is the agents' AGENT_REGISTRY_URL with an HTTP port"
        return report
    url = base_urls[registry].rstrip("/") + registry_path
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            payload = json.loads(response.read().decode())
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
        report.registry_error = f"cannot list agents at {url}: {getattr(exc, 'reason', exc)}"
        return report
    present = registered_agents(payload)
    report.agents_missing = [a for a in report.agents_expected if a not in present]
    return report


def render(report: Report) -> str:
    lines = []
    explained = {d.service: d.id for d in report.defects if d.seen}
    for s in report.services:
        parts = [f"health {s.health.status or s.health.error}"]
        if s.ready is not None:
            parts.append(f"ready {s.ready.status or s.ready.error}")
        if not s.ok and s.service in explained:
            parts.append(f"(known upstream defect {explained[s.service]})")
        lines.append(f"{'ok  ' if s.ok else 'FAIL'}  {s.service:<20} {'  '.join(parts)}")
    for d in report.defects:
        state = {True: "seen", False: "not seen", None: "in the source"}[d.seen]
        lines.append(f"UPSTREAM  {d.id} ({d.service}, {state}): {d.summary} [{d.source}]")
    if report.registry_error:
        lines.append(f"FAIL  agent registry: {report.registry_error}")
    elif report.agents_missing:
        lines.append(f"FAIL  agent registry is missing {len(report.agents_missing)} of {len(report.agents_expected)} "
                     f"agents: {', '.join(report.agents_missing)}")
    else:
        lines.append(f"ok    agent registry lists all {len(report.agents_expected)} agents")
    failed = [s.service for s in report.services if not s.ok]
    problems = []
    if failed:
        problems.append(f"not healthy or not ready: {', '.join(failed)}")
    if report.agents_missing or report.registry_error:
        problems.append("agent registry incomplete")
    if any(d.seen for d in report.defects):
        problems.append(f"known upstream defects seen: {', '.join(d.id for d in report.defects if d.seen)}")
    lines.append("verify: all good" if report.ok else f"verify: FAILED ({'; '.join(problems)})")
    return "\n".join(lines)


# --- reaching the droplet over SSH ------------------------------------------------------------

def discover_command(stack: str) -> str:
    """Shell run on the droplet: `<service> <ip>` for each running container of the stack."""
    fmt = "{{index .Config.Labels \"devtools.service\"}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"
    return (f"docker ps -q --filter label=devtools.stack={shlex.quote(stack)} "
            f"| xargs -r docker inspect --format {shlex.quote(fmt)}")


def parse_discovery(output: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            found[parts[0]] = parts[1:]
    return found


def tunnel_forwards(ports: dict[str, int], addresses: dict[str, list[str]], local_ports: dict[str, int]) -> list[str]:
    """`-L` arguments: a local port per service to the container's address on the droplet."""
    args = []
    for name, port in ports.items():
        if addresses.get(name):
            args += ["-L", f"127.0.0.1:{local_ports[name]}:{addresses[name][0]}:{port}"]
    return args


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _via_ssh(target: str, stack: str, catalog: Catalog, registry_path: str, timeout: float) -> Report:
    ssh = ["ssh", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes", target]
    found = subprocess.run([*ssh, discover_command(stack)], capture_output=True, text=True, timeout=60)
    if found.returncode != 0:
        raise RuntimeError(f"cannot list containers on {target}: {found.stderr.strip()}")
    addresses = parse_discovery(found.stdout)
    ports = http_services(catalog)
    local = {name: _free_port() for name in ports}
    tunnel = subprocess.Popen([*ssh[:-1], "-N", *tunnel_forwards(ports, addresses, local), target])
    try:
        time.sleep(2)  # the forwards are listening once ssh has authenticated
        urls = {name: f"http://127.0.0.1:{local[name]}" for name in ports}
        report = verify(catalog, urls, registry_path, timeout)
        for s in report.services:
            if s.service not in addresses:
                s.health.error = "no running container on the droplet"
        return report
    finally:
        tunnel.terminate()
        tunnel.wait(10)


# --- command line -------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalog", default=str(PROGRAM_DIR / "config" / "services.yaml"))
    parser.add_argument("--url-template", default="http://{service}:{port}",
                        help="base URL of a service; {service} and {port} are filled in (default: %(default)s)")
    parser.add_argument("--ssh", metavar="USER@HOST", help="reach the droplet's containers through an SSH tunnel")
    parser.add_argument("--stack", default="prod", help="the stack whose containers --ssh looks for, and whose omitServices are left out")
    parser.add_argument("--registry-path", default=DEFAULT_REGISTRY_PATH)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    try:
        catalog = load_catalog(Path(args.catalog))
        # Services the stack leaves out are not expected to answer.
        catalog, _, problems = omit(catalog, requested_omissions(read_stack_config(args.stack).config), f"Pulumi.{args.stack}.yaml")
        if problems:
            raise InputError(problems)
    except InputError as error:
        print(error.render(), file=sys.stderr)
        return 2
    try:
        if args.ssh:
            report = _via_ssh(args.ssh, args.stack, catalog, args.registry_path, args.timeout)
        else:
            urls = {name: args.url_template.format(service=name, port=port) for name, port in http_services(catalog).items()}
            report = verify(catalog, urls, args.registry_path, args.timeout)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        print(f"verify: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
    else:
        print(render(report))
    return 0 if report.ok else 1
