"""The droplet's cloud-init, as the program declares it, checked by the real `cloud-init schema`."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from render.cloud_init import DATA_ROOT

DROPLET = "digitalocean:index/droplet:Droplet"
# Installed by scripts/setup-system; a missing binary fails these tests rather than skipping them.
CLOUD_INIT = shutil.which("cloud-init") or "cloud-init"


def schema_check(tmp_path, text: str) -> subprocess.CompletedProcess:
    path = tmp_path / "user-data.yaml"
    path.write_text(text)
    return subprocess.run([CLOUD_INIT, "schema", "--config-file", str(path)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def user_data(shipped_plan) -> str:
    return shipped_plan.one(DROPLET).inputs["userData"]


def test_declared_user_data_is_valid_cloud_config(tmp_path, user_data):
    result = schema_check(tmp_path, user_data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Valid cloud-config" in result.stdout


def test_schema_check_rejects_a_broken_config(tmp_path, user_data):
    broken = yaml.safe_load(user_data)
    broken["packages"] = {"docker-ce": True}
    result = schema_check(tmp_path, "#cloud-config\n" + yaml.safe_dump(broken))
    assert result.returncode != 0


def test_docker_from_dockers_repository_with_log_rotation_and_live_restore(user_data):
    config = yaml.safe_load(user_data)
    source = config["apt"]["sources"]["docker.list"]["source"]
    assert "https://download.docker.com/linux/ubuntu" in source
    assert {"docker-ce", "containerd.io"} <= set(config["packages"])
    daemon = next(f for f in config["write_files"] if f["path"] == "/etc/docker/daemon.json")
    settings = json.loads(daemon["content"])
    assert settings["live-restore"] is True
    assert settings["log-opts"]["max-size"] and settings["log-opts"]["max-file"]


def test_block_volume_is_mounted_at_the_data_root(user_data):
    mounts = yaml.safe_load(user_data)["mounts"]
    assert any(m[0].startswith("/dev/disk/by-id/scsi-0DO_Volume_") and m[1] == DATA_ROOT for m in mounts)
