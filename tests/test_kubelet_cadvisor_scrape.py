"""The cluster's container-metrics job, run by a real Prometheus against a kubelet stand-in on loopback.

The kubelet's cAdvisor endpoint (behind the API server proxy) is served by a small HTTP server with
series labelled as the kubelet labels them (`namespace`, `pod`, `container`). Debian's Prometheus has no
Kubernetes discovery, so the job's `role: node` block becomes a file one giving the node's name label, and
the API server address becomes the stand-in's; the path, token, relabelling and rules are the cluster's.
The container alerts must then fire for the service over its limit and stay quiet for the others.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from conftest import run_plan
from support.kubernetes_manifests import by_kind, manifests

from ops.local_servers import free_port, stop, wait_for_port
from targets.kubernetes.prometheus import API_SERVER

NODE, TOKEN = "node-a", "service-account-token"
HOT, COOL = 10**15, 1  # bytes of working set: over any catalog limit, and under every one


class _Kubelet(BaseHTTPRequestHandler):
    body = ""
    seen: list[tuple[str, str | None]] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        payload = self.body.encode() if self.path == f"/api/v1/nodes/{NODE}/proxy/metrics/cadvisor" else b""
        self.send_response(200 if payload else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def _series(hot: str, cool: str) -> str:
    lines = ["# TYPE container_memory_working_set_bytes gauge"]
    for namespace, container, value in (("devtools", hot, HOT), ("devtools", cool, COOL), ("kube-system", cool, HOT)):
        lines.append(f'container_memory_working_set_bytes{{namespace="{namespace}",pod="{container}-0",'
                     f'container="{container}"}} {value}')
    return "\n".join(lines) + "\n"


def _query(port: int, expr: str) -> list:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)["data"]["result"]


def _scraped(port: int) -> bool:
    try:
        return bool(_query(port, "container_memory_working_set_bytes"))
    except urllib.error.URLError:  # listening, not ready yet (503)
        return False


@pytest.fixture(scope="module")
def cluster_files():
    (config_map,) = [d for d in by_kind(manifests(run_plan(stack="prod-k8s")), "ConfigMap")
                     if "prometheus_yml" in d.get("data", {})]
    return yaml.safe_load(config_map["data"]["prometheus_yml"]), yaml.safe_load(config_map["data"]["prometheus_rules"])


def test_container_alerts_fire_on_the_kubelet_series_of_the_platform_namespace_only(cluster_files, tmp_path):
    config, rules = cluster_files
    (job,) = [j for j in config["scrape_configs"] if j["kubernetes_sd_configs"] == [{"role": "node"}]]
    memory = {g["name"].split(":", 1)[1]: r["expr"] for g in rules["groups"] if g["name"].startswith("service:")
              for r in g["rules"] if r.get("alert") == "HighMemoryUsage"}
    hot, cool = sorted(memory)[:2]
    _Kubelet.body, _Kubelet.seen = _series(hot, cool), []
    kubelet_port, prometheus_port = free_port(), free_port()
    server = ThreadingHTTPServer(("127.0.0.1", kubelet_port), _Kubelet)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    (tmp_path / "token").write_text(TOKEN)
    (tmp_path / "nodes.json").write_text(json.dumps([{"targets": ["discovered"], "labels": {"__meta_kubernetes_node_name": NODE}}]))
    del job["kubernetes_sd_configs"], job["tls_config"]
    job.update(scheme="http", scrape_interval="1s", file_sd_configs=[{"files": [str(tmp_path / "nodes.json")]}],
               authorization={"credentials_file": str(tmp_path / "token")})
    for relabel in job["relabel_configs"]:
        if relabel.get("replacement") == API_SERVER:
            relabel["replacement"] = f"127.0.0.1:{kubelet_port}"
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({"global": {"scrape_interval": "1s"}, "scrape_configs": [job]}))
    process = subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                                f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{prometheus_port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(prometheus_port)
        deadline = time.monotonic() + 30
        while not _scraped(prometheus_port) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _Kubelet.seen and all(auth == f"Bearer {TOKEN}" for _, auth in _Kubelet.seen)
        assert {path for path, _ in _Kubelet.seen} == {f"/api/v1/nodes/{NODE}/proxy/metrics/cadvisor"}
        kept = _query(prometheus_port, "container_memory_working_set_bytes")
        assert {s["metric"]["namespace"] for s in kept} == {"devtools"}  # other namespaces dropped
        assert len(_query(prometheus_port, memory[hot])) == 1
        assert _query(prometheus_port, memory[cool]) == []
    finally:
        stop(process)
        server.shutdown()
