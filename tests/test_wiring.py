"""Addresses in a service's environment are dependency edges, so every target's network lets them through."""

from __future__ import annotations

from pathlib import Path

import yaml

from catalog.services import Catalog, load_catalog
from catalog.wiring import wiring_problems
from ops.__main__ import main
from tests.conftest import ROOT


def _problems(raw: dict, tmp_path: Path) -> list:
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    catalog: Catalog = load_catalog(path)
    return wiring_problems(catalog, "services.yaml")


def test_the_shipped_catalog_backs_every_address_with_an_edge():
    assert wiring_problems(load_catalog(ROOT / "config" / "services.yaml"), "services.yaml") == []


def test_an_address_without_a_dependency_is_refused_with_the_edge_to_add(catalog, tmp_path, capsys):
    catalog["services"]["rag-context"]["depends_on"].pop("gateway-mcp")
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))

    assert main(["preview", "--catalog", str(path)]) == 2
    err = capsys.readouterr().err
    assert "services.rag-context.environment.MCP_GATEWAY_URL: addresses gateway-mcp, which is not in depends_on" in err
    assert "add `gateway-mcp: {condition: service_started}` to services.rag-context.depends_on" in err
    assert "Traceback" not in err


def test_an_address_on_the_wrong_port_is_refused(catalog, tmp_path):
    catalog["services"]["rag-context"]["environment"]["MCP_GATEWAY_URL"] = "http://gateway-mcp:9999"
    [problem] = _problems(catalog, tmp_path)
    assert problem.key == "services.rag-context.environment.MCP_GATEWAY_URL"
    assert "port 9999" in problem.message and "listens on 8000" in problem.message


def test_outside_hosts_are_not_judged_and_user_info_is_not_echoed(catalog, tmp_path):
    env = catalog["services"]["rag-context"]["environment"]
    env["DOCS_URL"] = "https://docs.example.com:443/x"
    env["CACHE_URL"] = "redis://build-bot-7f3a@redis:6379/0"
    problems = _problems(catalog, tmp_path)
    assert [p.key for p in problems] == ["services.rag-context.environment.CACHE_URL"]
    assert "build-bot" not in problems[0].message + problems[0].fix


def test_a_bare_host_counts_where_the_variable_names_an_address(catalog, tmp_path):
    env = catalog["services"]["rag-context"]["environment"]
    env["CACHE_HOST"] = "redis"          # an address: refused without the edge
    env["CACHE_BACKEND"] = "redis"       # a word: not judged
    assert [p.key for p in _problems(catalog, tmp_path)] == ["services.rag-context.environment.CACHE_HOST"]
