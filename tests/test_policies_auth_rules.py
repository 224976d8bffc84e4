"""redis-authentication, ulimits-set and sign-on-not-weakened: each fires and stays quiet, as functions and
over gRPC; Redis's verdict is checked against a real redis-server."""

from __future__ import annotations

import copy
import os
import subprocess
import time

import pytest
from policy_helpers import CONTAINER, check, rule_form

from ops.analyzer import PolicySetting
from ops.local_servers import free_port
from policies.devtools_policy.redis import auth_problems


def _inputs(shipped_plan, name: str) -> dict:
    return copy.deepcopy(shipped_plan.containers()[name].inputs)


def _upload(inputs: dict, suffix: str) -> dict:
    uploads = inputs["uploads"]
    uploads = uploads["value"] if isinstance(uploads, dict) and "value" in uploads else uploads
    return next(u for u in uploads if u["file"].endswith(suffix))


# --- redis-authentication ------------------------------------------------------------------------

REDIS_CASES = [
    # (id, command-line overrides, ACL file text or None for the shipped one, findings)
    ("shipped: aclfile with a hashed password", [], None, []),
    ("ACL file with nopass", [], "user default on nopass ~* &* +@all\n",
     ["the default user needs no password: any client that reaches Redis is in"]),
    ("ACL file without the default user", [], "user alice on >pw ~* +@all\n",
     ["the default user needs no password: any client that reaches Redis is in"]),
    ("ACL file with a second user on nopass", [], "user default on >pw ~* +@all\nuser bob on nopass ~* +@all\n",
     ["ACL user bob has nopass: anyone can log in as bob"]),
    ("default user off", [], "user default off\nuser alice on >pw ~* +@all\n", []),
]


@pytest.mark.parametrize("case", REDIS_CASES, ids=[c[0] for c in REDIS_CASES])
def test_redis_authentication_as_redis_server_sees_it(case, shipped_plan, tmp_path):
    _, extra, acl_text, expected = case
    props = rule_form(_inputs(shipped_plan, "redis"))
    conf = _upload(props, "redis.conf")
    acl_path = next(line.split()[1] for line in conf["content"].splitlines() if line.startswith("aclfile "))
    acl = next(u for u in props["uploads"] if u["file"] == acl_path)
    if acl_text is not None:
        acl["content"] = acl_text
    props["command"] += extra
    assert check("redis-authentication", CONTAINER, props) == expected
    # The real server, on the same files: does an anonymous client get in?
    port = free_port()
    (tmp_path / "acl").write_text(acl["content"])
    local = conf["content"].replace(f"aclfile {acl_path}", f"aclfile {tmp_path / 'acl'}")
    local = "\n".join(line for line in local.splitlines() if not line.startswith(("dir ", "port ", "bind ")))
    (tmp_path / "redis.conf").write_text(f"{local}\ndir {tmp_path}\nport {port}\nbind 127.0.0.1\n")
    server = subprocess.Popen(["redis-server", str(tmp_path / "redis.conf"), *extra], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    try:
        answer = ""
        for _ in range(250):
            answer = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, timeout=10,
                                    env={k: v for k, v in os.environ.items() if k != "REDISCLI_AUTH"}).stdout.strip()
            if answer in ("PONG",) or "NOAUTH" in answer:
                break
            assert server.poll() is None, server.stdout.read().decode()
            time.sleep(0.02)
        default_open = answer == "PONG"
        assert default_open == any("default user" in m for m in expected), answer
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_redis_without_any_authentication_is_refused(shipped_plan):
    props = rule_form(_inputs(shipped_plan, "redis"))
    props["command"] = ["redis-server", "--appendonly", "yes"]
    assert auth_problems(props) == ["the default user needs no password: any client that reaches Redis is in"]
    props["command"] += ["--requirepass", "x" * 32]
    assert auth_problems(props) == []
    props["command"] += ["--user", "ops on nopass ~* +@all"]
    assert auth_problems(props) == ["ACL user ops has nopass: anyone can log in as ops"]


# --- ulimits-set ---------------------------------------------------------------------------------

def test_ulimits_set(shipped_plan):
    props = rule_form(_inputs(shipped_plan, "grafana"))
    assert props["ulimits"] == [{"name": "nofile", "soft": 65536, "hard": 65536}]
    assert check("ulimits-set", CONTAINER, props) == []
    props["ulimits"] = []
    assert check("ulimits-set", CONTAINER, props) == ["no open-files limit (ulimits nofile): the container gets the daemon's default"]
    props["ulimits"] = [{"name": "nofile", "soft": 10, "hard": 5}]
    assert check("ulimits-set", CONTAINER, props) == ["ulimits nofile needs a soft limit of at least 1 and no higher than its hard limit"]


def test_catalog_ulimits_reach_the_container(catalog, tmp_path):
    from tests.conftest import run_plan
    catalog["services"]["postgres"]["ulimits"] = {"nofile": {"soft": 4096, "hard": 8192}, "nproc": 512}
    plan = run_plan(catalog, tmp_path)
    limits = {u["name"]: (u["soft"], u["hard"]) for u in plan.containers()["postgres"].inputs["ulimits"]}
    assert limits == {"nofile": (4096, 8192), "nproc": (512, 512)}


# --- sign-on-not-weakened ------------------------------------------------------------------------

SSO_CASES = [
    ("cookie not secure (flag)", lambda p: p["command"].append("--cookie-secure=false"), "cookie_secure is false"),
    ("cookie not secure (env)", lambda p: p["envs"].append("OAUTH2_PROXY_COOKIE_SECURE=false"), "cookie_secure is false"),
    ("cookie readable by scripts", lambda p: p["command"].append("--cookie-httponly=false"), "cookie_httponly is false"),
    ("any account signs in", lambda p: _cfg(p, lambda t: t.replace('github_org = "appsmithery"\n', "")), "email_domains is *"),
    ("skip auth routes", lambda p: p["command"].append("--skip-auth-route=^/api"), "skip_auth_routes is set"),
    ("TLS not verified", lambda p: p["command"].append("--ssl-insecure-skip-verify"), "ssl_insecure_skip_verify is true"),
    ("config file not TOML", lambda p: _cfg(p, lambda t: t + "this is = = not toml\n"), "is not TOML"),
]


def _cfg(props: dict, change) -> None:
    cfg = _upload(props, "oauth2-proxy.cfg")
    cfg["content"] = change(cfg["content"])


@pytest.mark.parametrize("case", SSO_CASES, ids=[c[0] for c in SSO_CASES])
def test_sign_on_not_weakened(case, shipped_plan):
    _, weaken, words = case
    props = rule_form(_inputs(shipped_plan, "oauth2-proxy"))
    assert 'github_org = "appsmithery"' in _upload(props, "oauth2-proxy.cfg")["content"]
    assert check("sign-on-not-weakened", CONTAINER, props) == []
    weaken(props)
    found = check("sign-on-not-weakened", CONTAINER, props)
    assert any(words in m for m in found), found


# --- over gRPC -----------------------------------------------------------------------------------

def test_the_new_rules_fire_and_stay_quiet_over_grpc(policy_pack, shipped_plan):
    info = policy_pack.info()
    policy_pack.configure({p.name: PolicySetting(p.enforcement, {}) for p in info.policies})
    new = {"redis-authentication", "ulimits-set", "sign-on-not-weakened"}
    for name in ("redis", "oauth2-proxy", "grafana"):
        assert not {v.policy for v in policy_pack.analyze(shipped_plan.containers()[name])} & new, name
    redis = copy.deepcopy(shipped_plan.containers()["redis"])
    redis.inputs["command"] = ["redis-server", "--appendonly", "yes", "--dir", "/data"]
    redis.inputs["ulimits"] = []
    sso = copy.deepcopy(shipped_plan.containers()["oauth2-proxy"])
    sso.inputs["command"] = [*sso.inputs["command"], "--cookie-secure=false"]
    found = {(v.policy, v.enforcement) for r in (redis, sso) for v in policy_pack.analyze(r)}
    assert {("redis-authentication", "mandatory"), ("ulimits-set", "mandatory"),
            ("sign-on-not-weakened", "mandatory")} <= found
