"""Health probes: each tool's command, run for real against a local server, and only tools the image has."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ops.local_servers import free_port
from render.probes import probe_argv
from tests.support.local_http import LocalServer

# The probe commands call the tool by its name in the image; here each name maps to the local binary.
TOOLS = {"curl": shutil.which("curl"), "python": shutil.which("python3"), "node": shutil.which("node")}


def answer(method, path, headers):
    return {"/health": (200, {}, b"ok"), "/redirect": (302, {"Location": "/health"}, b"")}.get(path, (500, {}, b"boom"))


@pytest.fixture(scope="module")
def server():
    s = LocalServer(answer)
    yield s
    s.stop()


def probe(tool: str, port: int, path: str) -> int:
    argv = probe_argv(tool, port, path, timeout=3)
    assert argv[0] == tool
    return subprocess.run([TOOLS[tool], *argv[1:]], capture_output=True, timeout=30).returncode


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_probe_passes_on_a_healthy_answer(server, tool):
    assert probe(tool, server.port, "/health") == 0


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_probe_fails_on_an_error_answer(server, tool):
    assert probe(tool, server.port, "/broken") != 0


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_probe_fails_when_nothing_listens(tool):
    assert probe(tool, free_port(), "/health") != 0
