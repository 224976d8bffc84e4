"""Mutation tests on the real program: break one rule at a time and show the preview names the policy.

Two layers guard the inputs. Catalog validation (catalog/services.py) rejects some mistakes before
any resource is declared (exit 2, naming the file and key). The policy pack judges what was declared
(exit 1, naming the policy), which also covers resources changed in code rather than in the catalog.
Where the catalog already rejects a mutation, the test shows both layers: the catalog's exit 2, and
the pack catching the same mistake made at the resource level.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, run_plan
from policy_helpers import CONTAINER

from ops.__main__ import main
from ops.preview import EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATION, evaluate, exit_code


def preview(catalog: dict, tmp_path, capsys, *extra: str) -> tuple[int, dict]:
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    capsys.readouterr()
    code = main(["preview", "--catalog", str(path), "--format", "json", *extra])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code != EXIT_BAD_INPUT else {"error": out.err})


def mandatory(doc: dict) -> set[tuple[str, str]]:
    names = {r["urn"]: r["name"] for r in doc["resources"]}
    return {(v["policy"], names.get(v["urn"], "stack")) for v in doc["violations"] if v["enforcement"] == "mandatory"}


def test_the_shipped_stack_passes_from_the_command_line():
    result = subprocess.run([sys.executable, "-m", "ops", "preview"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == EXIT_OK, result.stderr
    assert "policy pack devtools 0.5.0: 32 policies" in result.stdout
    assert "0 mandatory violation(s)" in result.stdout


def test_restart_no_fails_the_preview(catalog, tmp_path, capsys):
    catalog["services"]["orchestrator"]["restart"] = "no"
    code, doc = preview(catalog, tmp_path, capsys)
    assert code == EXIT_VIOLATION
    assert mandatory(doc) == {("restart-policy", "orchestrator")}




def test_switching_redis_persistence_off_fails_the_preview(catalog, tmp_path, capsys):
    catalog["services"]["redis"]["command"] += ["--appendonly", "no"]
    code, doc = preview(catalog, tmp_path, capsys)
    assert code == EXIT_VIOLATION
    assert mandatory(doc) == {("redis-persistence", "redis")}
    assert any(v["message"] == "AOF is off (appendonly no)" for v in doc["violations"])


def test_redis_without_its_config_file_fails_the_preview(catalog, tmp_path, capsys):
    redis = catalog["services"]["redis"]
    redis["command"], redis["configs"] = ["redis-server"], []
    code, doc = preview(catalog, tmp_path, capsys)
    assert code == EXIT_VIOLATION
    assert mandatory(doc) == {("redis-persistence", "redis")}


def test_more_memory_than_the_droplet_fails_the_preview(catalog, tmp_path, capsys):
    catalog["services"]["postgres"]["deploy"]["resources"] = {"limits": {"cpus": "1.5", "memory": "14G"},
                                                              "reservations": {"cpus": "0.5", "memory": "14G"}}
    code, doc = preview(catalog, tmp_path, capsys)
    assert code == EXIT_VIOLATION
    assert mandatory(doc) == {("memory-capacity", "stack")}


def test_policy_config_can_make_a_violation_advisory(catalog, tmp_path, capsys):
    catalog["services"]["orchestrator"]["restart"] = "no"
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"restart-policy": {"enforcementLevel": "advisory"}}))
    code, doc = preview(catalog, tmp_path, capsys, "--policy-config", str(config))
    assert code == EXIT_OK
    assert ("restart-policy", "advisory") in {(v["policy"], v["enforcement"]) for v in doc["violations"]}


# --- caught by the catalog first (exit 2), and by the pack at the resource level (exit 1) ---

@pytest.mark.parametrize("mutate, key", [
    (lambda c: c["services"]["feature-dev"]["deploy"]["resources"]["limits"].pop("memory"),
     "services.feature-dev.deploy.resources.limits.memory"),
    (lambda c: c["services"]["langgraph"]["environment"].__setitem__("DB_HOST", "changeme"),
     "services.langgraph.environment.DB_HOST"),
    (lambda c: c["services"]["rag-context"].__setitem__("image", "ghcr.io/appsmithery/dev-tools-rag-context:latest"),
     "services.rag-context.image"),
])
def test_catalog_validation_rejects_before_the_pack_runs(catalog, tmp_path, capsys, mutate, key):
    mutate(catalog)
    code, doc = preview(catalog, tmp_path, capsys)
    assert code == EXIT_BAD_INPUT
    assert key in doc["error"] and "nothing was declared" in doc["error"]


@pytest.fixture(scope="module")
def plan():
    return run_plan()


def _mutated(plan, service, change):
    resources = [r for r in plan]
    index = next(i for i, r in enumerate(resources) if r.type == CONTAINER and r.name == service)
    clone = __import__("copy").deepcopy(resources[index])
    change(clone.inputs)
    resources[index] = clone
    return resources


def test_publishing_postgres_fails_the_preview(catalog, tmp_path, capsys, policy_pack, plan):
    """Both layers: the catalog refuses `ports:` on any service but the edge (exit 2, naming the key), and
    the same port published on the declared container fails the pack (exit 1)."""
    catalog["services"]["postgres"]["ports"] = ["5432:5432"]
    code, doc = preview(catalog, tmp_path, capsys)
    assert code == EXIT_BAD_INPUT
    assert "services.postgres.ports" in doc["error"] and "nothing was declared" in doc["error"]
    published = _mutated(plan, "postgres", lambda i: i.__setitem__("ports", [{"internal": 5432, "external": 5432, "ip": "0.0.0.0"}]))
    _, violations = evaluate(policy_pack, published)
    assert exit_code(violations) == EXIT_VIOLATION
    postgres = next(r.urn for r in plan if r.type == CONTAINER and r.name == "postgres")
    assert {(v.policy, v.urn) for v in violations if v.enforcement == "mandatory"} == {("no-published-ports", postgres)}


@pytest.mark.parametrize("service, change, policy", [
    ("feature-dev", lambda i: i.pop("memory"), "container-memory-limit"),
    ("feature-dev", lambda i: i.pop("cpus"), "container-cpu-limit"),
    ("state-persistence", lambda i: i["envs"].append("POSTGRES_PASSWORD=changeme"), "no-hardcoded-credentials"),
    ("rag-context", lambda i: i.__setitem__("image", "ghcr.io/appsmithery/dev-tools-rag-context:latest"), "image-pinned"),
    ("redis", lambda i: i.__setitem__("ports", [{"internal": 6379, "external": 6379, "ip": "0.0.0.0"}]), "no-published-ports"),
])
def test_the_pack_catches_the_same_mistakes_at_the_resource_level(policy_pack, plan, service, change, policy):
    _, violations = evaluate(policy_pack, _mutated(plan, service, change))
    assert exit_code(violations) == EXIT_VIOLATION
    failing = {(v.policy, v.urn) for v in violations if v.enforcement == "mandatory"}
    urn = next(r.urn for r in plan if r.type == CONTAINER and r.name == service)
    assert (policy, urn) in failing
    assert all(u == urn for _, u in failing)
