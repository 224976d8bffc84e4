"""The target switch and the DOKS settings: validated with file, key and fix; the droplet unchanged by the
catalog fields only the cluster reads; `python -m ops preview --stack prod-k8s` as a user runs it."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, run_plan, shipped_catalog

from catalog.errors import InputError
from catalog.inputs import load_inputs
from ops.capacity import measure_cluster
from ops.stackfile import read_stack_config

STACK = "prod-k8s"


def _config(**overrides: object) -> dict[str, str]:
    config = dict(read_stack_config(STACK).config)
    cluster = json.loads(config["devtools:kubernetes"])
    cluster.update(overrides)
    config["devtools:kubernetes"] = json.dumps(cluster)
    return config


def _problems(config: dict[str, str]) -> list:
    with pytest.raises(InputError) as error:
        load_inputs(config, STACK)
    return error.value.problems


def test_the_stack_file_selects_the_doks_target():
    inputs = load_inputs(read_stack_config(STACK).config, STACK)
    assert inputs.settings.target == "doks" and inputs.settings.kubernetes.minor == "1.33"
    assert load_inputs(read_stack_config("prod").config, "prod").settings.target == "droplet"


def test_bad_cluster_settings_are_all_reported_with_file_key_and_fix():
    problems = _problems(_config(version="1.33", nodeSize="s-64vcpu-1tb", minNodes=4, maxNodes=3,
                                 maintenanceStart="4am", databaseSize="huge", surprise=True))
    keys = sorted(p.key for p in problems)
    assert keys == sorted(["devtools:kubernetes.version", "devtools:kubernetes.nodeSize", "devtools:kubernetes.maintenanceStart",
                           "devtools:kubernetes.databaseSize", "devtools:kubernetes.surprise"])
    assert all(p.file == "Pulumi.prod-k8s.yaml" and p.fix for p in problems)
    assert len({p.key for p in problems}) == len(problems)


def test_node_bounds_and_failover_are_checked():
    (problem,) = _problems(_config(minNodes=4, maxNodes=3))
    assert "above maxNodes" in problem.message and "maxNodes" in problem.fix
    (problem,) = _problems(_config(minNodes=1, maxNodes=3))
    assert "no node to fail over to" in problem.message


def test_doks_needs_its_cluster_settings_and_the_droplet_its_size():
    config = read_stack_config(STACK).config
    del config["devtools:kubernetes"]
    (problem,) = _problems(config)
    assert (problem.key, problem.message) == ("devtools:kubernetes", "is required by the doks target (the cluster and its node pool)")
    assert "devtools:kubernetes.nodeSize" in problem.fix
    droplet = dict(read_stack_config("prod").config)
    del droplet["devtools:dropletSize"]
    (problem,) = _problems(droplet)
    assert (problem.key, problem.message) == ("devtools:dropletSize", "is required by the droplet target")


def test_claim_sizes_name_catalog_volumes_and_hold_the_retention():
    problems = _problems(_config(volumeSizesGb={"no-such-volume": 5, "prometheus-data": 5}))
    assert {p.key for p in problems} == {"devtools:kubernetes.volumeSizesGb.no-such-volume",
                                         "devtools:kubernetes.volumeSizesGb.prometheus-data"}


def test_replicas_are_refused_for_a_service_that_writes_state(tmp_path):
    catalog = shipped_catalog()
    stateful = next(n for n, s in catalog["services"].items() if s.get("volumes") and s["role"] == "datastore")
    catalog["services"][stateful]["replicas"] = 2
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog))
    config = {**read_stack_config(STACK).config, "devtools:catalog": str(path)}
    (problem,) = _problems(config)
    assert problem.key == f"services.{stateful}.replicas" and "stateless" in problem.message


def _without_cluster_fields(catalog: dict) -> dict:
    catalog = copy.deepcopy(catalog)
    for key in list(catalog):
        if key.startswith("x-"):
            del catalog[key]
    for body in catalog["services"].values():
        body.pop("replicas", None)
        body.pop("autoscaling", None)
    return catalog


def test_the_droplet_ignores_replicas_and_autoscaling(tmp_path, shipped_plan):
    catalog = shipped_catalog()
    assert any("replicas" in s for s in catalog["services"].values())
    plain = run_plan(_without_cluster_fields(catalog), tmp_path)
    def key(r):
        return r.urn

    assert [(r.urn, r.inputs, sorted(r.dependencies)) for r in sorted(plain, key=key)] == \
        [(r.urn, r.inputs, sorted(r.dependencies)) for r in sorted(shipped_plan, key=key)]


def test_droplet_urns_are_unchanged_by_the_target_switch(shipped_plan):
    # The droplet's components keep their types and parents: an existing stack replaces nothing.
    assert any(r.urn.endswith("devtools:stack:DevToolsStack$devtools:host:Host::host") for r in shipped_plan)
    assert not any("kubernetes" in r.type for r in shipped_plan)


def test_cluster_capacity_counts_replicas_and_a_lost_node():
    plan = run_plan(stack=STACK)
    inputs = load_inputs(read_stack_config(STACK).config, STACK)
    capacity = measure_cluster(list(plan), inputs.settings)
    catalog = inputs.catalog
    assert capacity.memory_requests > sum(s.deploy.resources.reservations.memory for s in catalog.services.values()
                                          if s.role == "agent")
    assert capacity.fits_with_one_node_lost
    line = capacity.line()
    assert "with one node lost 2 nodes" in line and "$" in line and "pg db-s-1vcpu-2gb x1" in line
    small = inputs.settings.model_copy(update={"kubernetes": inputs.settings.kubernetes.model_copy(
        update={"node_size": "s-1vcpu-2gb", "min_nodes": 2})})
    assert not measure_cluster(list(plan), small).fits_with_one_node_lost


def test_offline_preview_of_the_kubernetes_stack_exits_0_with_plan_policies_and_cost():
    result = subprocess.run([sys.executable, "-m", "ops", "preview", "--stack", STACK], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "KubernetesCluster cluster-doks" in out and "capacity: DOKS" in out and "/month" in out
    assert "policy pack devtools" in out and "0 mandatory violation(s)" in out
    sarif = subprocess.run([sys.executable, "-m", "ops", "preview", "--stack", STACK, "--format", "sarif"], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert sarif.returncode == 0 and json.loads(sarif.stdout)["version"] == "2.1.0"
