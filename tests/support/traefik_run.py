"""Run the rendered Traefik configuration with the real traefik binary on 127.0.0.1.

Only what cannot work on a test machine is rewritten: listen addresses (free local
ports), ACME (no certificate authority here: routers keep TLS and get Traefik's
self-signed default certificate), the dynamic file's path, and the upstreams'
addresses (network aliases become 127.0.0.1 ports). Routers, middlewares, rate
limits and health checks run as rendered.
"""

from __future__ import annotations

import copy
import http.client
import shutil
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

from ops.local_servers import free_port, stop

TRAEFIK = shutil.which("traefik") or str(Path(sys.executable).parent / "traefik")


def _local_url(url: str, ports: dict[str, int]) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{ports[parts.hostname]}"))


def localise(static: dict, dynamic: dict, ports: dict[str, int], workdir: Path,
             acme_ca: str | None = None) -> tuple[dict, dict, dict[str, int]]:
    """Copies of both documents bound to 127.0.0.1; returns them and the entry points' local ports.

    Without `acme_ca`, ACME is left out (routers get the default certificate); with it, ACME
    stays as rendered but asks that local address instead of Let's Encrypt.
    """
    static, dynamic = copy.deepcopy(static), copy.deepcopy(dynamic)
    entry_ports = {}
    for name, entry in static["entryPoints"].items():
        entry_ports[name] = free_port()
        entry["address"] = f"127.0.0.1:{entry_ports[name]}"
    static["providers"]["file"]["filename"] = str(workdir / "routes.yml")
    static["log"] = {"level": "DEBUG" if acme_ca else "INFO", "filePath": str(workdir / "traefik.log")}
    static["accessLog"]["filePath"] = str(workdir / "access.log")
    if acme_ca:
        for resolver in static["certificatesResolvers"].values():
            resolver["acme"]["storage"] = str(workdir / "acme.json")
            resolver["acme"]["caServer"] = acme_ca
    else:
        static.pop("certificatesResolvers", None)
        for router in dynamic["http"]["routers"].values():
            router["tls"].pop("certResolver", None)
    for service in dynamic["http"]["services"].values():
        for server in service["loadBalancer"]["servers"]:
            server["url"] = _local_url(server["url"], ports)
    for middleware in dynamic["http"]["middlewares"].values():
        if "forwardAuth" in middleware:
            middleware["forwardAuth"]["address"] = _local_url(middleware["forwardAuth"]["address"], ports)
    return static, dynamic, entry_ports


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


class RunningTraefik:
    def __init__(self, static: dict, dynamic: dict, ports: dict[str, int], workdir: Path, host: str,
                 acme_ca: str | None = None):
        self.host = host
        self.workdir = workdir
        static, dynamic, self.entry_ports = localise(static, dynamic, ports, workdir, acme_ca)
        self.static_file = workdir / "traefik.yml"
        self.static_file.write_text(yaml.safe_dump(static))
        (workdir / "routes.yml").write_text(yaml.safe_dump(dynamic))
        self.output = open(workdir / "stdout.log", "wb")
        self.process = subprocess.Popen([TRAEFIK, f"--configFile={self.static_file}"],
                                        stdout=self.output, stderr=subprocess.STDOUT)
        self.tls = ssl.create_default_context()
        self.tls.check_hostname = False
        self.tls.verify_mode = ssl.CERT_NONE

    def wait_ready(self, probe_path: str, timeout: float = 20.0) -> None:
        """Until ping answers and the router for `probe_path` exists (not 404)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"traefik exited {self.process.returncode}:\n{self.logs()}")
            try:
                if self.get(probe_path).status != 404:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"traefik did not serve {probe_path} within {timeout}s:\n{self.logs()}")

    def connection(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.entry_ports["websecure"], context=self.tls, timeout=5)

    def get(self, path: str, cookie: str | None = None, conn: http.client.HTTPSConnection | None = None) -> Response:
        own = conn is None
        conn = conn or self.connection()
        headers = {"Host": self.host}
        if cookie:
            headers["Cookie"] = cookie
        try:
            conn.request("GET", path, headers=headers)
            answer = conn.getresponse()
            return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read().decode())
        finally:
            if own:
                conn.close()

    def get_plain(self, path: str) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.entry_ports["web"], timeout=5)
        try:
            conn.request("GET", path, headers={"Host": self.host})
            answer = conn.getresponse()
            return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read().decode())
        finally:
            conn.close()

    def logs(self) -> str:
        parts = []
        for name in ("stdout.log", "traefik.log"):
            path = self.workdir / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    def stop(self) -> None:
        stop(self.process)
        self.output.close()
