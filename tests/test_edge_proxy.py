"""The rendered edge configuration, run by the real traefik binary in front of local upstreams.

Upstreams and the single sign-on service are small local stand-ins (tests/support/local_http.py);
everything between them is Traefik as the program configures it.
"""

from __future__ import annotations

import http.client
import math
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from catalog.inputs import load_inputs
from ops.local_servers import free_port
from ops.stackfile import read_stack_config
from render.traefik import auth_service, dynamic_config, routed, static_config
from targets.droplet.service import healthcheck_test
from tests.support.local_http import SESSION_COOKIE, VALID_SESSION, SignOnStandIn, Upstream
from tests.support.traefik_run import TRAEFIK, RunningTraefik

SIGNED_IN = f"{SESSION_COOKIE}={VALID_SESSION}"
PROTECTED = "orchestrator"     # a route behind single sign-on in the shipped catalog
RATE_LIMITED = "gateway-mcp"   # a route with its own rate limit in the shipped catalog


def shipped_inputs():
    return load_inputs(read_stack_config("prod").config, "prod")


# The single sign-on service: the one whose route says sign_in.
AUTH_SERVICE = auth_service(shipped_inputs().catalog)[0]


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    inputs = shipped_inputs()
    catalog, settings = inputs.catalog, inputs.settings
    upstreams = {name: Upstream(name, svc.healthcheck.path or "/health", svc.readiness.path)
                 for name, svc in routed(catalog).items() if name != AUTH_SERVICE}
    auth = SignOnStandIn(catalog.services[AUTH_SERVICE].route.path_prefix)
    ports = {name: up.port for name, up in upstreams.items()} | {AUTH_SERVICE: auth.port}
    edge_spec = catalog.services["edge"]
    dynamic = dynamic_config(catalog, settings)
    proxy = RunningTraefik(static_config(catalog, edge_spec, settings), dynamic, ports,
                           tmp_path_factory.mktemp("traefik"), settings.domain)
    try:
        proxy.wait_ready(f"{auth.prefix}/sign_in")
        yield proxy, upstreams, auth, catalog, dynamic
    finally:
        proxy.stop()
        auth.stop()
        for up in upstreams.values():
            up.stop()


def prefix(catalog, name: str) -> str:
    return catalog.services[name].route.path_prefix


def test_unauthenticated_request_to_protected_route_gets_sign_in_and_never_reaches_upstream(edge):
    proxy, upstreams, auth, catalog, _ = edge
    before = len(upstreams[PROTECTED].traffic())
    path = f"{prefix(catalog, PROTECTED)}/tasks"
    answer = proxy.get(path)
    assert answer.status == 401
    assert "sign in" in answer.body          # the sign-in page, served by the auth service
    # ... asked with the page to come back to after signing in.
    assert f"{auth.prefix}/sign_in?rd={quote(f'https://{proxy.host}{path}', safe='')}" in auth.paths()
    assert len(upstreams[PROTECTED].traffic()) == before


def test_signed_in_request_passes_with_the_identity_from_the_auth_service(edge):
    proxy, upstreams, auth, catalog, _ = edge
    calls = auth.auth_calls()
    answer = proxy.get(f"{prefix(catalog, PROTECTED)}/tasks", cookie=SIGNED_IN)
    assert answer.status == 200
    # The orchestrator's routes sit at its root: the edge strips the prefix (strip_prefix: true).
    assert catalog.services[PROTECTED].route.strip_prefix
    assert answer.body == f"{PROTECTED} /tasks user=alice"
    assert auth.auth_calls() == calls + 1


def test_a_route_without_strip_prefix_passes_the_full_path(edge):
    proxy, upstreams, auth, catalog, _ = edge
    keeping = next(n for n, s in routed(catalog).items() if not s.route.strip_prefix and not s.route.sign_in)
    answer = proxy.get(f"{prefix(catalog, keeping)}/x", cookie=SIGNED_IN)
    assert answer.status == 200
    assert answer.body == f"{keeping} {prefix(catalog, keeping)}/x user=alice"


def test_spoofed_identity_header_does_not_reach_upstream(edge):
    proxy, upstreams, auth, catalog, _ = edge
    conn = proxy.connection()
    try:
        conn.request("GET", f"{prefix(catalog, PROTECTED)}/whoami",
                     headers={"Host": proxy.host, "Cookie": SIGNED_IN, "X_Auth_Request_User": "mallory"})
        answer = conn.getresponse()
        answer.read()
    finally:
        conn.close()
    assert answer.status == 200
    _, headers = upstreams[PROTECTED].requests[-1]
    assert headers.get("X-Auth-Request-User") == "alice"
    assert not any(key.lower().replace("_", "-") == "x-auth-request-user" and value == "mallory"
                   for key, value in headers.items())


def test_public_route_passes_without_asking_the_auth_service(edge):
    proxy, upstreams, auth, catalog, _ = edge
    assert catalog.services[AUTH_SERVICE].route.public
    calls = auth.auth_calls()
    answer = proxy.get(f"{prefix(catalog, AUTH_SERVICE)}/sign_in")
    assert answer.status == 200
    assert auth.auth_calls() == calls


def test_every_route_answers_with_security_headers(edge):
    proxy, _, _, catalog, _ = edge
    for answer in (proxy.get(f"{prefix(catalog, PROTECTED)}/x"), proxy.get(f"{prefix(catalog, AUTH_SERVICE)}/sign_in")):
        assert answer.headers["strict-transport-security"].startswith("max-age=")
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "server" not in answer.headers


def test_plain_http_is_redirected_to_https(edge):
    proxy, _, _, catalog, _ = edge
    answer = proxy.get_plain(f"{prefix(catalog, PROTECTED)}/tasks")
    assert answer.status in (301, 308)
    assert answer.headers["location"].startswith(f"https://{proxy.host}")


def test_requests_over_the_rate_limit_get_429(edge):
    proxy, upstreams, _, catalog, dynamic = edge
    limit = catalog.services[RATE_LIMITED].route.rate_limit
    assert dynamic["http"]["middlewares"][f"rate-limit-{RATE_LIMITED}"]["rateLimit"]["burst"] == limit.burst
    conn = proxy.connection()
    statuses = []
    started = time.monotonic()
    try:
        for _ in range(limit.burst + 30):
            statuses.append(proxy.get(f"{prefix(catalog, RATE_LIMITED)}/tools", cookie=SIGNED_IN, conn=conn).status)
    finally:
        conn.close()
    elapsed = time.monotonic() - started
    assert statuses[0] == 200
    assert 429 in statuses
    assert set(statuses) == {200, 429}
    # No more than the burst plus what the sustained rate refilled meanwhile got through.
    assert statuses.count(200) <= limit.burst + math.ceil(limit.average * elapsed) + 1


def test_upstream_that_is_alive_but_not_ready_gets_no_traffic(edge):
    proxy, upstreams, _, catalog, dynamic = edge
    upstream = upstreams[PROTECTED]
    spec = catalog.services[PROTECTED]
    check = dynamic["http"]["services"][PROTECTED]["loadBalancer"]["healthCheck"]
    assert check["path"] == spec.readiness.path
    wait = 4 * float(check["interval"].rstrip("s")) + 5
    path = f"{prefix(catalog, PROTECTED)}/work"
    upstream.ready = False
    try:
        deadline = time.monotonic() + wait
        while proxy.get(path, cookie=SIGNED_IN).status != 503:
            assert time.monotonic() < deadline, f"still routed {wait}s after readiness failed:\n{proxy.logs()}"
            time.sleep(0.2)
        seen = len(upstream.traffic())
        answers = [proxy.get(path, cookie=SIGNED_IN).status for _ in range(10)]
        assert answers == [503] * 10
        assert len(upstream.traffic()) == seen              # nothing reached it
        assert spec.readiness.path in upstream.paths()      # the edge asked its readiness path
        # Its liveness check (the container's health check command, as rendered) still passes.
        liveness = healthcheck_test(spec.healthcheck, upstream.port)
        assert subprocess.run(liveness[1:], capture_output=True, timeout=10).returncode == 0
    finally:
        upstream.ready = True
    # Ready again: traffic comes back, so it was the readiness check that held it off.
    deadline = time.monotonic() + wait
    while proxy.get(path, cookie=SIGNED_IN).status != 200:
        assert time.monotonic() < deadline, "traffic did not come back once ready"
        time.sleep(0.2)


def test_edge_container_health_check_command_passes_against_running_edge(edge):
    proxy, _, _, catalog, _ = edge
    test = catalog.services["edge"].healthcheck.test
    assert test[:2] == ["CMD", "traefik"]
    result = subprocess.run([TRAEFIK, *test[2:], f"--configFile={proxy.static_file}"],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rendered_files_are_yaml_traefik_reads_without_errors(edge):
    proxy, *_ = edge
    log = Path(proxy.workdir / "traefik.log").read_text()
    errors = [line for line in log.splitlines() if " ERR " in line]
    assert errors == []
    assert yaml.safe_load((proxy.workdir / "routes.yml").read_text())["http"]["routers"]


def test_metrics_are_served_on_the_internal_entry_point_only(edge):
    proxy, _, _, catalog, _ = edge
    conn = http.client.HTTPConnection("127.0.0.1", proxy.entry_ports["internal"], timeout=5)
    try:
        conn.request("GET", catalog.services["edge"].metrics.path)
        answer = conn.getresponse()
        body = answer.read().decode()
    finally:
        conn.close()
    assert answer.status == 200
    assert 'traefik_router_requests_total{' in body or "traefik_entrypoint_requests_total{" in body
    assert proxy.get(catalog.services["edge"].metrics.path).status == 404   # not on the public entry point


def test_acme_section_as_rendered_is_accepted_and_asks_for_the_stack_domain(tmp_path):
    """ACME kept as rendered, pointed at a closed local port instead of Let's Encrypt (no traffic leaves)."""
    inputs = shipped_inputs()
    catalog, settings = inputs.catalog, inputs.settings
    static = static_config(catalog, catalog.services["edge"], settings)
    assert static["certificatesResolvers"]["letsencrypt"]["acme"]["email"] == settings.acme_email
    assert static["certificatesResolvers"]["letsencrypt"]["acme"]["tlsChallenge"] == {}
    ports = {name: free_port() for name in routed(catalog)}
    proxy = RunningTraefik(static, dynamic_config(catalog, settings), ports, tmp_path, settings.domain,
                           acme_ca=f"https://127.0.0.1:{free_port()}/directory")
    try:
        log = tmp_path / "traefik.log"
        wanted = f"Trying to challenge certificate for domain [{settings.domain}]"
        deadline = time.monotonic() + 15
        while not (log.exists() and wanted in log.read_text()):
            assert proxy.process.poll() is None, proxy.logs()
            assert time.monotonic() < deadline, proxy.logs()
            time.sleep(0.1)
        errors = [line for line in log.read_text().splitlines() if " ERR " in line]
        assert all("Unable to obtain ACME certificate" in line for line in errors), errors
    finally:
        proxy.stop()
