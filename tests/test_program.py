"""The program under Pulumi's mocks: every resource the issue asks for, with the right inputs."""

from __future__ import annotations

import pytest
from pulumi.runtime import rpc

from ops.engine import is_unknown
from render.cloud_init import DATA_ROOT
from render.secrets_wrapper import WRAPPER_PATH, wrapper_entrypoint
from tests.conftest import deployed_catalog, run_plan

DROPLET = "digitalocean:index/droplet:Droplet"
FIREWALL = "digitalocean:index/firewall:Firewall"
NETWORK = "docker:index/network:Network"

CATALOG = deployed_catalog()


def test_host_resources_exist_once(shipped_plan):
    for typ in (
        "digitalocean:index/vpc:Vpc",
        DROPLET,
        FIREWALL,
        "digitalocean:index/volume:Volume",
        "digitalocean:index/reservedIp:ReservedIp",
        "digitalocean:index/reservedIpAssignment:ReservedIpAssignment",
        "digitalocean:index/project:Project",
        "command:remote:Command",
        "pulumi:providers:docker",
    ):
        shipped_plan.one(typ)


def test_droplet_is_ubuntu_lts_with_backups_monitoring_and_the_volume(shipped_plan):
    droplet = shipped_plan.one(DROPLET).inputs
    assert droplet["image"] == "ubuntu-24-04-x64"
    assert droplet["backups"] is True and droplet["monitoring"] is True
    assert droplet["sshKeys"] and droplet["volumeIds"]
    assert droplet["userData"].startswith("#cloud-config")
    assert "devtools" in droplet["tags"]


def test_firewall_opens_exactly_http_https_and_admin_ssh(shipped_plan):
    rules = shipped_plan.one(FIREWALL).inputs["inboundRules"]
    opened = sorted((r["protocol"], r["portRange"], tuple(r["sourceAddresses"])) for r in rules)
    assert opened == [
        ("tcp", "22", ("198.51.100.7/32",)),
        ("tcp", "443", ("0.0.0.0/0", "::/0")),
        ("tcp", "80", ("0.0.0.0/0", "::/0")),
    ]


def test_no_docker_resource_before_the_gate(shipped_plan):
    gate = shipped_plan.one("command:remote:Command")
    provider = shipped_plan.one("pulumi:providers:docker")
    assert gate.urn in provider.dependencies
    docker_resources = [r for r in shipped_plan if r.type.startswith("docker:index/")]
    assert docker_resources
    assert all(r.provider and r.provider.startswith(provider.urn) for r in docker_resources)


def test_every_catalog_service_is_exactly_one_container(shipped_plan):
    containers = shipped_plan.containers()
    assert sorted(containers) == sorted(CATALOG.services)


@pytest.mark.parametrize("name", sorted(CATALOG.services))
def test_container_has_limits_restart_health_pinned_image_and_networks(shipped_plan, name):
    spec = CATALOG.services[name]
    inputs = shipped_plan.containers()[name].inputs
    limits, reservations = spec.deploy.resources.limits, spec.deploy.resources.reservations
    assert inputs["memory"] == limits.memory // 1024**2
    assert inputs["memoryReservation"] == reservations.memory // 1024**2
    assert float(inputs["cpus"]) == limits.cpus
    assert inputs["restart"] == spec.restart
    if spec.long_running:
        assert inputs["healthcheck"]["tests"]
        assert inputs["wait"] is True and inputs["mustRun"] is True
    else:
        # A one-shot job runs to completion: it is attached to, not kept running.
        assert "healthcheck" not in inputs and inputs["mustRun"] is False and inputs["attach"] is True
    # Pinned: by digest (a build the program pushed) or by a version tag.
    reference, _, digest = inputs["image"].partition("@")
    tag = digest[:19] if digest else reference.rsplit(":", 1)[1]
    assert tag and tag != "latest" and (not digest or digest.startswith("sha256:"))
    assert sorted(n["name"] for n in inputs["networksAdvanced"]) == sorted(f"devtools-{n}" for n in spec.networks)
    assert all(n["aliases"] == [name] for n in inputs["networksAdvanced"])
    assert inputs["logOpts"]["max-size"] and inputs["logOpts"]["max-file"]
    assert inputs["securityOpts"] == ["no-new-privileges:true"]
    assert inputs["capabilities"]["drops"] == ["ALL"]
    labels = {label["label"]: label["value"] for label in inputs["labels"]}
    assert labels["devtools.service"] == name and labels["devtools.version"] == tag


@pytest.mark.parametrize("name", sorted(CATALOG.services))
def test_secrets_arrive_as_files_never_as_env_values(shipped_plan, name):
    spec = CATALOG.services[name]
    inputs = shipped_plan.containers()[name].inputs
    envs = dict(e.split("=", 1) for e in inputs["envs"])
    for mount in spec.secret_mounts:
        if mount.file_variable:
            assert envs[mount.file_variable] == f"/run/secrets/{mount.source}"
        for variable in mount.exports:
            # Filled by the entrypoint wrapper inside the process, never set on the container.
            assert variable not in envs
    if spec.secret_mounts:
        uploads = inputs["uploads"]
        assert rpc.is_rpc_secret(uploads), "uploads holding secrets must be Pulumi secrets"
        files = {u["file"]: u["content"] for u in uploads["value"]}
        assert {f"/run/secrets/{m.source}" for m in spec.secret_mounts} <= set(files)
    if spec.exported_secrets:
        assert inputs["entrypoints"] == wrapper_entrypoint()
        assert inputs["command"] == spec.command
        script = files[WRAPPER_PATH]
        for variable, secret in spec.exported_secrets:
            assert f"export_secret {variable} /run/secrets/{secret}" in script


def _secret_values(plan) -> set[str]:
    values = {
        u["content"] for r in plan.containers().values()
        if rpc.is_rpc_secret(r.inputs.get("uploads")) for u in r.inputs["uploads"]["value"]
        if u["file"].startswith("/run/secrets/")
    }
    # A derived secret (a URL carrying a password) holds its source: look for the sources too.
    return values | {part for v in values for part in v.replace("@", ":").split(":") if len(part) >= 16}


def test_no_secret_in_any_container_env_label_or_command(shipped_plan):
    secret_values = _secret_values(shipped_plan)
    assert len(secret_values) >= len([s for s in CATALOG.secrets if any(
        m.source == s for svc in CATALOG.services.values() for m in svc.secret_mounts)])
    for name, container in shipped_plan.containers().items():
        inputs = container.inputs
        visible = [*inputs.get("envs", []), *(inputs.get("command") or []), *(inputs.get("entrypoints") or []),
                   *(f"{label['label']}={label['value']}" for label in inputs.get("labels", []))]
        leaked = [v for v in secret_values for text in visible if v in text]
        assert not leaked, f"{name} shows a secret in its configuration"


def test_generated_secrets_come_from_random_passwords(shipped_plan):
    generated = {name for name, s in CATALOG.secrets.items() if s.generate}
    passwords = {r.name.removeprefix("secrets-") for r in shipped_plan.of_type("random:index/randomPassword:RandomPassword")}
    assert passwords == generated


def test_data_network_is_internal_and_joined_only_by_its_users(shipped_plan):
    networks = {r.inputs["name"]: r.inputs for r in shipped_plan.of_type(NETWORK)}
    assert networks["devtools-data"]["internal"] is True
    assert networks["devtools-edge"].get("internal") is False
    on_data = {
        name for name, r in shipped_plan.containers().items()
        if any(n["name"] == "devtools-data" for n in r.inputs["networksAdvanced"])
    }
    users = {name for name, s in CATALOG.services.items()
             if {"postgres", "redis"} & set(s.dependencies) or s.role == "datastore"}
    assert on_data == set(CATALOG.services_on("data"))
    assert on_data <= users | {"migrate", "backup", "postgres-exporter", "redis-exporter"}


def test_depends_on_orders_containers(shipped_plan):
    containers = shipped_plan.containers()
    for name, spec in CATALOG.services.items():
        for dep in spec.dependencies:
            assert containers[dep].urn in containers[name].dependencies, f"{name} must wait for {dep}"


def test_containers_replace_without_downtime(shipped_plan):
    # No fixed container name: Pulumi auto-names, so a new container can start (and turn
    # healthy, wait=True) before the old one is deleted; the alias keeps the DNS name.
    for name, container in shipped_plan.containers().items():
        assert "name" not in container.inputs, name
    stateless = [name for name, spec in CATALOG.services.items() if not spec.ports and not spec.writes_state]
    assert {"orchestrator", "rag-context", "agent-registry"} <= set(stateless)
    for name in stateless:
        assert shipped_plan.containers()[name].delete_before_replace is False, name


def test_two_copies_of_a_stateful_or_port_publishing_container_never_run_at_once(shipped_plan):
    must_go_first = {name for name, spec in CATALOG.services.items() if spec.ports or spec.writes_state}
    assert {"postgres", "redis", "prometheus", "edge"} <= must_go_first
    for name in must_go_first:
        assert shipped_plan.containers()[name].delete_before_replace is True, name


def test_volumes_live_on_the_block_volume(shipped_plan):
    postgres = shipped_plan.containers()["postgres"].inputs
    assert {"hostPath": f"{DATA_ROOT}/postgres-data", "containerPath": "/var/lib/postgresql/data", "readOnly": False} in postgres["volumes"]


def test_image_tag_override_from_stack_config(tmp_path):
    plan = run_plan(overrides={"devtools:imageTags": '{"grafana": "12.1.2"}'})
    assert plan.containers()["grafana"].inputs["image"] == "grafana/grafana:12.1.2"
    assert plan.containers()["loki"].inputs["image"] == CATALOG.services["loki"].image


def test_first_preview_mode_leaves_computed_values_unknown():
    plan = run_plan(known=False)
    provider = plan.one("pulumi:providers:docker")
    assert is_unknown(provider.inputs["host"])
    assert len(plan.containers()) == len(CATALOG.services)
