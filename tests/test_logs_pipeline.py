"""Loki and Alloy configs. Neither binary is installable here (not in Debian, and Loki is AGPL),
so these tests check what makes them refuse to start or silently drop logs: Loki 3's
retention and schema requirements, and the Alloy pipeline's wiring and labels."""

from __future__ import annotations

import re

import pytest
import yaml

from catalog.errors import InputError
from catalog.inputs import load_inputs
from ops.stackfile import read_stack_config
from tests.conftest import shipped_catalog
from tests.observability_support import catalog_from, render_all, shipped_settings


def _rendered(tmp_path):
    return render_all(catalog_from(shipped_catalog()), shipped_settings(), tmp_path)


def test_loki_keeps_logs_for_the_stack_retention_and_deletes_older_ones(tmp_path):
    rendered = _rendered(tmp_path)
    config = rendered.yaml("loki", "loki_yaml")
    assert config["limits_config"]["retention_period"] == f"{rendered.settings.log_retention_days * 24}h"
    # Without the compactor's retention, retention_period is ignored; Loki 3 refuses to start
    # with retention on and no delete_request_store.
    assert config["compactor"]["retention_enabled"] is True
    assert config["compactor"]["delete_request_store"] == config["schema_config"]["configs"][0]["object_store"]


def test_loki_uses_the_schema_loki_3_requires_and_writes_only_to_its_volume(tmp_path):
    rendered = _rendered(tmp_path)
    config = rendered.yaml("loki", "loki_yaml")
    (schema,) = config["schema_config"]["configs"]
    assert (schema["store"], schema["schema"], schema["index"]["period"]) == ("tsdb", "v13", "24h")
    (volume_path,) = [path for _, path, _ in rendered.catalog.services["loki"].volume_mounts()]
    paths = [config["common"]["path_prefix"], config["compactor"]["working_directory"],
             *config["common"]["storage"]["filesystem"].values()]
    assert all(p == volume_path or p.startswith(volume_path + "/") for p in paths), paths
    assert config["server"]["http_listen_port"] == rendered.catalog.services["loki"].port


def _blocks(text: str) -> dict[str, str]:
    """`kind "label" { body }` top-level blocks of an Alloy file -> body (braces must balance)."""
    blocks, depth, start, header = {}, 0, 0, ""
    for match in re.finditer(r'[{}]|"(?:\\.|[^"\\])*"', text):
        token = match.group()
        if token == "{":
            if depth == 0:
                header = text[text.rfind("\n", 0, match.start()) + 1:match.start()].strip()
                start = match.end()
            depth += 1
        elif token == "}":
            depth -= 1
            assert depth >= 0, "unbalanced braces"
            if depth == 0:
                kind, label = re.fullmatch(r'([a-z_.]+) "([a-z_]+)"', header).groups()
                blocks[f"{kind}.{label}"] = text[start:match.start()]
    assert depth == 0, "unbalanced braces"
    return blocks


def test_alloy_reads_docker_logs_and_labels_them_with_the_catalog_service(tmp_path):
    rendered = _rendered(tmp_path)
    text = rendered.file("alloy", "alloy_config").read_text()
    blocks = _blocks(text)
    assert set(blocks) == {"discovery.docker.containers", "discovery.relabel.devtools",
                           "loki.source.docker.containers", "loki.write.local"}
    # Every component referenced is declared.
    for ref in re.findall(r"= \[?((?:discovery|loki)\.[a-z_.]+)\.(?:targets|output|rules|receiver)", text):
        assert ref in blocks, ref
    relabel = blocks["discovery.relabel.devtools"]
    assert 'source_labels = ["__meta_docker_container_label_devtools_service"]' in relabel
    assert 'target_label  = "service"' in relabel and 'action        = "keep"' in relabel
    # The Docker label the program sets is what the relabel rule reads (dots become underscores).
    plan_label = "devtools.service"
    assert f"__meta_docker_container_label_{plan_label.replace('.', '_')}" in relabel


def test_alloy_talks_to_the_mounted_socket_and_the_loki_service(tmp_path):
    rendered = _rendered(tmp_path)
    text = rendered.file("alloy", "alloy_config").read_text()
    (socket,) = [path for host, path, ro in rendered.catalog.services["alloy"].host_mounts() if host.endswith("docker.sock")]
    assert text.count(f'"unix://{socket}"') == 2
    loki = rendered.catalog.services["loki"]
    assert f'url = "http://loki:{loki.port}/loki/api/v1/push"' in text
    assert set(loki.networks) & set(rendered.catalog.services["alloy"].networks)


def test_the_alloy_block_reader_rejects_unbalanced_braces():
    with pytest.raises(AssertionError, match="unbalanced"):
        _blocks('loki.write "local" {\n  endpoint {\n')


def test_a_log_shipper_without_loki_is_refused_with_file_key_and_fix(tmp_path):
    data = shipped_catalog()
    del data["services"]["loki"]
    for dependent in ("grafana", "alloy"):
        data["services"][dependent]["depends_on"].pop("loki")
    (tmp_path / "services.yaml").write_text(yaml.safe_dump(data))
    config = read_stack_config("prod", str(tmp_path / "services.yaml"))
    with pytest.raises(InputError) as error:
        load_inputs(config.config, "prod")
    (problem,) = error.value.problems
    assert problem.key == "configs.alloy_config" and "no service receives a loki_yaml config" in problem.message
