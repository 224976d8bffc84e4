"""The edge's inputs: readiness in the catalog, edge rules, single sign-on settings, and secrets required at preview."""

from __future__ import annotations

import tomllib

import pytest

from catalog.errors import InputError
from catalog.inputs import load_inputs
from catalog.services import Catalog, cross_check
from catalog.settings import parse_settings
from ops.engine import ProgramFailed
from ops.stackfile import read_stack_config
from render.oauth2_proxy import render_oauth2_proxy_cfg
from render.traefik import edge_problems
from tests.conftest import run_plan


def problems_of(catalog: dict) -> list[tuple[str, str]]:
    model = Catalog.model_validate(catalog)
    return [(p.key, p.message) for p in cross_check(model, "services.yaml") + edge_problems(model, "services.yaml")]


def test_shipped_catalog_every_http_service_has_liveness_and_readiness(catalog):
    model = Catalog.model_validate(catalog)
    http = {n: s for n, s in model.services.items() if s.route or (s.healthcheck and s.healthcheck.path)}
    assert {"gateway-mcp", "orchestrator", "oauth2-proxy"} <= set(http)
    for name, svc in http.items():
        assert svc.healthcheck is not None, name
        assert svc.readiness is not None, name
        # The same path only where the image serves no readiness path, and the catalog says so.
        assert svc.readiness.path != svc.healthcheck.path or svc.readiness.note, name


@pytest.mark.parametrize(("change", "expected"), [
    (lambda c: c["services"]["rag-context"].pop("readiness"),
     ("services.rag-context.readiness", "an HTTP service has a liveness path but no readiness path")),
    (lambda c: c["services"]["gateway-mcp"].pop("readiness"),
     ("services.gateway-mcp.readiness", "a routed service has no readiness path, so the edge cannot tell when it is ready")),
    (lambda c: c["services"]["rag-context"].update(readiness={"path": "/health"}),
     ("services.rag-context.readiness.path", "is the liveness path /health too, so it cannot tell alive from ready")),
    (lambda c: c["services"]["rag-context"].update(route={"path_prefix": "/rag"}),
     ("services.rag-context.networks", "shares no network with edge, so the edge cannot reach its route")),
    (lambda c: c["services"]["rag-context"].update(route={"path_prefix": "/api/"}, networks=["edge", "app"]),
     ("services.rag-context.route.path_prefix", "/api is already routed to orchestrator")),
    (lambda c: c["services"].pop("oauth2-proxy"),
     ("services", "routes that are not public need the single sign-on service, with a port and a public route")),
    (lambda c: c["services"]["edge"].update(configs=[c["services"]["edge"]["configs"][0]]),
     ("services.edge.configs", "no config rendered by traefik_dynamic: the edge would have no routes")),
    (lambda c: c["services"]["edge"].update(volumes=[]),
     ("services.edge.volumes", "the edge has no volume for its ACME account and certificates")),
])
def test_catalog_rules_for_the_edge(catalog, change, expected):
    assert problems_of(catalog) == []
    change(catalog)
    assert expected in problems_of(catalog)


def stack_config(**changes: str | None) -> dict[str, str]:
    config = dict(read_stack_config("prod").config)
    for key, value in changes.items():
        if value is None:
            config.pop(f"devtools:{key}", None)
        else:
            config[f"devtools:{key}"] = value
    return config


@pytest.mark.parametrize(("changes", "key", "message"), [
    ({"ssoClientId": None}, "devtools:ssoClientId", "is required but missing"),
    ({"ssoGithubOrg": None}, "devtools:ssoEmailDomains", "is empty and ssoGithubOrg is unset: any account could sign in"),
    ({"ssoProvider": "google"}, "devtools:ssoGithubOrg", "only applies to the github provider, not google"),
    ({"ssoProvider": "oidc", "ssoGithubOrg": None, "ssoEmailDomains": '["acme.io"]'},
     "devtools:ssoOidcIssuerUrl", "is required by the oidc provider"),
    ({"ssoEmailDomains": '["not a domain"]'}, "devtools:ssoEmailDomains[0]", "'not a domain' is not a domain name"),
    ({"ssoOidcIssuerUrl": "auth.acme.io"}, "devtools:ssoOidcIssuerUrl", "'auth.acme.io' is not an http(s) URL"),
    ({"ssoClientId": "your-client-id"}, "devtools:ssoClientId", "value starts a 'your-...' stand-in"),
])
def test_sso_settings_problems_name_the_key(changes, key, message):
    with pytest.raises(InputError) as caught:
        load_inputs(stack_config(**changes), "prod")
    assert (key, message) in [(p.key, p.message) for p in caught.value.problems]
    assert all(p.fix for p in caught.value.problems)


def test_oauth2_proxy_config_is_valid_toml_with_the_stack_settings():
    config = stack_config(ssoEmailDomains='["acme.io", "ops.acme.io"]')
    inputs = load_inputs(config, "prod")
    spec = inputs.catalog.services["oauth2-proxy"]
    parsed = tomllib.loads(render_oauth2_proxy_cfg(spec, inputs.settings))
    domain = inputs.settings.domain
    assert parsed["provider"] == "github"
    assert parsed["client_id"] == inputs.settings.sso_client_id
    assert parsed["github_org"] == inputs.settings.sso_github_org
    assert parsed["email_domains"] == ["acme.io", "ops.acme.io"]
    assert parsed["redirect_url"] == f"https://{domain}{spec.route.path_prefix}/callback"
    assert parsed["http_address"].endswith(f":{spec.port}")
    assert parsed["reverse_proxy"] is True and parsed["cookie_secure"] is True
    assert not any("secret" in key for key in parsed)   # secrets come as files, not in this file


def test_org_only_restriction_allows_every_address_of_the_org():
    inputs = load_inputs(stack_config(), "prod")
    parsed = tomllib.loads(render_oauth2_proxy_cfg(inputs.catalog.services["oauth2-proxy"], inputs.settings))
    assert parsed["email_domains"] == ["*"] and parsed["github_org"] == "appsmithery"


def test_oauth2_proxy_gets_its_secrets_as_files_and_a_valid_cookie_secret_length(catalog):
    model = Catalog.model_validate(catalog)
    mounts = {m.env: m.source for m in model.services["oauth2-proxy"].secret_mounts}
    cookie = model.secrets[mounts["OAUTH2_PROXY_COOKIE_SECRET_FILE"]]
    assert cookie.generate is not None and cookie.generate.length in (16, 24, 32)
    assert model.secrets[mounts["OAUTH2_PROXY_CLIENT_SECRET_FILE"]].config == "ssoClientSecret"


@pytest.mark.parametrize(("value", "message"), [
    ("", "secret for sso_client_secret is not set"),
    ("changeme", "secret for sso_client_secret is the stand-in value 'changeme'"),
])
def test_missing_or_placeholder_secret_stops_the_program_with_the_fix(value, message):
    with pytest.raises(ProgramFailed) as caught:
        run_plan(overrides={"devtools:ssoClientSecret": value})
    text = str(caught.value)
    assert f"Pulumi.prod.yaml: devtools:ssoClientSecret: {message}" in text
    assert "fix: pulumi config set --secret devtools:ssoClientSecret" in text
    assert "nothing was declared" in text
    assert caught.value.recorded == []


def test_secret_problems_never_echo_the_value():
    leaked = "your-secret-0f3c9a"
    catalog = load_inputs(stack_config(), "prod").catalog
    with pytest.raises(InputError) as caught:
        parse_settings(stack_config(), catalog, "Pulumi.prod.yaml", {"ssoClientSecret": leaked})
    assert leaked not in caught.value.render()


def test_edge_container_waits_for_single_sign_on(shipped_plan):
    containers = shipped_plan.containers()
    assert containers["oauth2-proxy"].urn in containers["edge"].dependencies
