"""Under mocks: the observability containers as the program declares them."""

from __future__ import annotations

import pytest
import yaml
from pulumi.runtime import rpc

from catalog.errors import InputError
from catalog.inputs import load_inputs
from ops.stackfile import read_stack_config
from render.cloud_init import DATA_ROOT
from tests.conftest import run_plan, shipped_catalog

OBSERVABILITY = ["prometheus", "alertmanager", "grafana", "loki", "alloy", "cadvisor", "node-exporter",
                 "postgres-exporter", "redis-exporter"]
STATEFUL = {"prometheus": "/prometheus", "alertmanager": "/alertmanager", "grafana": "/var/lib/grafana",
            "loki": "/loki", "alloy": "/var/lib/alloy/data"}
DOCKER_SOCKET = "/var/run/docker.sock"


def _label(container, key: str) -> str:
    return next(entry["value"] for entry in container.inputs["labels"] if entry["label"] == key)


@pytest.mark.parametrize("name", OBSERVABILITY)
def test_observability_container_has_limits_health_check_and_no_published_port(shipped_plan, name):
    container = shipped_plan.containers()[name]
    inputs = container.inputs
    assert _label(container, "devtools.role") == "observability"
    assert inputs["memory"] > 0 and 0 < inputs["memoryReservation"] <= inputs["memory"]
    assert float(inputs["cpus"]) > 0
    assert inputs["healthcheck"]["tests"][0] in ("CMD", "CMD-SHELL") and inputs["wait"] is True
    assert inputs["restart"] == "unless-stopped"
    assert not inputs.get("ports")
    assert ":latest" not in inputs["image"] and ":" in inputs["image"].rsplit("/", 1)[-1]
    assert inputs["capabilities"]["drops"] == ["ALL"]
    assert "devtools-observability" in [n["name"] for n in inputs["networksAdvanced"]]


@pytest.mark.parametrize(("name", "path"), sorted(STATEFUL.items()))
def test_stateful_observability_services_keep_their_data_on_the_volume(shipped_plan, name, path):
    volumes = shipped_plan.containers()[name].inputs["volumes"]
    data = [v for v in volumes if v["containerPath"] == path]
    assert data and data[0]["hostPath"].startswith(f"{DATA_ROOT}/") and not data[0].get("readOnly")


def test_only_alloy_and_cadvisor_see_the_docker_socket_and_only_read_only(shipped_plan):
    holders = {}
    for name, container in shipped_plan.containers().items():
        for volume in container.inputs.get("volumes") or []:
            if volume["hostPath"] == DOCKER_SOCKET:
                holders[name] = volume.get("readOnly")
    assert holders == {"alloy": True, "cadvisor": True}


def test_host_paths_are_mounted_as_they_are_and_read_only(shipped_plan):
    volumes = shipped_plan.containers()["node-exporter"].inputs["volumes"]
    assert {(v["hostPath"], v["containerPath"], v.get("readOnly")) for v in volumes} == {
        ("/proc", "/host/proc", True), ("/sys", "/host/sys", True), ("/", "/rootfs", True)}


def test_a_writable_host_path_is_refused_with_file_key_and_fix(tmp_path):
    data = shipped_catalog()
    data["services"]["cadvisor"]["volumes"][1] = "/var/run/docker.sock:/var/run/docker.sock"
    (tmp_path / "services.yaml").write_text(yaml.safe_dump(data))
    config = read_stack_config("prod", str(tmp_path / "services.yaml"))
    with pytest.raises(InputError) as error:
        load_inputs(config.config, "prod")
    (problem,) = error.value.problems
    assert problem.key == "services.cadvisor.volumes[1]" and "without `:ro`" in problem.message
    assert ":ro" in problem.fix


def test_secrets_reach_observability_containers_as_files_only(shipped_plan):
    containers = shipped_plan.containers()
    grafana_env = containers["grafana"].inputs["envs"]
    assert "GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/grafana_admin_password" in grafana_env
    assert not any(e.startswith("GF_SECURITY_ADMIN_PASSWORD=") for e in grafana_env)
    exporter_env = containers["postgres-exporter"].inputs["envs"]
    assert "DATA_SOURCE_PASS_FILE=/run/secrets/db_password" in exporter_env
    redis_exporter = containers["redis-exporter"].inputs
    assert not any(e.startswith(("REDIS_PASSWORD=", "REDIS_PASSWORD_FILE=")) for e in redis_exporter["envs"])
    assert redis_exporter["entrypoints"] == ["/bin/sh", "-c"]
    # The files carrying a secret travel as a Pulumi secret: the whole upload list is wrapped.
    assert rpc.is_rpc_secret(containers["grafana"].inputs["uploads"])
    assert not rpc.is_rpc_secret(containers["prometheus"].inputs["uploads"])


def test_prometheus_reaches_every_scrape_target(shipped_plan):
    containers = shipped_plan.containers()
    prometheus_nets = {n["name"] for n in containers["prometheus"].inputs["networksAdvanced"]}
    config = yaml.safe_load(next(u["content"] for u in containers["prometheus"].inputs["uploads"]
                                 if u["file"].endswith("prometheus.yml")))
    for job in config["scrape_configs"]:
        target = containers[job["job_name"]]
        assert prometheus_nets & {n["name"] for n in target.inputs["networksAdvanced"]}, job["job_name"]


def test_no_datastore_sits_on_both_edge_and_data(shipped_plan):
    for name, container in shipped_plan.containers().items():
        nets = {n["name"] for n in container.inputs["networksAdvanced"]}
        if _label(container, "devtools.role") in ("datastore", "observability"):
            assert not {"devtools-edge", "devtools-data"} <= nets, name


def test_prometheus_retention_beyond_its_share_of_the_volume_is_refused(tmp_path):
    config = read_stack_config("prod")
    with pytest.raises(InputError) as error:
        load_inputs({**config.config, "devtools:volumeSizeGb": "40"}, "prod")
    (problem,) = error.value.problems
    assert problem.file == "config/services.yaml" and problem.key.startswith("services.prometheus.command[")
    assert "--storage.tsdb.retention.size=10GB" in problem.fix


def test_alert_email_without_smtp_server_is_refused(tmp_path):
    config = {k: v for k, v in read_stack_config("prod").config.items() if k != "devtools:alertSmtpSmarthost"}
    with pytest.raises(InputError) as error:
        load_inputs(config, "prod")
    assert any("alertSmtpSmarthost" in p.fix and p.file == "Pulumi.prod.yaml" for p in error.value.problems)


def test_the_unknowns_preview_still_declares_every_observability_container():
    plan = run_plan(known=False)
    assert set(OBSERVABILITY) <= set(plan.containers())
