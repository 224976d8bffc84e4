"""Hostile inputs: catalogs, stack files and .env files a careless or malicious operator could write.

Each case names the key its problem must name. The tests in test_hostile_inputs.py run every
case through `preview` and `validate-env` and count what was refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def svc(catalog: dict, name: str) -> dict:
    return catalog["services"][name]


def limits(catalog: dict, name: str) -> dict:
    return svc(catalog, name)["deploy"]["resources"]["limits"]


def reservations(catalog: dict, name: str) -> dict:
    return svc(catalog, name)["deploy"]["resources"]["reservations"]


@dataclass(frozen=True)
class CatalogCase:
    id: str
    breaks: Callable[[dict], object]
    key: str  # the key the message must name (a prefix of it is enough for list items)


def _two_edges(c: dict) -> None:
    c["services"]["edge2"] = {**svc(c, "edge"), "ports": [], "port": 8443, "metrics": {"path": "/metrics", "port": 8083}}


def _renderer_on(c: dict, service: str, config: str) -> None:
    svc(c, service).setdefault("configs", []).append({"source": config, "target": f"/etc/{config}.conf"})


def _all_services_broken(c: dict) -> None:
    for body in c["services"].values():
        body["colour"] = "blue"


CATALOG_CASES: list[CatalogCase] = [
    # ports the edge publishes
    CatalogCase("edge port without host part", lambda c: svc(c, "edge").update(ports=["443"]), "services.edge.ports"),
    CatalogCase("edge port with a scheme", lambda c: svc(c, "edge").update(ports=["https:443"]), "services.edge.ports"),
    CatalogCase("edge port udp", lambda c: svc(c, "edge").update(ports=["443:443/udp"]), "services.edge.ports"),
    CatalogCase("edge port out of range", lambda c: svc(c, "edge").update(ports=["70000:443"]), "services.edge.ports"),
    CatalogCase("edge port bad ip", lambda c: svc(c, "edge").update(ports=["999.1.1.1:443:443"]), "services.edge.ports"),
    CatalogCase("edge port a number", lambda c: svc(c, "edge").update(ports=[443]), "services.edge.ports"),
    # routes: rule injection, rate limits
    CatalogCase("rule injection in a public prefix",
                lambda c: svc(c, "gateway-mcp")["route"].update(path_prefix="/mcp`) || PathPrefix(`/api", public=True),
                "services.gateway-mcp.route.path_prefix"),
    CatalogCase("rule injection with quotes",
                lambda c: svc(c, "grafana")["route"].update(path_prefix='/grafana") || Host("x'), "services.grafana.route.path_prefix"),
    CatalogCase("prefix with a space", lambda c: svc(c, "grafana")["route"].update(path_prefix="/graf ana"),
                "services.grafana.route.path_prefix"),
    CatalogCase("prefix walking up", lambda c: svc(c, "grafana")["route"].update(path_prefix="/grafana/../api"),
                "services.grafana.route.path_prefix"),
    CatalogCase("prefix with a trailing newline", lambda c: svc(c, "grafana")["route"].update(path_prefix="/grafana\n"),
                "services.grafana.route.path_prefix"),
    CatalogCase("prefix with a regex", lambda c: svc(c, "grafana")["route"].update(path_prefix="/{x:.*}"),
                "services.grafana.route.path_prefix"),
    CatalogCase("huge rate limit", lambda c: svc(c, "orchestrator")["route"]["rate_limit"].update(average=10**30),
                "services.orchestrator.route.rate_limit.average"),
    CatalogCase("huge burst", lambda c: svc(c, "orchestrator")["route"]["rate_limit"].update(burst=2**63),
                "services.orchestrator.route.rate_limit.burst"),
    CatalogCase("zero rate limit", lambda c: svc(c, "orchestrator")["route"]["rate_limit"].update(average=0),
                "services.orchestrator.route.rate_limit.average"),
    # renderers and mounts
    CatalogCase("redis.conf on a service without volume", lambda c: _renderer_on(c, "cicd", "redis_conf"),
                "services.cicd.configs"),
    CatalogCase("traefik static on a service without metrics port", lambda c: _renderer_on(c, "cicd", "traefik_static"),
                "services.cicd.configs"),
    CatalogCase("loki config on a service without volume", lambda c: _renderer_on(c, "cicd", "loki_yaml"),
                "services.cicd.configs"),
    CatalogCase("two configs on one target",
                lambda c: svc(c, "edge")["configs"].append({"source": "traefik_dynamic", "target": "/etc/traefik/traefik.yml"}),
                "services.edge"),
    CatalogCase("config target relative", lambda c: svc(c, "edge")["configs"][0].update(target="etc/traefik.yml"),
                "services.edge.configs[0].target"),
    CatalogCase("config target walking up", lambda c: svc(c, "edge")["configs"][0].update(target="/etc/../../root/x"),
                "services.edge.configs[0].target"),
    CatalogCase("two edges", _two_edges, "services.edge2"),
    # volumes
    CatalogCase("volume path with ..", lambda c: svc(c, "redis").update(volumes=["redis-data:/data/../../etc"]),
                "services.redis.volumes"),
    CatalogCase("volume path relative", lambda c: svc(c, "redis").update(volumes=["redis-data:data"]), "services.redis.volumes"),
    CatalogCase("host path writable", lambda c: svc(c, "cadvisor").update(volumes=["/var/run/docker.sock:/var/run/docker.sock"]),
                "services.cadvisor.volumes"),
    CatalogCase("host path with ..", lambda c: svc(c, "cadvisor").update(volumes=["/proc/../etc:/host/etc:ro"]),
                "services.cadvisor.volumes"),
    CatalogCase("volume mode unknown", lambda c: svc(c, "redis").update(volumes=["redis-data:/data:z"]), "services.redis.volumes"),
    # quantities
    CatalogCase("cpus tiny", lambda c: limits(c, "cicd").update(cpus=1e-7), "services.cicd.deploy.resources.limits.cpus"),
    CatalogCase("cpus nan", lambda c: limits(c, "cicd").update(cpus="nan"), "services.cicd.deploy.resources.limits.cpus"),
    CatalogCase("cpus inf", lambda c: limits(c, "cicd").update(cpus=float("inf")), "services.cicd.deploy.resources.limits.cpus"),
    CatalogCase("cpus a boolean", lambda c: limits(c, "cicd").update(cpus=True), "services.cicd.deploy.resources.limits.cpus"),
    CatalogCase("cpus a list", lambda c: limits(c, "cicd").update(cpus=[1]), "services.cicd.deploy.resources.limits.cpus"),
    CatalogCase("memory one byte", lambda c: limits(c, "cicd").update(memory=1), "services.cicd.deploy.resources.limits.memory"),
    CatalogCase("memory negative", lambda c: reservations(c, "cicd").update(memory=-5),
                "services.cicd.deploy.resources.reservations.memory"),
    CatalogCase("memory huge", lambda c: limits(c, "cicd").update(memory="99999999G"),
                "services.cicd.deploy.resources.limits.memory"),
    CatalogCase("memory a mapping", lambda c: limits(c, "cicd").update(memory={"a": 1}),
                "services.cicd.deploy.resources.limits.memory"),
    # durations and health checks
    CatalogCase("interval zero", lambda c: svc(c, "cicd")["healthcheck"].update(interval="0s"), "services.cicd.healthcheck.interval"),
    CatalogCase("interval a year", lambda c: svc(c, "cicd")["healthcheck"].update(interval="8760h"),
                "services.cicd.healthcheck.interval"),
    CatalogCase("interval without unit", lambda c: svc(c, "cicd")["healthcheck"].update(interval=30),
                "services.cicd.healthcheck.interval"),
    CatalogCase("health path with a space", lambda c: svc(c, "cicd")["healthcheck"].update(path="/health; rm -rf /"),
                "services.cicd.healthcheck.path"),
    CatalogCase("readiness with a quote", lambda c: svc(c, "cicd")["readiness"].update(path="/ready'"), "services.cicd.readiness.path"),
    CatalogCase("retries huge", lambda c: svc(c, "cicd")["healthcheck"].update(retries=10**9), "services.cicd.healthcheck.retries"),
    CatalogCase("health test with NUL", lambda c: svc(c, "edge")["healthcheck"].update(test=["CMD", "a\x00b"]),
                "services.edge.healthcheck.test"),
    # environment
    CatalogCase("env key with =", lambda c: svc(c, "cicd")["environment"].update({"A=B": "x"}), "services.cicd.environment"),
    CatalogCase("env key with a space", lambda c: svc(c, "cicd")["environment"].update({"A B": "x"}), "services.cicd.environment"),
    CatalogCase("env key with a newline", lambda c: svc(c, "cicd")["environment"].update({"A\nB": "x"}), "services.cicd.environment"),
    CatalogCase("env key starting with a digit", lambda c: svc(c, "cicd")["environment"].update({"1A": "x"}),
                "services.cicd.environment"),
    CatalogCase("env value a mapping", lambda c: svc(c, "cicd")["environment"].update(LOG_LEVEL={"a": 1}),
                "services.cicd.environment.LOG_LEVEL"),
    CatalogCase("env value a list", lambda c: svc(c, "cicd")["environment"].update(LOG_LEVEL=["a"]),
                "services.cicd.environment.LOG_LEVEL"),
    CatalogCase("env value with a newline", lambda c: svc(c, "cicd")["environment"].update(LOG_LEVEL="info\nEVIL=1"),
                "services.cicd.environment"),
    CatalogCase("env value with NUL", lambda c: svc(c, "cicd")["environment"].update(LOG_LEVEL="info\x00"),
                "services.cicd.environment"),
    CatalogCase("secret env name with a space", lambda c: svc(c, "oauth2-proxy")["secrets"][0].update(env="A B"),
                "services.oauth2-proxy.secrets[0].env"),
    # images
    CatalogCase("image with a space", lambda c: svc(c, "cicd").update(image="ghcr.io/acme/cicd:1.0 --privileged"),
                "services.cicd.image"),
    CatalogCase("image upper case", lambda c: svc(c, "cicd").update(image="ghcr.io/Acme/cicd:1.0"), "services.cicd.image"),
    CatalogCase("image empty", lambda c: svc(c, "cicd").update(image=""), "services.cicd.image"),
    CatalogCase("image bad digest", lambda c: svc(c, "cicd").update(image="redis@sha256:xyz"), "services.cicd.image"),
    CatalogCase("image a number", lambda c: svc(c, "cicd").update(image=7), "services.cicd.image"),
    # other fields
    CatalogCase("user with a space", lambda c: svc(c, "cicd").update(user="root --privileged"), "services.cicd.user"),
    CatalogCase("capability lower case", lambda c: svc(c, "edge").update(cap_add=["net bind"]), "services.edge.cap_add"),
    CatalogCase("command with NUL", lambda c: svc(c, "oauth2-proxy").update(command=["--x\x00"]), "services.oauth2-proxy.command"),
    CatalogCase("command a string", lambda c: svc(c, "oauth2-proxy").update(command="--config=/x"), "services.oauth2-proxy.command"),
    CatalogCase("networks a string", lambda c: svc(c, "cicd").update(networks="app"), "services.cicd.networks"),
    CatalogCase("read_only yes", lambda c: svc(c, "cicd").update(read_only="maybe"), "services.cicd.read_only"),
    CatalogCase("ulimit soft above hard", lambda c: svc(c, "cicd").update(ulimits={"nofile": {"soft": 10, "hard": 5}}),
                "services.cicd.ulimits.nofile"),
    CatalogCase("ulimit unknown name", lambda c: svc(c, "cicd").update(ulimits={"files": 1024}), "services.cicd.ulimits"),
    CatalogCase("ulimit nofile too large", lambda c: svc(c, "cicd").update(ulimits={"nofile": 10**9}), "services.cicd.ulimits"),
    CatalogCase("services a list", lambda c: c.update(services=[]), "services"),
    CatalogCase("every service broken", _all_services_broken, "services.edge.colour"),
    CatalogCase("version 2", lambda c: c.update(version=2), "version"),
    CatalogCase("service name a number", lambda c: c["services"].update({7: {}}), "services.7"),
    CatalogCase("network a string", lambda c: c["networks"].update(edge="public"), "networks.edge"),
]

# Catalog files that are not even YAML a model can read.
RAW_CATALOGS: list[tuple[str, bytes, str]] = [
    ("not UTF-8", b"version: 1\nservices:\n  caf\xe9: {}\n", "byte"),
    ("deep nesting", b"version: 1\nx-deep: " + b"[" * 5000 + b"]" * 5000 + b"\n", "(file)"),
    ("deep mappings", b"version: 1\nx-deep: " + b"{a: " * 200 + b"1" + b"}" * 200 + b"\n", "(file)"),
    ("NUL byte", b"version: 1\x00\n", "(file)"),
    ("list key", b"version: 1\n? [a, b]\n: 1\n", "line"),
    ("python tag", b"version: !!python/object/apply:os.system ['true']\n", "line"),
    ("only a scalar", b"42\n", "(top level)"),
]


# Stack file changes: (id, key, value or None to delete, key named).
STACK_CASES: list[tuple[str, str, object, str]] = [
    ("region free text", "devtools:region", "new york", "devtools:region"),
    ("region unknown", "devtools:region", "mars1", "devtools:region"),
    ("droplet image free text", "devtools:dropletImage", "ubuntu; rm -rf /", "devtools:dropletImage"),
    ("ssh key free text", "devtools:sshKeys", ["my laptop key"], "devtools:sshKeys"),
    ("tag with a space", "devtools:tags", ["dev tools"], "devtools:tags"),
    ("log size injection", "devtools:logMaxSize", "10m --privileged", "devtools:logMaxSize"),
    ("log size word", "devtools:logMaxSize", "abc", "devtools:logMaxSize"),
    ("log size zero", "devtools:logMaxSize", "0m", "devtools:logMaxSize"),
    ("log files zero", "devtools:logMaxFiles", 0, "devtools:logMaxFiles"),
    ("log files word", "devtools:logMaxFiles", "many", "devtools:logMaxFiles"),
    ("reserve equal to the droplet", "devtools:hostMemoryReserve", "16G", "devtools:hostMemoryReserve"),
    ("reserve larger than the droplet", "devtools:hostMemoryReserve", "64G", "devtools:hostMemoryReserve"),
    ("reserve negative", "devtools:hostMemoryReserve", -1, "devtools:hostMemoryReserve"),
    ("image tag with a space", "devtools:imageTags", {"cicd": "1.0 x"}, "devtools:imageTags"),
    ("client id with a newline", "devtools:ssoClientId", "abc\ndef", "devtools:ssoClientId"),
    ("github org with a slash", "devtools:ssoGithubOrg", "acme/evil", "devtools:ssoGithubOrg"),
    ("domain with a backtick", "devtools:domain", "devtools.acme.io`) || Host(`x", "devtools:domain"),
    ("empty secure", "devtools:linearOauthToken", {"secure": ""}, "devtools:linearOauthToken"),
    ("secure not text", "devtools:linearOauthToken", {"secure": 5}, "devtools:linearOauthToken"),
    ("domain with a trailing newline", "devtools:domain", "devtools.acme.io\n", "devtools:domain"),
    ("region with a trailing newline", "devtools:region", "nyc3\n", "devtools:region"),
    ("volume size word", "devtools:volumeSizeGb", "big", "devtools:volumeSizeGb"),
]


# .env lines (appended to a good .env, replacing the line of the same key) that must be refused
# without printing the secret: (id, line, key named). SECRET is what must never be printed.
SECRET = "hV7-hostile-Secret-9qZ"
ENV_CASES: list[tuple[str, str, str]] = [
    ("credentials in an unknown URL", f"EVENTS_URL=redis://:{SECRET}@redis:6379/0", "EVENTS_URL"),
    ("text after the closing quote", f'LINEAR_OAUTH_TOKEN="{SECRET}"{SECRET}', "line"),
    ("unquoted # cuts a secret", f"LINEAR_OAUTH_TOKEN={SECRET} #{SECRET}", "LINEAR_OAUTH_TOKEN"),
    ("unclosed quote", f"GRADIENT_API_KEY='{SECRET}", "line"),
    ("placeholder prefix on a secret", f"GRADIENT_API_KEY=TODO-{SECRET}", "GRADIENT_API_KEY"),
    ("key with a space", f"MY KEY={SECRET}", "line"),
    ("secret pasted as the domain", f"DOMAIN={SECRET}", "DOMAIN"),
    ("secret pasted as an e-mail", f"ACME_EMAIL={SECRET}", "ACME_EMAIL"),
    ("secret among the CIDRs", f"ADMIN_CIDRS=198.51.100.7/32,{SECRET}", "ADMIN_CIDRS"),
    ("secret as an unknown e-mail", f"ONCALL_EMAIL={SECRET}", "ONCALL_EMAIL"),
    ("secret set twice", f"SSO_CLIENT_SECRET={SECRET}\nSSO_CLIENT_SECRET={SECRET}x", "SSO_CLIENT_SECRET"),
    ("secret in a bad region", f"REGION={SECRET}", "REGION"),
    ("secret in an ssh key", f"SSH_KEYS={SECRET}", "SSH_KEYS"),
    ("key without =", SECRET, "line"),
]
