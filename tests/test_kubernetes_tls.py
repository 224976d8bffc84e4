"""Managed datastores require TLS: under mocks, every client of a managed engine connects with it, and the
StatefulSet mode and the droplet keep the catalog's plain connections inside their private networks.

Secret values are compared, never shown: a failure names the secret and which property failed.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from conftest import run_plan
from pulumi.runtime import rpc
from support.kubernetes_manifests import WORKLOAD_KINDS, by_kind, manifests

from catalog.inputs import load_inputs
from ops.engine import fake_secret
from ops.stackfile import read_stack_config
from render.environment import resolved_environment
from targets.kubernetes.datastores import ENGINES, Endpoint, managed_datastores, over_tls
from targets.kubernetes.manifests import secret_object_name

STACK = "prod-k8s"
SECRET = "kubernetes:core/v1:Secret"


def _plan(datastores: str):
    cluster = json.loads(read_stack_config(STACK).config["devtools:kubernetes"])
    return run_plan(stack=STACK, overrides={"devtools:kubernetes": json.dumps({**cluster, "datastores": datastores})})


@pytest.fixture(scope="module")
def inputs():
    return load_inputs(read_stack_config(STACK).config, STACK)


@pytest.fixture(scope="module")
def engines(inputs):
    found = managed_datastores(inputs)
    assert found, "the shipped DOKS stack runs its datastores as managed databases"
    return found


@pytest.fixture(scope="module")
def managed():
    return _plan("managed")


@pytest.fixture(scope="module")
def statefulset():
    return _plan("statefulset")


def _unwrap(value):
    if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        return _unwrap(value.get("value"))
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _secret_value(plan, secret: str) -> str:
    (found,) = [r for r in plan if r.type == SECRET and r.name == secret_object_name(secret)]
    return _unwrap(found.inputs["stringData"])["value"]


def _own_secrets(catalog, store: str) -> set[str]:
    """The secrets the datastore itself reads (not derived): a managed engine's credential replaces them."""
    return {m.source for m in catalog.services[store].secret_mounts if catalog.secrets[m.source].derive is None}


def _url_secrets(catalog, store: str) -> dict[str, str]:
    """Secrets derived by template from the datastore's own secret: the URLs its clients read."""
    own = _own_secrets(catalog, store)
    return {name: spec.derive.template for name, spec in catalog.secrets.items()
            if spec.derive is not None and spec.derive.source in own and spec.derive.template is not None}


def _external_name(plan, store: str) -> str:
    (service,) = [r for r in plan if r.type == "kubernetes:core/v1:Service" and r.name == store]
    return service.inputs["spec"]["externalName"]


def _environments(plan) -> dict[str, dict[str, str]]:
    """Each workload's container variables (plain values only), by catalog service."""
    out = {}
    for doc in by_kind(manifests(plan), *WORKLOAD_KINDS):
        container = doc["spec"]["template"]["spec"]["containers"][0]
        out[doc["metadata"]["labels"]["app.kubernetes.io/name"]] = {
            e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    return out


def _catalog_values(inputs, store: str, marker: str) -> dict[tuple[str, str], str]:
    """(client, variable) -> the catalog's resolved value, for the datastore's clients whose value holds `marker`."""
    catalog = inputs.catalog
    return {(name, key): value for name, spec in catalog.services.items() if store in spec.dependencies
            for key, value in resolved_environment(spec, inputs.settings).items() if marker in value}


def _url_store(engines):
    found = [(store, engine) for store, engine in engines.items() if engine.url_scheme]
    assert found, "a managed datastore reached by URL (Valkey)"
    return found


def _sslmode_store(engines):
    found = [(store, engine) for store, engine in engines.items() if engine.sslmode]
    assert found, "a managed datastore reached by connection string (Postgres)"
    return found


def test_the_redis_url_secret_is_tls_to_the_managed_host_with_the_managed_password(managed, inputs, engines):
    catalog = inputs.catalog
    for store, engine in _url_store(engines):
        host = _external_name(managed, store)
        (own,) = _own_secrets(catalog, store)
        managed_password = _secret_value(managed, own)
        generated = fake_secret(f"secrets-{own}", catalog.secrets[own].generate.length)
        urls = _url_secrets(catalog, store)
        assert urls, f"no secret is derived by template from {own}"
        for name in urls:
            url = urlsplit(_secret_value(managed, name))
            checks = {"scheme": url.scheme == f"{engine.url_scheme}s", "private host": bool(host) and url.hostname == host,
                      "managed port": url.port == engine.port, "managed password": bool(managed_password) and url.password == managed_password,
                      "not the generated password": url.password != generated}
            failed = [what for what, ok in checks.items() if not ok]
            assert failed == [], f"secret {name}: wrong {failed}"


def test_every_url_client_of_managed_valkey_addresses_it_over_tls(managed, inputs, engines):
    environments = _environments(managed)
    for store, engine in _url_store(engines):
        host = _external_name(managed, store)
        expected = _catalog_values(inputs, store, f"{engine.url_scheme}://")
        assert expected, f"no client of {store} names it by URL in the catalog"
        for (client, key) in expected:
            url = urlsplit(environments[client][key])
            assert (url.scheme, url.hostname, url.port) == (f"{engine.url_scheme}s", host, engine.port), (client, key)
        plain = [(c, k) for c, env in environments.items() for k, v in env.items() if f"{engine.url_scheme}://" in v]
        assert plain == []


def test_every_connection_string_to_managed_postgres_requires_tls(managed, inputs, engines):
    environments = _environments(managed)
    for store, _engine in _sslmode_store(engines):
        expected = _catalog_values(inputs, store, "sslmode=")
        assert expected, f"no client of {store} names an sslmode in the catalog"
        for (client, key), catalog_value in expected.items():
            assert "sslmode=require" not in catalog_value  # the catalog's own is weaker: the rewrite is what is tested
            assert "sslmode=require" in environments[client][key], (client, key)
        weaker = [(c, k) for c, env in environments.items() for k, v in env.items()
                  if any(f"sslmode={mode}" in v for mode in ("disable", "allow", "prefer"))]
        assert weaker == []


def test_statefulset_datastores_keep_the_catalogs_plain_connections(statefulset, inputs):
    catalog = inputs.catalog
    environments = _environments(statefulset)
    stores = [name for name, spec in catalog.services.items() if spec.role == "datastore"]
    checked = 0
    for store in stores:
        engine = ENGINES[catalog.services[store].image.rpartition("/")[2].partition(":")[0]]
        marker = f"{engine.url_scheme}://" if engine.url_scheme else "sslmode="
        for (client, key), value in _catalog_values(inputs, store, marker).items():
            assert environments[client][key] == value, (client, key)
            checked += 1
        for name, template in _url_secrets(catalog, store).items():
            (own,) = _own_secrets(catalog, store)
            generated = fake_secret(f"secrets-{own}", catalog.secrets[own].generate.length)
            assert _secret_value(statefulset, name) == template.replace("{secret}", generated), f"secret {name} changed"
            checked += 1
    assert checked >= 3  # the exporters' URIs and the event bus URL at least


def test_the_droplet_keeps_the_catalogs_plain_connections(shipped_plan):
    inputs = load_inputs(read_stack_config("prod").config, "prod")
    catalog = inputs.catalog
    containers = shipped_plan.containers()
    checked = 0
    for store in (name for name, spec in catalog.services.items() if spec.role == "datastore"):
        engine = ENGINES[catalog.services[store].image.rpartition("/")[2].partition(":")[0]]
        marker = f"{engine.url_scheme}://" if engine.url_scheme else "sslmode="
        for (client, key), value in _catalog_values(inputs, store, marker).items():
            if client in containers:
                assert f"{key}={value}" in containers[client].inputs["envs"], (client, key)
                checked += 1
        for name, template in _url_secrets(catalog, store).items():
            (own,) = _own_secrets(catalog, store)
            expected = template.replace("{secret}", fake_secret(f"secrets-{own}", catalog.secrets[own].generate.length))
            carriers = [c for c in containers.values()
                        if any(u["file"] == f"/run/secrets/{name}" for u in _unwrap(c.inputs.get("uploads")) or [])]
            assert carriers, f"no container receives {name}"
            for container in carriers:
                (content,) = [u["content"] for u in _unwrap(container.inputs["uploads"]) if u["file"] == f"/run/secrets/{name}"]
                assert content == expected, f"{container.name}: secret {name} changed"
                checked += 1
    assert checked >= 3


# over_tls on values it must leave alone or rewrite without a host (pure strings, no Pulumi runtime).
PG = Endpoint(host=None, port=25060, password=None, engine=ENGINES["postgres"])  # type: ignore[arg-type]
VALKEY = Endpoint(host=None, port=25061, password=None, engine=ENGINES["redis"])  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "expected"), [
    ("postgres:25060/devtools?sslmode=disable", "postgres:25060/devtools?sslmode=require"),
    ("postgres:25060/devtools?sslmode=prefer", "postgres:25060/devtools?sslmode=require"),
    ("postgres:25060/devtools?sslmode=verify-full", "postgres:25060/devtools?sslmode=verify-full"),  # stronger stays
    ("postgres:25060/devtools?sslmode=require", "postgres:25060/devtools?sslmode=require"),
    ("other:5432/x?sslmode=disable", "other:5432/x?sslmode=disable"),  # not this datastore
    ("devtools", "devtools"),
])
def test_connection_strings_to_postgres_get_sslmode_require(value, expected):
    assert over_tls(value, "postgres", 5432, PG) == expected


@pytest.mark.parametrize("value", ["redis://other:6379", "http://redis:6379/health", "redis", "6379"])
def test_values_not_addressing_valkey_by_url_are_left_alone(value):
    assert over_tls(value, "redis", 6379, VALKEY) == value
