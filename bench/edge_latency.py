"""What the edge adds to a request: latency of the rendered Traefik config on this machine.

Runs the shipped catalog's rendered edge (real traefik binary, 127.0.0.1, as in
tests/test_edge_proxy.py) in front of local upstreams and an oauth2-proxy stand-in, and
prints p50/p95 over sequential keep-alive requests for: the upstream directly, a public
route, and a route behind single sign-on (one forward-auth call per request). Rate limits
are raised in this copy so the measurement is not throttled.

    .venv/bin/python bench/edge_latency.py [requests]
"""

from __future__ import annotations

import http.client
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.inputs import load_inputs  # noqa: E402
from ops.stackfile import read_stack_config  # noqa: E402
from render.traefik import auth_service, dynamic_config, routed, static_config  # noqa: E402
from tests.support.local_http import SESSION_COOKIE, VALID_SESSION, SignOnStandIn, Upstream  # noqa: E402
from tests.support.traefik_run import TRAEFIK, RunningTraefik  # noqa: E402


def version() -> str:
    done = subprocess.run([TRAEFIK, "version"], capture_output=True, text=True)
    return " ".join(done.stdout.split()[:2]).replace("Version: ", "traefik ")


def measure(send, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        send()
        times.append((time.perf_counter() - started) * 1000)
    return times


def line(label: str, times: list[float]) -> str:
    times = sorted(times)
    p95 = times[int(len(times) * 0.95) - 1]
    return f"{label:<34} p50 {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms   ({len(times)} requests)"


def main(count: int) -> None:
    inputs = load_inputs(read_stack_config("prod").config, "prod")
    catalog, settings = inputs.catalog, inputs.settings
    auth_name = auth_service(catalog)[0]
    upstreams = {n: Upstream(n) for n in routed(catalog) if n != auth_name}
    auth = SignOnStandIn()
    dynamic = dynamic_config(catalog, settings)
    for middleware in dynamic["http"]["middlewares"].values():
        if "rateLimit" in middleware:
            middleware["rateLimit"].update(average=100000, burst=100000)
    workdir = Path(tempfile.mkdtemp(prefix="edge-bench-"))
    proxy = RunningTraefik(static_config(catalog, catalog.services["edge"], settings), dynamic,
                           {n: u.port for n, u in upstreams.items()} | {auth_name: auth.port}, workdir, settings.domain)
    try:
        proxy.wait_ready("/oauth2/sign_in")
        direct = http.client.HTTPConnection("127.0.0.1", upstreams["orchestrator"].port, timeout=5)
        edge = proxy.connection()

        def get_direct():
            direct.request("GET", "/api/x")
            direct.getresponse().read()

        print(f"edge latency on this machine ({version()})")
        print(line("upstream directly (HTTP)", measure(get_direct, count)))
        print(line("public route via the edge (TLS)", measure(lambda: proxy.get("/oauth2/sign_in", conn=edge), count)))
        print(line("route behind single sign-on (TLS)",
                   measure(lambda: proxy.get("/api/x", cookie=f"{SESSION_COOKIE}={VALID_SESSION}", conn=edge), count)))
        direct.close()
        edge.close()
    finally:
        proxy.stop()
        auth.stop()
        for upstream in upstreams.values():
            upstream.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
