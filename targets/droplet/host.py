"""The droplet and everything around it on DigitalOcean, plus the "Docker is ready" gate."""

from __future__ import annotations

import pulumi
import pulumi_command as command

from catalog.settings import Settings
from render.cloud_init import render_cloud_init
from targets.sdk import provider_sdk

# Only the resource modules this file uses (targets/sdk.py says why).
do = provider_sdk("pulumi_digitalocean", "droplet", "firewall", "project", "reserved_ip", "reserved_ip_assignment", "volume", "vpc")

SSH_USER = "root"
# Exit 2 from `cloud-init status --wait` means it finished with recoverable warnings (23.4+).
WAIT_FOR_DOCKER = (
    "cloud-init status --wait >/dev/null; rc=$?; "
    "if [ $rc -ne 0 ] && [ $rc -ne 2 ]; then echo \"cloud-init failed ($rc)\" >&2; exit $rc; fi; "
    "docker info --format '{{.ServerVersion}}'"
)


def firewall_inbound_rules(settings: Settings, public_ports: tuple[int, ...] = (80, 443)) -> list[do.FirewallInboundRuleArgs]:
    """The ports the catalog publishes (the edge's) from anywhere; SSH from the admins only; nothing else."""
    anywhere = ["0.0.0.0/0", "::/0"]
    return [
        *(do.FirewallInboundRuleArgs(protocol="tcp", port_range=str(port), source_addresses=anywhere) for port in public_ports),
        do.FirewallInboundRuleArgs(protocol="tcp", port_range="22", source_addresses=list(settings.admin_cidrs)),
    ]


class Host(pulumi.ComponentResource):
    """VPC, block volume, droplet, firewall, reserved IP, project, and the gate after cloud-init."""

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None,
                 public_ports: tuple[int, ...] = (80, 443)):
        super().__init__("devtools:host:Host", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stack = pulumi.get_stack()

        self.vpc = do.Vpc(
            f"{name}-vpc",
            name=f"devtools-{stack}",
            region=settings.region,
            ip_range=settings.vpc_ip_range,
            opts=child,
        )
        self.volume_name = f"devtools-{stack}-data"
        self.volume = do.Volume(
            f"{name}-data",
            name=self.volume_name,
            region=settings.region,
            size=settings.volume_size_gb,
            initial_filesystem_type="ext4",
            description="All persistent data of the platform: Postgres, Redis, indexes, metrics, logs.",
            # Losing this volume loses the platform's state; a replace must be deliberate.
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.droplet = do.Droplet(
            f"{name}-droplet",
            name=f"devtools-{stack}",
            image=settings.droplet_image,
            region=settings.region,
            size=settings.droplet_size,
            vpc_uuid=self.vpc.id,
            ssh_keys=list(settings.ssh_keys),
            volume_ids=[self.volume.id],
            monitoring=True,
            backups=True,
            ipv6=True,
            graceful_shutdown=True,
            droplet_agent=True,
            tags=list(settings.tags),
            user_data=render_cloud_init(settings, self.volume_name),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["user_data"]),
        )
        self.firewall = do.Firewall(
            f"{name}-firewall",
            name=f"devtools-{stack}",
            droplet_ids=[self.droplet.id.apply(int)],
            inbound_rules=firewall_inbound_rules(settings, public_ports),
            outbound_rules=[
                do.FirewallOutboundRuleArgs(protocol=proto, port_range="1-65535" if proto != "icmp" else None,
                                            destination_addresses=["0.0.0.0/0", "::/0"])
                for proto in ("tcp", "udp", "icmp")
            ],
            opts=child,
        )
        self.reserved_ip = do.ReservedIp(f"{name}-ip", region=settings.region, opts=child)
        self.ip_assignment = do.ReservedIpAssignment(
            f"{name}-ip-assignment",
            ip_address=self.reserved_ip.ip_address,
            droplet_id=self.droplet.id.apply(int),
            opts=child,
        )
        self.project = do.Project(
            f"{name}-project",
            name=f"devtools-{stack}",
            purpose="Web Application",
            environment="Production" if stack.startswith("prod") else "Development",
            description="Dev-Tools multi-agent AI platform",
            resources=[self.droplet.droplet_urn, self.volume.volume_urn, self.reserved_ip.reserved_ip_urn],
            opts=child,
        )
        # The address the operator, DNS and the Docker provider use: it survives a droplet rebuild.
        self.address = pulumi.Output.all(self.ip_assignment.id, self.reserved_ip.ip_address).apply(lambda v: v[1])
        self.docker_ready = command.remote.Command(
            f"{name}-docker-ready",
            connection=command.remote.ConnectionArgs(host=self.address, user=SSH_USER, dial_error_limit=30),
            create=WAIT_FOR_DOCKER,
            triggers=[self.droplet.id],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.firewall, self.ip_assignment]),
        )
        self.register_outputs({"address": self.address, "droplet_id": self.droplet.id})
