"""No catalog value changes the edge's security: hostile catalogs are refused, the accepted extremes run safely.

The accepted variants are rendered and run by the real traefik binary: anonymous requests (with
path tricks) never reach a protected upstream, and every route stays loaded, so no value makes
Traefik drop its dynamic file while its ping health check keeps passing.
"""

from __future__ import annotations

import pytest
import yaml

from catalog.errors import InputError
from catalog.inputs import load_inputs
from catalog.services import MAX_BURST, MAX_RATE, Route
from ops.stackfile import read_stack_config
from render.traefik import UnsafeRuleValue, auth_service, dynamic_config, routed, static_config
from tests.conftest import shipped_catalog
from tests.support.local_http import SESSION_COOKIE, VALID_SESSION, SignOnStandIn, Upstream
from tests.support.traefik_run import RunningTraefik

SIGNED_IN = f"{SESSION_COOKIE}={VALID_SESSION}"


def _routes(catalog: dict) -> dict[str, dict]:
    return {name: body["route"] for name, body in catalog["services"].items() if "route" in body}


def extreme_rate_limits(catalog: dict) -> None:
    for route in _routes(catalog).values():
        route["rate_limit"] = {"average": MAX_RATE, "burst": MAX_BURST}
    catalog["services"]["grafana"]["route"]["path_prefix"] = "/gra.f~a_n-a/"


def public_neighbours(catalog: dict) -> None:
    # Public routes whose prefixes share text with protected ones: /ap beside /api, /mcp-docs beside /mcp.
    catalog["services"]["grafana"]["route"].update(path_prefix="/ap", public=True)
    catalog["services"]["documentation"]["route"] = {"path_prefix": "/mcp-docs", "public": True}
    catalog["services"]["documentation"]["networks"] = [*catalog["services"]["documentation"]["networks"], "edge"]


def public_root(catalog: dict) -> None:
    catalog["services"]["grafana"]["route"].update(path_prefix="/", public=True)


VARIANTS = [extreme_rate_limits, public_neighbours, public_root]


def _load(catalog: dict, tmp_path):
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    stack = read_stack_config("prod", str(path))
    return load_inputs(stack.config, "prod")


def _tricks(prefix: str) -> list[str]:
    """Anonymous request paths aimed at a protected prefix: case, slashes, encodings, dot segments."""
    return [prefix, f"{prefix}/", f"{prefix}/tasks", f"{prefix.upper()}/tasks", f"/{prefix}/tasks",
            f"{prefix}%2Ftasks", f"{prefix}/%2e%2e/tasks", f"/x/..{prefix}/tasks", f"{prefix}/./tasks",
            f"{prefix}?x=1", f"{prefix};/tasks", f"{prefix}/tasks#frag"]


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.__name__ for v in VARIANTS])
def test_accepted_extremes_keep_every_protected_route_behind_sign_on(variant, tmp_path):
    data = shipped_catalog()
    variant(data)
    inputs = _load(data, tmp_path)
    catalog, settings = inputs.catalog, inputs.settings
    auth_name, auth_spec = auth_service(catalog)
    upstreams = {name: Upstream(name, svc.healthcheck.path or "/health", svc.readiness.path)
                 for name, svc in routed(catalog).items() if name != auth_name}
    auth = SignOnStandIn(auth_spec.route.path_prefix)
    ports = {name: up.port for name, up in upstreams.items()} | {auth_name: auth.port}
    proxy = RunningTraefik(static_config(catalog, catalog.services["edge"], settings), dynamic_config(catalog, settings),
                           ports, tmp_path, settings.domain)
    try:
        proxy.wait_ready(f"{auth.prefix}/sign_in")
        protected = {n: s.route.path_prefix.rstrip("/") for n, s in routed(catalog).items() if not s.route.public}
        assert protected, "the variant keeps routes behind single sign-on"
        for name, prefix in protected.items():
            before = len(upstreams[name].traffic())
            for path in _tricks(prefix):
                answer = proxy.get(path)
                assert answer.status != 200 or not answer.body.startswith(f"{name} "), (path, answer.status)
            assert len(upstreams[name].traffic()) == before, f"an anonymous request reached {name}"
            # ... and the route is loaded: a signed-in request gets through.
            assert proxy.get(f"{prefix}/tasks", cookie=SIGNED_IN).body.startswith(f"{name} "), proxy.logs()
        for name, svc in routed(catalog).items():
            if svc.route.public and name != auth_name:
                path = f"{svc.route.path_prefix.rstrip('/')}/page"
                assert proxy.get(path).body.startswith(f"{name} "), (path, proxy.logs())
        errors = [line for line in (tmp_path / "traefik.log").read_text().splitlines() if " ERR " in line]
        assert errors == [], "Traefik refused part of the rendered configuration"
    finally:
        proxy.stop()
        auth.stop()
        for up in upstreams.values():
            up.stop()


# Values that would break out of the rule or make Traefik drop the whole dynamic file.
REFUSED = [
    ("/mcp`) || PathPrefix(`/api", "services.gateway-mcp.route.path_prefix"),
    ('/mcp") || PathPrefix("/api', "services.gateway-mcp.route.path_prefix"),
    ("/mcp || Path(/api)", "services.gateway-mcp.route.path_prefix"),
    ("/mcp\n", "services.gateway-mcp.route.path_prefix"),
]


@pytest.mark.parametrize("prefix, key", REFUSED, ids=[r[0] for r in REFUSED])
def test_rule_syntax_in_a_prefix_is_refused(prefix, key, tmp_path):
    data = shipped_catalog()
    data["services"]["gateway-mcp"]["route"].update(path_prefix=prefix, public=True)
    with pytest.raises(InputError) as caught:
        _load(data, tmp_path)
    assert key in {p.key for p in caught.value.problems}


@pytest.mark.parametrize("average, burst", [(MAX_RATE + 1, 10), (10, MAX_BURST + 1), (10**30, 10), (10, 2**63)])
def test_rate_limits_traefik_cannot_load_are_refused(average, burst, tmp_path):
    data = shipped_catalog()
    data["services"]["orchestrator"]["route"]["rate_limit"] = {"average": average, "burst": burst}
    with pytest.raises(InputError) as caught:
        _load(data, tmp_path)
    assert any(p.key.startswith("services.orchestrator.route.rate_limit") for p in caught.value.problems)


def test_the_renderer_refuses_a_prefix_that_skipped_validation():
    # Defence in depth: a Route built without validation still cannot write rule text.
    inputs = load_inputs(read_stack_config("prod").config, "prod")
    catalog = inputs.catalog
    forged = catalog.services["gateway-mcp"].model_copy(
        update={"route": Route.model_construct(path_prefix="/mcp`) || PathPrefix(`/api", public=True, rate_limit=None)})
    hostile = catalog.model_copy(update={"services": {**catalog.services, "gateway-mcp": forged}})
    with pytest.raises(UnsafeRuleValue):
        dynamic_config(hostile, inputs.settings)
