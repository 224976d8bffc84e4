"""`python -m ops preview`: the JSON document's shape, masking and exit codes, run as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, deployed_catalog


def preview(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ops", "preview", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def document() -> dict:
    result = preview("--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_json_lists_every_platform_service_as_a_container_plus_the_host(document):
    resources = document["resources"]
    for r in resources:
        assert set(r) == {"urn", "type", "name", "parent", "dependencies", "inputs"}
    containers = {r["name"] for r in resources if r["type"] == "docker:index/container:Container"}
    assert containers == set(deployed_catalog().services)
    assert len(containers) >= 13
    types = {r["type"] for r in resources}
    assert {"digitalocean:index/droplet:Droplet", "digitalocean:index/vpc:Vpc", "digitalocean:index/firewall:Firewall",
            "digitalocean:index/volume:Volume", "digitalocean:index/reservedIp:ReservedIp",
            "digitalocean:index/project:Project"} <= types
    assert isinstance(document["violations"], list)
    assert document["violations"], "the shipped stack has advisory findings to list"
    for v in document["violations"]:
        assert {"policy", "enforcement", "severity", "urn", "message"} <= set(v)
        assert v["enforcement"] in ("mandatory", "advisory")


def test_json_masks_every_secret(document):
    text = json.dumps(document)
    assert "[secret]" in text
    # The offline stand-ins and the generated passwords' mock values never leave masked.
    from ops.engine import fake_secret
    from ops.stackfile import read_stack_config
    stack = read_stack_config("prod")
    for key in stack.secret_keys:
        assert stack.config[key] not in text
    for name in ("secrets-db_password", "secrets-redis_password"):
        assert fake_secret(name, 32) not in text


def test_parents_and_dependencies_point_at_declared_resources(document):
    urns = {r["urn"] for r in document["resources"]}
    for r in document["resources"]:
        assert r["parent"] is None or r["parent"] in urns or r["parent"].endswith("pulumi:pulumi:Stack::devtools-prod")
        assert set(r["dependencies"]) <= urns


def test_text_plan_shows_the_tree_capacity_and_outcome():
    result = preview()
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "+ devtools:stack:DevToolsStack devtools" in out
    assert "    + Container orchestrator" in out
    assert "capacity: s-8vcpu-16gb" in out and "/month" in out
    assert "mandatory violation" in out


def test_bad_input_exits_2_without_a_plan(tmp_path):
    bad = tmp_path / "services.yaml"
    bad.write_text("version: 1\nnetworks: {}\nservices: {}\n")
    result = preview("--catalog", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "services" in result.stderr and "fix:" in result.stderr


def test_the_preview_says_once_what_the_stack_leaves_out():
    result = preview()
    assert result.returncode == 0, result.stderr
    said = (result.stdout + result.stderr).count("omitted: langgraph (devtools:omitServices)")
    assert said == 1


def test_a_reader_that_leaves_early_ends_the_preview_quietly():
    """`python -m ops preview --json | head -1`: the reader closes the pipe mid-plan; no traceback, SIGPIPE's code.

    The JSON plan is far larger than a pipe and the interpreter's buffer hold, so the preview is
    still printing when the reader leaves, whatever the machine's speed.
    """
    with subprocess.Popen([sys.executable, "-m", "ops", "preview", "--json"], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        first = process.stdout.readline()
        process.stdout.close()
        stderr = process.stderr.read().decode()
        code = process.wait(timeout=300)
    assert first.strip() == b"{"
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
    assert code == 141


def test_a_reader_gone_before_the_last_buffered_output_is_no_success():
    """The tail of the output waits in the buffer until the exit: a reader gone by then still means 141."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader left before anything was flushed
    script = "from ops.__main__ import exit_now; print('plan'); exit_now(0)"
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # so print leaves it to the exit
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=buffered, stdout=write_end,
                            stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(write_end)
    assert "Traceback" not in result.stderr
    assert result.returncode == 141
