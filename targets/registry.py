"""The stack's container registry and the images it holds: built and pushed, or pinned prebuilt.

The droplet pulls with a read-only credential handed to its Docker provider (`pull_auth`):
the daemon receives it with each pull, so it is never written on the droplet. Images the
program builds are pushed with a separate write credential and then run by digest, so a
container never runs anything but the bytes that were built. What each built service runs is
decided by catalog/platform_images.py (and checked there before anything is declared).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi

from catalog.model import PROGRAM_DIR
from catalog.platform_images import builds_from_platform, built_services, git, source_dir, uses_registry
from catalog.services import Catalog, Service
from catalog.settings import Settings
from targets.sdk import provider_sdk

# Only the resource modules this file uses (targets/sdk.py says why).
do = provider_sdk("pulumi_digitalocean", "container_registry", "container_registry_docker_credentials")
docker_build = provider_sdk("pulumi_docker_build", "image")

# Context files that never belong in an image: bytecode caches differ between machines.
SKIPPED_PARTS = ("__pycache__",)


def context_digest(context: Path) -> str:
    """sha256 over every file of a build context (path, mode, bytes): the same files, the same tag."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file() and not set(p.parts) & set(SKIPPED_PARTS)):
        digest.update(f"{path.relative_to(context).as_posix()}\0{path.stat().st_mode & 0o111:o}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def commit_time(source: Path, sha: str) -> str:
    """The commit's time in UTC (RFC 3339): BUILD_DATE and the `created` label. Taken from the
    commit, not the clock, so the same SHA builds with the same arguments and is not rebuilt."""
    stamp = git(source, "show", "-s", "--format=%cI", sha)
    if stamp is None:
        raise RuntimeError(f"git cannot read commit {sha} in {source}")
    return dt.datetime.fromisoformat(stamp).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _login(docker_config: str) -> tuple[str, str]:
    """(username, password) from the registry's Docker config JSON (`auths.<server>.auth` is base64 user:pass)."""
    auths = json.loads(docker_config)["auths"]
    user, _, password = base64.b64decode(next(iter(auths.values()))["auth"]).decode().partition(":")
    return user, password


@dataclass(frozen=True)
class PullCredentials:
    """The registry's read-only login: its address and a Docker config JSON (a secret Output).
    Each target hands it on its own way (the droplet's Docker provider, a cluster's pull secret)."""

    address: pulumi.Output[str]
    config_file_content: pulumi.Output[str]


class Registry(pulumi.ComponentResource):
    """The registry, its credentials, and `images`: the pinned reference each built service runs."""

    def __init__(self, name: str, catalog: Catalog, settings: Settings, opts: pulumi.ResourceOptions | None = None):
        super().__init__("devtools:images:Registry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.images: dict[str, pulumi.Input[str]] = dict(settings.platform_images)
        self.pull_auth: PullCredentials | None = None
        if not uses_registry(catalog, settings):
            self.register_outputs({})
            return

        self.registry = do.ContainerRegistry(
            name, name=settings.container_registry, subscription_tier_slug=settings.registry_tier, region=settings.region,
            # Deleting the registry deletes every image the droplet runs.
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        pull = do.ContainerRegistryDockerCredentials(f"{name}-pull", registry_name=self.registry.name, write=False, opts=child)
        self.pull_auth = PullCredentials(
            address=self.registry.server_url, config_file_content=pulumi.Output.secret(pull.docker_credentials))

        to_build = {n: spec for n, spec in built_services(catalog).items()
                    if n not in settings.platform_images and (spec.build.source == "project" or builds_from_platform(n, spec, settings))}
        push = None
        if to_build:
            push = do.ContainerRegistryDockerCredentials(f"{name}-push", registry_name=self.registry.name, write=True, opts=child)
        for svc, spec in built_services(catalog).items():
            if svc in settings.platform_images:
                continue
            repository = pulumi.Output.concat(self.registry.endpoint, "/", spec.image)
            if svc in to_build:
                self.images[svc] = self._build(svc, spec, settings, repository, push)
            else:
                # Pushed before, by a stack that built this SHA: the tag is the commit.
                self.images[svc] = pulumi.Output.concat(repository, ":", settings.platform_git_sha)
        self.register_outputs({"endpoint": self.registry.endpoint})

    def _build(self, svc: str, spec: Service, settings: Settings, repository: pulumi.Output[str],
               push: do.ContainerRegistryDockerCredentials) -> pulumi.Output[str]:
        assert spec.build is not None
        if spec.build.source == "project":
            root = PROGRAM_DIR
            tag = context_digest(root / spec.build.context)[:32]
            args: dict[str, str] = {}
            labels = {"org.opencontainers.image.version": tag}
        else:
            root = source_dir(settings.platform_source)
            tag = settings.platform_git_sha
            created = commit_time(root, tag)
            args = {"GIT_SHA": tag, "BUILD_DATE": created}
            labels = {"org.opencontainers.image.revision": tag, "org.opencontainers.image.created": created,
                      "org.opencontainers.image.source": settings.platform_repository_url}
        login = push.docker_credentials.apply(_login)
        image = docker_build.Image(
            f"{svc}-image",
            tags=[pulumi.Output.concat(repository, ":", tag)],
            context=docker_build.BuildContextArgs(location=str(root / spec.build.context)),
            dockerfile=docker_build.DockerfileArgs(location=str(root / spec.build.dockerfile)),
            build_args=args,
            labels=labels,
            platforms=[docker_build.Platform.LINUX_AMD64],  # the droplet's architecture
            push=True,
            # A preview plans the build without running it: previews need no Docker engine and stay quick.
            build_on_preview=False,
            registries=[docker_build.RegistryArgs(
                address=self.registry.server_url,
                username=login.apply(lambda pair: pair[0]),
                password=pulumi.Output.secret(login.apply(lambda pair: pair[1])),
            )],
            opts=pulumi.ResourceOptions(parent=self),
        )
        # `ref` is the pushed tag with its digest (repo:tag@sha256:...): the container runs exactly that build.
        return image.ref


def service_image(name: str, spec: Service, settings: Settings, images: Mapping[str, pulumi.Input[str]]) -> pulumi.Input[str]:
    """The image a service runs on any target: a built service's pinned reference from `images`
    (Registry.images), or the catalog image with the stack's tag override applied (`imageTags`)."""
    if spec.build is not None:
        return images[name]
    tag = settings.image_tags.get(name)
    if tag is None or "@sha256:" in spec.image:
        return spec.image
    repository = spec.image.rsplit(":", 1)[0] if ":" in spec.image.rsplit("/", 1)[-1] else spec.image
    return f"{repository}:{tag}"
