"""The droplet's cloud-init: Docker from Docker's apt repository, daemon defaults, the data volume.

A pure function of the settings, so tests can hand its output to `cloud-init schema`.
"""

from __future__ import annotations

import json

from catalog.model import dump_yaml
from catalog.settings import Settings

DATA_ROOT = "/mnt/devtools-data"
# Docker's release signing key (https://download.docker.com/linux/ubuntu/gpg).
DOCKER_APT_KEY_ID = "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"


def volume_device(volume_name: str) -> str:
    """Where DigitalOcean exposes an attached block volume on the droplet."""
    return f"/dev/disk/by-id/scsi-0DO_Volume_{volume_name}"


def docker_daemon_config(settings: Settings) -> dict:
    return {
        # Containers keep running while dockerd restarts (engine upgrades).
        "live-restore": True,
        "log-driver": "json-file",
        "log-opts": {"max-size": settings.log_max_size, "max-file": str(settings.log_max_files)},
        # No container may gain privileges through setuid binaries unless it asks.
        "no-new-privileges": True,
        "userland-proxy": False,
    }


def render_cloud_init(settings: Settings, volume_name: str) -> str:
    config = {
        "package_update": True,
        "package_upgrade": True,
        "apt": {
            "sources": {
                "docker.list": {
                    "source": "deb [signed-by=$KEY_FILE] https://download.docker.com/linux/ubuntu $RELEASE stable",
                    "keyid": DOCKER_APT_KEY_ID,
                }
            }
        },
        "packages": [
            "docker-ce",
            "docker-ce-cli",
            "containerd.io",
            "unattended-upgrades",
        ],
        "mounts": [
            [volume_device(volume_name), DATA_ROOT, "ext4", "defaults,nofail,discard,noatime", "0", "2"],
        ],
        "write_files": [
            {
                "path": "/etc/docker/daemon.json",
                "permissions": "0644",
                "content": json.dumps(docker_daemon_config(settings), indent=2) + "\n",
            },
            {
                "path": "/etc/ssh/sshd_config.d/10-devtools.conf",
                "permissions": "0644",
                "content": "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n",
            },
        ],
        "runcmd": [
            # The volume is attached at creation; mount it before Docker starts any container.
            ["mkdir", "-p", DATA_ROOT],
            ["mount", "-a"],
            ["systemctl", "enable", "--now", "docker"],
            ["systemctl", "restart", "docker"],
            ["systemctl", "reload", "ssh"],
        ],
    }
    return "#cloud-config\n" + dump_yaml(config, width=1000)
