"""One catalog service rendered as one Docker container on the droplet."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from catalog.services import Healthcheck, Service, secret_path
from catalog.settings import Settings
from catalog.units import megabytes
from render.cloud_init import DATA_ROOT
from render.environment import resolved_environment, secret_file_variables
from render.probes import probe_argv
from render.registry import RENDERERS
from render.secrets_wrapper import WRAPPER_PATH, wrapper_entrypoint
from targets.registry import service_image
from targets.sdk import provider_sdk
from targets.unset_inputs import UnsetInputsLeftOut

# Only the resource modules this file uses (targets/sdk.py says why).
docker = provider_sdk("pulumi_docker", "container")


class Container(docker.Container, UnsetInputsLeftOut):
    """pulumi-docker's Container, registered as it registers, without an Output for each input a service
    leaves unset (one container per service: targets/unset_inputs.py)."""


def pinned_image(name: str, spec: Service, wiring: Wiring) -> pulumi.Input[str]:
    """What the container runs: a built service's pinned reference from the registry, or the
    catalog image with the stack's tag override applied (`imageTags` in stack config)."""
    return service_image(name, spec, wiring.settings, wiring.images)


def image_version(image: str) -> str:
    if "@sha256:" in image:
        return image.split("@", 1)[1][:19]
    return image.rsplit(":", 1)[1]


def _docker_duration(seconds: float) -> str:
    return f"{seconds:g}s"


def healthcheck_test(check: Healthcheck, port: int | None) -> list[str]:
    if check.test is not None:
        return list(check.test)
    assert check.probe is not None and port is not None  # the catalog model requires both for a path
    return ["CMD", *probe_argv(check.probe, port, check.path, check.timeout)]


def healthy_within(check: Healthcheck) -> int:
    """Seconds after which a container that is not healthy has failed its deploy."""
    return math.ceil(check.start_period + check.retries * (check.interval + check.timeout)) + 30


@dataclass(frozen=True)
class Wiring:
    """What a service is plugged into, built once by the stack."""

    provider: pulumi.ProviderResource
    networks: dict[str, docker.Network]
    secrets: dict[str, pulumi.Output[str]]
    settings: Settings
    images: Mapping[str, pulumi.Input[str]]  # built services' pinned references (targets/registry.py)


class ServiceContainer(pulumi.ComponentResource):
    def __init__(self, name: str, spec: Service, wiring: Wiring, configs: dict[str, str],
                 depends_on: list[pulumi.Resource], opts: pulumi.ResourceOptions | None = None):
        super().__init__("devtools:service:Service", name, None, opts)
        settings = wiring.settings
        image = pinned_image(name, spec, wiring)
        limits, reservations = spec.deploy.resources.limits, spec.deploy.resources.reservations
        check = spec.healthcheck

        uploads = [
            docker.ContainerUploadArgs(file=mount.target, content=configs[mount.source], permissions="0444")
            for mount in spec.configs
        ] + [
            # 0444 as Docker's own secrets: the container is the trust boundary, and images that
            # drop to an unprivileged user after start (postgres) must still read the file.
            docker.ContainerUploadArgs(file=secret_path(m.source), content=wiring.secrets[m.source], permissions="0444")
            for m in spec.secret_mounts
        ]
        entrypoint = spec.entrypoint
        if spec.exported_secrets:
            # The wrapper fills the plain variables from the files, then execs the catalog's command.
            uploads.append(docker.ContainerUploadArgs(
                file=WRAPPER_PATH, content=RENDERERS["secrets_wrapper"](spec, settings), permissions="0555"))
            entrypoint = wrapper_entrypoint()
        environment = {**resolved_environment(spec, settings), **secret_file_variables(spec)}

        self.container = Container(
            name,
            image=image,
            entrypoints=entrypoint,
            command=spec.command,
            envs=[f"{key}={value}" for key, value in environment.items()],
            uploads=uploads,
            memory=megabytes(limits.memory),
            memory_reservation=megabytes(reservations.memory),
            memory_swap=megabytes(limits.memory),  # no swap on top of the limit
            cpus=f"{limits.cpus:g}",
            # Relative weight under contention, from the reservation (1024 = one CPU).
            cpu_shares=max(2, round(reservations.cpus * 1024)),
            restart=spec.restart,
            max_retry_count=5 if spec.restart == "on-failure" else None,
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=healthcheck_test(check, spec.port),
                interval=_docker_duration(check.interval),
                timeout=_docker_duration(check.timeout),
                retries=check.retries,
                start_period=_docker_duration(check.start_period),
            ) if check else None,
            # Wait for healthy on create: with create-before-delete replacement, the old
            # container keeps serving until the new one is healthy.
            wait=check is not None,
            wait_timeout=healthy_within(check) if check else None,
            must_run=spec.long_running,
            # A one-shot job: `pulumi up` waits for it to exit; `dependency` then checks its exit code.
            attach=not spec.long_running,
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(name=wiring.networks[net].name, aliases=[name])
                for net in spec.networks
            ],
            ports=[_port(p) for p in spec.ports],
            volumes=[
                docker.ContainerVolumeArgs(host_path=f"{DATA_ROOT}/{volume}", container_path=path, read_only=read_only)
                for volume, path, read_only in spec.volume_mounts()
            ] + [
                # Host paths are mounted as they are, not under the data root.
                docker.ContainerVolumeArgs(host_path=host, container_path=path, read_only=read_only)
                for host, path, read_only in spec.host_mounts()
            ],
            capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"], adds=list(spec.cap_add) or None),
            security_opts=["no-new-privileges:true"],
            ulimits=[docker.ContainerUlimitArgs(name=limit, soft=u.soft, hard=u.hard)
                     for limit, u in spec.effective_ulimits().items()],
            read_only=spec.read_only,
            user=spec.user,
            init=True,
            log_driver="json-file",
            log_opts={"max-size": settings.log_max_size, "max-file": str(settings.log_max_files)},
            labels=[
                docker.ContainerLabelArgs(label=label, value=value)
                for label, value in (
                    ("devtools.service", name),
                    ("devtools.role", spec.role),
                    ("devtools.version", pulumi.Output.from_input(image).apply(image_version)),
                    ("devtools.stack", pulumi.get_stack()),
                )
            ],
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=wiring.provider,
                depends_on=depends_on,
                # The old container goes before the new one starts when two cannot run at once: a
                # published host port cannot be bound twice, and two processes writing one data
                # directory (Postgres, Redis's AOF, Prometheus's TSDB lock) corrupt it or refuse to
                # start. Stateless services keep create-before-delete: no downtime.
                delete_before_replace=bool(spec.ports) or spec.writes_state,
            ),
        )
        self.dependency = self.container if spec.long_running else _succeeded(name, self.container)
        self.register_outputs({"image": image})


class JobFailed(Exception):
    pass


def _succeeded(name: str, container: docker.Container) -> pulumi.Output[docker.Container]:
    """The job's container, once it exited 0: compose's `service_completed_successfully`.

    With attach the provider waits for the container to stop but records a failing exit code
    without failing the create. Services that depend on the job take this Output in
    depends_on, so on a non-zero exit they are never created and the update stops here.
    """
    def check(code: int | None) -> docker.Container:
        if code != 0:
            raise JobFailed(
                f"job {name} exited with code {code}; its output: ssh to the droplet and run "
                f"`docker logs $(docker ps -aq --filter label=devtools.service={name} | head -1)`. A fix to its "
                f"files reruns it on the next `pulumi up`; to rerun it unchanged: `pulumi up --replace <its container URN>`"
            )
        return container
    return container.exit_code.apply(check)


def _port(mapping: str) -> docker.ContainerPortArgs:
    """Compose `HOST:CONTAINER` (optionally `IP:HOST:CONTAINER`)."""
    parts = mapping.split(":")
    ip = parts[0] if len(parts) == 3 else "0.0.0.0"
    return docker.ContainerPortArgs(ip=ip, external=int(parts[-2]), internal=int(parts[-1]))
