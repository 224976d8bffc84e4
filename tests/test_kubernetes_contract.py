"""The cluster gives every platform service what its code needs, by the same contract as the droplet
(config/platform-contract.yaml, checked by tests/test_platform_contract.py).

Each pod is read as its process would see it: the container's env, the files its ConfigMap and Secret
volumes put at each mount path, and the variables the entrypoint wrapper exports; then presented in the
droplet container's shape so the contract's own check runs unchanged.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from support.kubernetes_manifests import by_kind, manifests
from test_platform_contract import SERVICES, set_but_unread, unmet

from ops.stackfile import read_stack_config
from tests.conftest import run_plan

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def as_delivered(workload: dict, config_maps: dict[str, dict]) -> SimpleNamespace:
    """One pod as a droplet container's recorded inputs: envs, uploads (path -> content), entrypoints."""
    pod = workload["spec"]["template"]["spec"]
    container = pod["containers"][0]
    volumes = {v["name"]: v for v in pod["volumes"]}
    uploads = []
    for mount in container["volumeMounts"]:
        volume = volumes.get(mount["name"], {})
        if "configMap" in volume:
            data = config_maps[volume["configMap"]["name"]]["data"]
            uploads.append({"file": mount["mountPath"], "content": data[mount["subPath"]]})
        for source in volume.get("projected", {}).get("sources", []):
            for item in source["secret"]["items"]:
                uploads.append({"file": f"{mount['mountPath']}/{item['path']}", "content": "secret-placeholder"})
    envs = [f"{e['name']}={e['value']}" for e in container.get("env", []) if "value" in e]
    return SimpleNamespace(inputs={"envs": envs, "uploads": uploads, "entrypoints": container.get("command")})


@pytest.fixture(scope="module", params=["managed", "statefulset"])
def pods(request):
    # Every platform service, including those the prod stacks omit: their contract holds when kept.
    cluster = json.loads(read_stack_config("prod-k8s").config["devtools:kubernetes"])
    plan = run_plan(stack="prod-k8s", overrides={"devtools:omitServices": "[]",
                                                 "devtools:kubernetes": json.dumps({**cluster, "datastores": request.param})})
    docs = manifests(plan)
    config_maps = {d["metadata"]["name"]: d for d in by_kind(docs, "ConfigMap")}
    return {d["metadata"]["labels"]["app.kubernetes.io/name"]: as_delivered(d, config_maps) for d in by_kind(docs, *WORKLOADS)}


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_gets_all_its_code_needs_on_the_cluster(pods, name):
    assert unmet(name, pods[name]) == []
    assert set_but_unread(name, pods[name]) == []


def test_the_adapter_notices_a_lost_export_and_a_plain_secret(pods):
    name = next(n for n in SERVICES if pods[n].inputs["entrypoints"])
    broken = SimpleNamespace(inputs={**pods[name].inputs, "entrypoints": None})
    assert any("neither as a file nor exported" in p for p in unmet(name, broken))
