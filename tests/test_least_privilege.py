"""Least privilege under Pulumi's mocks: one way in (the edge), datastores on the internal network only."""

from __future__ import annotations

import pytest

from catalog.services import Catalog, segmentation_problems
from ops.engine import ProgramFailed
from tests.conftest import run_plan

FIREWALL = "digitalocean:index/firewall:Firewall"
NETWORK = "docker:index/network:Network"
WORLD = {"0.0.0.0/0", "::/0"}


def published(container) -> list[tuple[int, int]]:
    return [(int(p["external"]), int(p["internal"])) for p in container.inputs.get("ports") or []]


def test_only_the_edge_publishes_ports(shipped_plan):
    publishing = {name: published(c) for name, c in shipped_plan.containers().items() if published(c)}
    assert publishing == {"edge": [(80, 80), (443, 443)]}


def test_the_firewall_opens_to_the_world_exactly_what_the_edge_publishes(shipped_plan):
    rules = shipped_plan.one(FIREWALL).inputs["inboundRules"]
    world = sorted(int(r["portRange"]) for r in rules if WORLD & set(r["sourceAddresses"]))
    edge_ports = sorted(external for external, _ in published(shipped_plan.containers()["edge"]))
    assert world == edge_ports
    ssh = [r for r in rules if r["portRange"] == "22"]
    assert len(ssh) == 1 and not WORLD & set(ssh[0]["sourceAddresses"])


def networks_of(container) -> set[str]:
    return {n["name"] for n in container.inputs["networksAdvanced"]}


@pytest.mark.parametrize("datastore", ["postgres", "redis"])
def test_datastores_are_only_on_the_internal_data_network(shipped_plan, datastore):
    internal = {n.inputs["name"] for n in shipped_plan.of_type(NETWORK) if n.inputs.get("internal")}
    assert networks_of(shipped_plan.containers()[datastore]) == {"devtools-data"}
    assert "devtools-data" in internal


def test_data_network_is_joined_only_by_the_datastores_and_their_users(shipped_plan, catalog):
    model = Catalog.model_validate(catalog)
    on_data = {name for name, c in shipped_plan.containers().items() if "devtools-data" in networks_of(c)}
    stores = {"postgres", "redis"}
    for name in on_data - stores:
        assert stores & set(model.services[name].dependencies), f"{name} joins data without using a datastore"
    # The edge and the single sign-on service never touch it.
    assert not on_data & {"edge", "oauth2-proxy"}


@pytest.mark.parametrize("service", ["rag-context", "postgres"])
def test_any_other_service_publishing_a_port_stops_the_program(catalog, tmp_path, service):
    catalog["services"][service]["ports"] = ["5000:5000"]
    with pytest.raises(ProgramFailed) as caught:
        run_plan(catalog, tmp_path)
    assert f"services.{service}.ports: publishes a port on the droplet; only the edge may" in str(caught.value)
    assert caught.value.recorded == []


def test_a_service_on_the_data_network_that_uses_no_datastore_is_refused(catalog):
    catalog["services"]["rag-context"]["networks"] = ["app", "data"]
    problems = segmentation_problems(Catalog.model_validate(catalog), "services.yaml")
    assert [(p.key, p.message) for p in problems] == [
        ("services.rag-context.networks", "joins 'data' but uses none of its datastores (postgres, redis)")]


def test_a_datastore_on_a_network_that_is_not_internal_is_refused(catalog):
    catalog["services"]["redis"]["networks"] = ["data", "app"]
    problems = segmentation_problems(Catalog.model_validate(catalog), "services.yaml")
    assert ("services.redis.networks", "a datastore on 'app', which is not internal") in [(p.key, p.message) for p in problems]
