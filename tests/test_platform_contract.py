"""The plan gives every platform service what its code needs (config/platform-contract.yaml).

Runs the program under mocks and reads each container as Docker would receive it: its
environment, its uploaded files, and the variables the entrypoint wrapper exports from them.
"""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from catalog.services import Catalog, load_catalog
from ops.contract import load_contract
from render.secrets_wrapper import WRAPPER_PATH
from tests.conftest import ROOT, run_plan

CONTRACT = load_contract()
CATALOG = load_catalog(ROOT / "config" / "services.yaml")
SERVICES = sorted(CONTRACT["services"])
PARSERS = {"int": int, "float": float}
EXPORT = re.compile(r"^export_secret (\S+) (\S+)$", re.M)


def delivered(container) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(environment, uploaded files -> content, exported variable -> secret file) of one container."""
    inputs = container.inputs
    env = dict(e.split("=", 1) for e in inputs["envs"])
    uploads = inputs.get("uploads") or []
    uploads = uploads["value"] if isinstance(uploads, dict) and "value" in uploads else uploads
    files = {u["file"]: u["content"] for u in uploads}
    exported = dict(EXPORT.findall(files.get(WRAPPER_PATH, ""))) if inputs.get("entrypoints") == ["/bin/sh", WRAPPER_PATH] else {}
    return env, files, exported


def unmet(name: str, container, catalog: Catalog = CATALOG) -> list[str]:
    """Every way the container falls short of the contract, as readable lines."""
    need = CONTRACT["services"][name]
    spec = catalog.services[name]
    env, files, exported = delivered(container)
    problems = []
    if spec.port != need["port"]["value"]:
        problems.append(f"listens on {need['port']['value']}, catalog says {spec.port}")
    if spec.command != need["command"]["value"]:
        problems.append(f"image command {need['command']['value']}, catalog states {spec.command}")
    probe = spec.healthcheck.probe if spec.healthcheck else None
    if probe is not None and probe not in need["tools"]["present"]:
        problems.append(f"probe uses {probe}, the image has only {need['tools']['present']}")
    for variable, want in need["variables"].items():
        if want.get("secret"):
            if variable in env:
                problems.append(f"{variable} is a secret set in the container's environment")
            from_file = want.get("file") and env.get(f"{variable}_FILE") in files
            from_export = exported.get(variable) in files
            if want["required"] and not (from_file or from_export):
                problems.append(f"{variable} (secret) reaches the process neither as a file nor exported from one")
            continue
        value = env.get(variable)
        if want["required"] and not value:
            problems.append(f"{variable} is not set")
        if value is not None and "parse" in want:
            try:
                PARSERS[want["parse"]](value)
            except ValueError:
                problems.append(f"{variable}={value!r} does not parse as {want['parse']} (the service crashes at import)")
    for path in need.get("paths", []):
        resolved = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), path["path"])
        if path["access"] == "write":
            if not any(resolved.startswith(mount.rstrip("/") + "/") for _, mount, ro in spec.volume_mounts() if not ro):
                problems.append(f"writes {resolved}, which is on no writable volume")
        elif not path.get("image") and resolved not in files:
            problems.append(f"reads {resolved}, which the program does not deliver")
    return problems


def set_but_unread(name: str, container) -> list[str]:
    """Variables the catalog sets that no code of the service reads."""
    read = CONTRACT["services"][name]["variables"]
    env, _, exported = delivered(container)
    names = set(exported)
    for key in env:
        base = key.removesuffix("_FILE")
        names.add(base if key.endswith("_FILE") and read.get(base, {}).get("file") else key)
    return sorted(n for n in names if n not in read)


@pytest.fixture(scope="module")
def containers():
    # Every platform service, including those the prod stack omits: their contract holds when kept.
    return run_plan(overrides={"devtools:omitServices": "[]"}).containers()


def test_the_contract_covers_every_platform_service_and_cites_its_source():
    assert set(SERVICES) <= set(CATALOG.services)
    for name in SERVICES:
        need = CONTRACT["services"][name]
        assert need["variables"] and need["tools"]["present"], name
        cited = [v.get("source") for v in need["variables"].values()] + [p["source"] for p in need.get("paths", [])]
        assert all(c is None or re.match(r"^[\w./-]+:\d+$", c) for c in cited), name


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_gets_all_its_code_needs(containers, name):
    assert unmet(name, containers[name]) == []


@pytest.mark.parametrize("name", SERVICES)
def test_no_variable_is_set_that_no_code_reads(containers, name):
    assert set_but_unread(name, containers[name]) == []


def test_a_missing_variable_an_unparsable_one_and_an_unread_one_are_named(catalog, tmp_path):
    orchestrator = catalog["services"]["orchestrator"]
    orchestrator["environment"] = dict(orchestrator["environment"])
    del orchestrator["environment"]["HITL_POLICIES_PATH"]
    orchestrator["environment"]["MCP_TIMEOUT"] = "thirty"
    orchestrator["environment"]["EVENT_BUS_URL"] = "redis://redis:6379/0"
    orchestrator["secrets"] = [s for s in orchestrator["secrets"] if s["source"] != "linear_api_key"]
    container = run_plan(catalog, tmp_path).containers()["orchestrator"]
    problems = unmet("orchestrator", container)
    assert "HITL_POLICIES_PATH is not set" in problems
    assert "MCP_TIMEOUT='thirty' does not parse as int (the service crashes at import)" in problems
    assert "LINEAR_API_KEY (secret) reaches the process neither as a file nor exported from one" in problems
    assert set_but_unread("orchestrator", container) == ["EVENT_BUS_URL"]


def test_a_probe_with_a_tool_the_image_lacks_and_a_lost_volume_are_named(catalog, tmp_path):
    gateway = catalog["services"]["gateway-mcp"]
    gateway["healthcheck"] = {**gateway["healthcheck"], "probe": "curl"}
    gateway["volumes"] = []
    catalog["volumes"].pop("gateway-linear")
    container = run_plan(catalog, tmp_path).containers()["gateway-mcp"]
    problems = unmet("gateway-mcp", container, Catalog.model_validate(catalog))
    assert "probe uses curl, the image has only ['node', 'sh']" in problems
    assert "writes /var/lib/gateway-mcp/linear-token.json, which is on no writable volume" in problems


def test_a_secret_in_plain_environment_is_named(containers):
    container = copy.deepcopy(containers["state-persistence"])
    container.inputs["envs"].append("POSTGRES_PASSWORD=anything")
    assert "POSTGRES_PASSWORD is a secret set in the container's environment" in unmet("state-persistence", container)


def test_docs_list_every_known_upstream_defect_with_its_source():
    doc = (ROOT / "docs" / "UPSTREAM.md").read_text()
    for defect in CONTRACT["defects"]:
        assert f"`{defect['id']}`" in doc and f"`{defect['source']}`" in doc, defect["id"]
        assert defect["service"] in CONTRACT["services"] or defect["service"] in CATALOG.services


def test_the_migrations_the_plan_ships_create_every_table_the_services_use(containers):
    """The migrate job's script (what it really runs) creates each table a service queries."""
    scripts = [files[path] for c in containers.values() for files in [delivered(c)[1]] for path in files
               if path.endswith(".sql")]
    created = {m.lower() for script in scripts for m in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", script, re.I)}
    needed = {(name, t["name"]) for name in SERVICES for t in CONTRACT["services"][name].get("tables", [])
              if t.get("created_by") != "the service"}
    assert needed and {table for _, table in needed} <= created, sorted(n for n in needed if n[1] not in created)


def test_external_service_settings_are_validated_before_anything_is_declared(catalog, tmp_path):
    from catalog.errors import InputError
    from catalog.inputs import load_inputs
    from ops.stackfile import read_stack_config

    config = dict(read_stack_config("prod").config)
    del config["devtools:qdrantUrl"]
    with pytest.raises(InputError) as caught:
        load_inputs(config, "prod")
    (unset,) = caught.value.problems  # one problem for the setting, naming every variable that reads it
    assert unset.key == "devtools:qdrantUrl" and unset.file == "Pulumi.prod.yaml"
    assert unset.fix == "pulumi config set devtools:qdrantUrl <value>"
    assert "rag-context:QDRANT_URL" in unset.message and "orchestrator:QDRANT_URL" in unset.message

    config = {**read_stack_config("prod").config, "devtools:linearOauthRedirectUri": "not a url"}
    with pytest.raises(InputError) as caught:
        load_inputs(config, "prod")
    assert [(p.key, p.message) for p in caught.value.problems] == [
        ("devtools:linearOauthRedirectUri", "'not a url' is not an http(s) URL")]

    catalog["services"]["rag-context"]["environment"]["QDRANT_URL"] = "${qdrantAddress}"
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    with pytest.raises(InputError) as caught:
        load_inputs({**read_stack_config("prod", str(path)).config}, "prod")
    assert [(p.key, p.message) for p in caught.value.problems] == [
        ("services.rag-context.environment.QDRANT_URL", "refers to ${qdrantAddress}, which is no stack setting")]
