"""DevToolsStack: the whole platform, from the validated inputs."""

from __future__ import annotations

import pulumi

from catalog.inputs import Inputs
from catalog.services import published_ports
from render.registry import render
from targets.backup_storage import BackupStorage, spaces_key_values
from targets.droplet.host import SSH_USER, Host
from targets.droplet.networks import Networks
from targets.droplet.service import ServiceContainer, Wiring
from targets.registry import Registry
from targets.sdk import provider_sdk
from targets.secrets import Secrets

# Only the resource modules this file uses (targets/sdk.py says why).
docker = provider_sdk("pulumi_docker", "provider")


class DevToolsStack(pulumi.ComponentResource):
    def __init__(self, name: str, inputs: Inputs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("devtools:stack:DevToolsStack", name, None, opts)
        catalog, settings = inputs.catalog, inputs.settings
        child = pulumi.ResourceOptions(parent=self)

        self.host = Host("host", settings, opts=child, public_ports=published_ports(catalog))
        self.registry = Registry("registry", catalog, settings, opts=child)
        self.docker = docker.Provider(
            "droplet-docker",
            host=self.host.address.apply(lambda ip: f"ssh://{SSH_USER}@{ip}"),
            ssh_opts=["-o", "StrictHostKeyChecking=accept-new", "-o", "ServerAliveInterval=15"],
            # Pulls from the stack's registry with its read-only credential.
            registry_auth=[docker.ProviderRegistryAuthArgs(address=auth.address, config_file_content=auth.config_file_content)]
            if (auth := self.registry.pull_auth) else None,
            # No Docker call before cloud-init has installed and started the engine.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.host.docker_ready]),
        )
        self.networks = Networks("net", catalog, self.docker, opts=child)
        self.secrets = Secrets("secrets", catalog, opts=child)
        wiring = Wiring(self.docker, self.networks.by_name, self.secrets.values, settings, self.registry.images)

        self.services: dict[str, ServiceContainer] = {}
        for svc_name in catalog.start_order():
            spec = catalog.services[svc_name]
            configs = {m.source: render(catalog.configs[m.source].renderer, catalog, spec, settings) for m in spec.configs}
            self.services[svc_name] = ServiceContainer(
                svc_name,
                spec,
                wiring,
                configs,
                # A job's `dependency` resolves only once it exited 0 (service_completed_successfully).
                depends_on=[self.services[dep].dependency for dep in spec.dependencies],
                opts=child,
            )
        # --- datastores: off-droplet backups ---
        # Only a catalog that declares the Spaces keys ships backups (an imported compose stack may not yet).
        if key_pair := spaces_key_values(catalog, self.secrets.values):
            self.backup_storage = BackupStorage("backups", settings, key_pair, opts=child)
        self.register_outputs({"address": self.host.address})
