"""End to end over gRPC: the pack started as the engine starts it, driven with the analyzer protocol."""

from __future__ import annotations

import copy

import pytest
from policy_helpers import CONTAINER

from ops.analyzer import PackError, PolicyPackClient, PolicySetting
from ops.engine import Recorded
from ops.policy_config import resolve
from ops.preview import evaluate
from policies.devtools_policy.registry import RULES


def test_get_analyzer_info_lists_every_policy_with_its_level(policy_pack):
    info = policy_pack.info()
    assert info.name == "devtools"
    assert info.version == "0.5.0"  # from PulumiPolicy.yaml, as the engine reads it
    by_name = {p.name: p for p in info.policies}
    assert sorted(by_name) == sorted(r.name for r in RULES)
    for rule in RULES:
        policy = by_name[rule.name]
        assert (policy.enforcement, policy.severity, policy.stack) == (rule.enforcement, rule.severity, rule.stack)
        assert policy.description == rule.description
        assert set(policy.config_schema) == set(rule.settings)
    assert by_name["docker-socket-mount"].config_schema["allowedServices"]["default"] == ["alloy", "cadvisor"]


def _container(plan, name) -> Recorded:
    return copy.deepcopy(plan.containers()[name])


def test_analyze_returns_the_expected_diagnostics(policy_pack, shipped_plan):
    info = policy_pack.info()
    policy_pack.configure(resolve({}, info))
    redis = _container(shipped_plan, "redis")
    assert policy_pack.analyze(redis) == [
        v for v in policy_pack.analyze(redis) if v.policy == "read-only-root-filesystem"]
    redis.inputs.pop("memory")
    redis.inputs["restart"] = "no"
    redis.inputs["command"] = ["redis-server", "/usr/local/etc/redis/redis.conf", "--appendonly", "no"]
    found = {(v.policy, v.enforcement, v.severity, v.message) for v in policy_pack.analyze(redis)}
    assert found == {
        ("container-memory-limit", "mandatory", "high", "no memory limit (memory)"),
        ("restart-policy", "mandatory", "medium",
         "restart policy is 'no': the service stays down after a crash or a reboot"),
        ("redis-persistence", "mandatory", "critical", "AOF is off (appendonly no)"),
        ("read-only-root-filesystem", "advisory", "low", "the root filesystem is writable (readOnly is not set)"),
    }
    assert all(v.urn == redis.urn for v in policy_pack.analyze(redis))


def test_secrets_travel_wrapped_and_do_not_fire(policy_pack, shipped_plan):
    policy_pack.configure(resolve({}, policy_pack.info()))
    postgres = _container(shipped_plan, "postgres")
    assert postgres.inputs["uploads"]["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"
    assert {v.policy for v in policy_pack.analyze(postgres)} == {"read-only-root-filesystem"}


def test_analyze_stack_judges_capacity_and_segmentation(policy_pack, shipped_plan):
    policy_pack.configure(resolve({}, policy_pack.info()))
    shipped = policy_pack.analyze_stack(shipped_plan)
    # The shipped stack has only its accepted advisories (docs/policies.md), no stack-level one.
    assert all(v.enforcement == "advisory" and v.urn for v in shipped)
    baseline = {(v.policy, v.urn is None) for v in shipped}
    resources = copy.deepcopy(list(shipped_plan))
    for r in resources:
        if r.type == CONTAINER and r.name == "postgres":
            r.inputs["memoryReservation"] = r.inputs["memory"] = 14 * 1024
            r.inputs["networksAdvanced"].append({"name": "devtools-edge", "aliases": ["postgres"]})
    found = {(v.policy, v.urn is None) for v in policy_pack.analyze_stack(resources)}
    assert found - baseline == {("memory-capacity", True), ("network-segmentation", False)}
    assert baseline <= found


def test_policy_config_changes_levels_and_settings(policy_pack, shipped_plan):
    info = policy_pack.info()
    redis = _container(shipped_plan, "redis")
    redis.inputs["restart"] = "no"
    config = {"all": "advisory", "read-only-root-filesystem": "disabled"}
    policy_pack.configure(resolve(config, info))
    assert {(v.policy, v.enforcement) for v in policy_pack.analyze(redis)} == {("restart-policy", "advisory")}
    assert "volumes-not-shared" in {v.policy for v in policy_pack.analyze_stack(shipped_plan)}
    # One setting adds a finding (a larger host reserve), another removes one (services allowed to share).
    policy_pack.configure(resolve({"memory-capacity": {"hostReserveMiB": 15 * 1024},
                                   "volumes-not-shared": {"allowedServices": ["backup", "redis"]}}, info))
    assert {v.policy for v in policy_pack.analyze_stack(shipped_plan)} == {"memory-capacity"}
    policy_pack.configure(resolve({}, info))


def test_evaluate_runs_a_whole_preview_through_the_pack(policy_pack, shipped_plan):
    info, violations = evaluate(policy_pack, list(shipped_plan))
    assert violations, "the shipped stack has accepted advisory findings (docs/policies.md)"
    assert all(v.enforcement == "advisory" and info.policy(v.policy) for v in violations)
    assert violations == sorted(violations, key=lambda v: (v.policy, v.urn or "", v.message))


def test_a_pack_that_cannot_start_is_reported(tmp_path):
    (tmp_path / "__main__.py").write_text("raise SystemExit('broken pack')\n")
    with pytest.raises(PackError, match="exited with code 1 before it listened"):
        with PolicyPackClient(pack_dir=tmp_path, startup_timeout=10):
            pass


def test_unknown_enforcement_level_is_refused_by_the_client(policy_pack):
    with pytest.raises(KeyError):
        policy_pack.configure({"image-pinned": PolicySetting("sometimes")})


def test_the_pack_package_runs_on_its_own():
    """Inside policies/devtools_policy/ only the standard library, the packages policies/requirements.txt
    pins (the policy SDK, the YAML and PromQL parsers) and relative imports: the engine runs the pack from
    policies/ with nothing of the program on the path."""
    import ast
    import importlib.metadata
    import re
    import sys

    from conftest import ROOT

    def normal(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    lines = (ROOT / "policies" / "requirements.txt").read_text().splitlines()
    pinned = {normal(line.split("==")[0].strip()) for line in lines if "==" in line and not line.startswith("#")}
    importable = {module for module, dists in importlib.metadata.packages_distributions().items()
                  if any(normal(d) in pinned for d in dists)}
    assert {"pulumi_policy", "yaml", "promql_parser"} <= importable
    allowed = set(sys.stdlib_module_names) | importable
    for path in sorted((ROOT / "policies" / "devtools_policy").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            assert set(roots) <= allowed, (path.name, roots)
