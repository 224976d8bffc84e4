"""The redis-persistence rule reads settings the way redis-server does: checked against the real server.

The shipped redis.conf (as uploaded) plus command-line overrides is started with redis-server, and what
the server reports (CONFIG GET) must equal what the rule's parser computed for the same container.
The ACL file and the password are the ones the program uploads into the same container, so the server
runs with the authentication the droplet gets.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import time

import pytest
from policy_helpers import rule_form

from ops.local_servers import free_port
from policies.devtools_policy.redis import effective_config, persistence_problems

# redis-server is installed by scripts/setup-system; without it these tests fail, they do not skip.


def _uploaded(props: dict, file: str) -> str:
    return next(u["content"] for u in props["uploads"] if u["file"] == file)


def _cli(port: int, password: str, *args: str) -> subprocess.CompletedProcess:
    # The password travels in the environment (REDISCLI_AUTH), never on a command line.
    return subprocess.run(["redis-cli", "--no-auth-warning", "-p", str(port), *args], capture_output=True, text=True,
                          timeout=10, env={**os.environ, "REDISCLI_AUTH": password})


def _served(props: dict, port: int, password: str, tmp_path) -> dict[str, str]:
    """Start redis-server as the container would (config file + arguments), on a local port; read its settings."""
    conf = next(u for u in props["uploads"] if u["file"].endswith("redis.conf"))
    path = tmp_path / "redis.conf"
    path.write_text(conf["content"])
    args = [a if a != conf["file"] else str(path) for a in props["command"][1:]]
    server = subprocess.Popen(["redis-server", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(250):
            if _cli(port, password, "ping").stdout.strip() == "PONG":
                break
            assert server.poll() is None, server.stdout.read().decode()
            time.sleep(0.02)
        else:
            pytest.fail("redis-server did not answer")
        # The uploaded ACL is in force: without the password the server lets nobody in.
        anonymous = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, timeout=10)
        assert "NOAUTH" in anonymous.stdout + anonymous.stderr
        settings = {}
        for name in ("appendonly", "appendfsync", "save", "dir"):
            got = _cli(port, password, "config", "get", name)
            assert got.returncode == 0, got.stderr
            settings[name] = got.stdout.splitlines()[1]
        return settings
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def redis_props(shipped_plan, tmp_path):
    props = copy.deepcopy(rule_form(shipped_plan.containers()["redis"].inputs))
    port = free_port()
    # The container's /data is a scratch directory here (Redis changes into it while reading the file).
    conf = next(u for u in props["uploads"] if u["file"].endswith("redis.conf"))
    assert "\ndir /data\n" in conf["content"]
    conf["content"] = conf["content"].replace("\ndir /data\n", f"\ndir {tmp_path}\n")
    # The ACL file the program uploads (rendered from redis_password) is copied here and named instead.
    acl_path = re.search(r"^aclfile (\S+)$", conf["content"], re.MULTILINE).group(1)
    acl = tmp_path / "redis_acl"
    acl.write_text(_uploaded(props, acl_path))
    conf["content"] = conf["content"].replace(f"\naclfile {acl_path}\n", f"\naclfile {acl}\n")
    props["volumes"] = [{"hostPath": str(tmp_path), "containerPath": str(tmp_path), "readOnly": False}]
    # Local port and loopback: command-line overrides, as an operator could add them.
    props["command"] += ["--port", str(port), "--bind", "127.0.0.1"]
    props["_port"] = port
    props["_password"] = _uploaded(props, "/run/secrets/redis_password")
    return props


def _parsed(props: dict) -> dict[str, str]:
    config = effective_config(props)
    save = " ".join(f"{s} {c}" for s, c in (config.save or []))
    return {"appendonly": config.settings.get("appendonly", "no"), "appendfsync": config.settings.get("appendfsync", "everysec"),
            "save": save, "dir": config.settings.get("dir")}


@pytest.mark.parametrize("extra, problems", [
    ([], []),
    (["--appendonly", "no"], ["AOF is off (appendonly no)"]),
    (["--appendfsync", "no"], ["appendfsync no may lose more than a second of writes"]),
    (["--save", ""], ["no RDB snapshot rules (save ...)"]),
    (["--save", "", "--save", "120 5"], []),
    (["--save", "30 100"], []),
    (["--dir", "/"], ["data directory / is not on a persistent volume"]),
])
def test_parser_agrees_with_redis_server(redis_props, tmp_path, extra, problems):
    props = redis_props
    port, password = props.pop("_port"), props.pop("_password")
    props["command"] += extra
    served = _served(props, port, password, tmp_path)
    assert _parsed(props) == served
    assert persistence_problems(props) == problems
