"""`python -m ops verify` against small local HTTP servers standing in for the deployed services."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from ops.__main__ import main
from ops.contract import defects as known_defects
from ops.local_servers import free_port
from ops.verify import (
    ProbeResult,
    ServiceResult,
    check_defect,
    discover_command,
    parse_discovery,
    registered_agents,
    tunnel_forwards,
)
from tests.conftest import deployed_catalog

AGENTS = ["cicd", "code-review", "documentation", "feature-dev", "infrastructure", "orchestrator"]


def _handler(health: int, ready: int, agents: list[dict] | None, tools: int = 404):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path in ("/health", "/ready"):
                status, body = (health if self.path == "/health" else ready), b"{}"
            elif self.path == "/agents" and agents is not None:
                status, body = 200, json.dumps({"agents": agents}).encode()
            else:
                status, body = 404, b"{}"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            # 404: no tool route, as the gateway at the pinned source.
            self.send_response(tools)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture
def platform(catalog: dict, tmp_path: Path) -> Iterator[tuple[Path, dict]]:
    """Every HTTP service of the catalog on its own local port; catalog rewritten to those ports."""
    registered = [{"agent_id": a, "name": a, "status": "healthy"} for a in AGENTS if a not in ("cicd", "documentation")]
    # not ready (the real defect); not running at all
    behaviour = {"feature-dev": (200, 500), "code-review": None}
    servers = []
    for name, svc in catalog["services"].items():
        if not (svc.get("healthcheck") or {}).get("path"):
            continue
        svc["port"] = free_port()
        if name in behaviour and behaviour[name] is None:
            continue
        health, ready = behaviour.get(name, (200, 200))
        server = ThreadingHTTPServer(("127.0.0.1", svc["port"]),
                                     _handler(health, ready, registered if name == "agent-registry" else None))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    try:
        yield path, catalog
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def test_verify_names_unready_services_and_missing_agents(platform, capsys):
    path, _ = platform
    code = main(["verify", "--catalog", str(path), "--url-template", "http://127.0.0.1:{port}", "--timeout", "2"])
    out = capsys.readouterr().out
    assert code == 1
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith(("ok", "FAIL")) and " agent registry" not in line}
    assert lines["feature-dev"].startswith("FAIL") and "ready 500" in lines["feature-dev"]
    assert "(known upstream defect feature-dev-ready-500)" in lines["feature-dev"]
    assert lines["code-review"].startswith("FAIL") and "refused" in lines["code-review"].lower()
    assert "known upstream defect" not in lines["code-review"]  # down for no known reason
    # The prod stack omits langgraph: neither it nor its defect is this stack's.
    assert "langgraph" not in lines
    defects = {line.split()[1]: line for line in out.splitlines() if line.startswith("UPSTREAM")}
    assert set(defects) == {d.id for d in known_defects() if d.service != "langgraph"}
    assert "seen" in defects["gateway-no-tools-route"] and "shared/gateway/src/routes.js" in defects["gateway-no-tools-route"]
    assert "in the source" in defects["code-review-diff-content"]
    assert lines["orchestrator"].startswith("ok") and lines["agent-registry"].startswith("ok")
    assert "agent registry is missing 2 of 6 agents: cicd, documentation" in out
    assert "postgres" not in lines and "migrate" not in lines  # no HTTP health: Docker checks those


def test_verify_passes_when_everything_answers(catalog: dict, tmp_path: Path, capsys):
    registered = [{"agent_id": a} for a in AGENTS]
    servers = []
    for svc in catalog["services"].values():
        if (svc.get("healthcheck") or {}).get("path"):
            svc["port"] = free_port()
            server = ThreadingHTTPServer(("127.0.0.1", svc["port"]), _handler(200, 200, registered, tools=200))
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    try:
        code = main(["verify", "--catalog", str(path), "--url-template", "http://127.0.0.1:{port}", "--json"])
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"] is True
    assert report["agents_missing"] == [] and sorted(report["agents_expected"]) == AGENTS
    # Every HTTP service the stack deploys (it omits langgraph, whose server answers unasked).
    deployed = {n for n, s in deployed_catalog().services.items() if s.healthcheck and s.healthcheck.path}
    assert {s["service"] for s in report["services"]} == deployed and len(servers) == len(deployed) + 1


def test_verify_reports_a_bad_catalog_without_traceback(tmp_path: Path, capsys):
    bad = tmp_path / "services.yaml"
    bad.write_text("version: 1\nservices: {}\n")
    assert main(["verify", "--catalog", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "services.yaml" in err and "Traceback" not in err


def test_a_service_that_never_answers_is_its_known_defect_and_a_healthy_one_is_not():
    cannot_start = next(d for d in known_defects() if "unreachable" in d.detect)
    down = ServiceResult(cannot_start.service, ProbeResult("http://x/health", None, "connection refused"), None)
    up = ServiceResult(cannot_start.service, ProbeResult("http://x/health", 200), None)
    assert check_defect(cannot_start, down, None, 1.0).seen is True
    assert check_defect(cannot_start, up, None, 1.0).seen is False


def test_registry_answer_shapes():
    assert registered_agents([{"agent_id": "a"}, {"name": "b"}, "c"]) == {"a", "b", "c"}
    assert registered_agents({"agents": [{"id": "x"}]}) == {"x"}
    assert registered_agents({"unexpected": 1}) == set()


def test_ssh_discovery_and_tunnel_arguments():
    assert "label=devtools.stack=prod" in discover_command("prod")
    found = parse_discovery("orchestrator 172.18.0.5 172.19.0.4 \nredis 172.20.0.2 \n\n")
    assert found == {"orchestrator": ["172.18.0.5", "172.19.0.4"], "redis": ["172.20.0.2"]}
    args = tunnel_forwards({"orchestrator": 8001, "cicd": 8005}, found, {"orchestrator": 40001, "cicd": 40005})
    assert args == ["-L", "127.0.0.1:40001:172.18.0.5:8001"]  # cicd has no container: no forward
