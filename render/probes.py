"""HTTP health probes built from the tool the service's image has.

Slim images lack curl (node:18-slim, python:3.11-slim), so a curl check there never passes
and the deploy waits for a healthy container for ever. The catalog names the tool
(`healthcheck.probe`), and each command here asks the path with that tool alone: success
on a 2xx/3xx answer within the timeout, failure otherwise. Targets wrap the argv in their
own form (Docker's `CMD`, a Kubernetes exec probe).
"""

from __future__ import annotations

_PYTHON = (
    "import sys, urllib.request\n"
    "try:\n"
    "    urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2]))\n"
    "except Exception as exc:\n"
    "    sys.exit(f'unhealthy: {exc}')\n"
)
_NODE = (
    "const t = Number(process.argv[2]) * 1000;"
    "const r = require('http').get(process.argv[1], {timeout: t}, (res) => process.exit(res.statusCode < 400 ? 0 : 1));"
    "r.on('timeout', () => r.destroy(new Error('timeout')));"
    "r.on('error', (e) => { console.error('unhealthy: ' + e.message); process.exit(1); });"
)


def probe_argv(tool: str, port: int, path: str, timeout: float) -> list[str]:
    url = f"http://127.0.0.1:{port}{path}"
    seconds = f"{timeout:g}"
    if tool == "curl":
        return ["curl", "-fsS", "-o", "/dev/null", "--max-time", seconds, url]
    if tool == "python":
        return ["python", "-c", _PYTHON, url, seconds]
    if tool == "node":
        return ["node", "-e", _NODE, url, seconds]
    raise ValueError(f"no probe for tool {tool!r}")
