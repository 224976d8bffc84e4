"""One Docker network per catalog network, so each service joins only the segments it needs."""

from __future__ import annotations

import pulumi

from catalog.services import Catalog
from targets.sdk import provider_sdk

# Only the resource modules this file uses (targets/sdk.py says why).
docker = provider_sdk("pulumi_docker", "network")


class Networks(pulumi.ComponentResource):
    def __init__(self, name: str, catalog: Catalog, provider: pulumi.ProviderResource,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("devtools:networks:Networks", name, None, opts)
        self.by_name: dict[str, docker.Network] = {
            net_name: docker.Network(
                f"{name}-{net_name}",
                name=f"devtools-{net_name}",
                driver="bridge",
                # An internal network has no gateway to the outside: data never leaves the host.
                internal=net.internal,
                labels=[docker.NetworkLabelArgs(label="devtools.network", value=net_name)],
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )
            for net_name, net in catalog.networks.items()
        }
        self.register_outputs({})
