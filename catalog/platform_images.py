"""Which image each built service runs, checked against the catalog before anything is declared.

A catalog service with `build:` names only its repository; the stack pins its version in one
of three ways (docs/RUNBOOK.md, "Images"):

- build:    `platformSource` (a checkout of the platform at `platformGitSha`): the program builds
            each image, tags it with the SHA, pushes it to the stack's registry and runs its digest;
- by SHA:   `platformGitSha` alone: the images were pushed before, tagged with that SHA;
- by image: `platformImages.<service>`: a reference pinned by digest or by a full SHA tag.

Images of `source: project` (images/ in this repository) are always built from this checkout.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.errors import Problem
from catalog.model import PROGRAM_DIR
from catalog.services import Catalog, Service
from policies.devtools_policy.images import image_pin_problem, split_reference

if TYPE_CHECKING:  # catalog/settings.py imports this module to validate with it
    from catalog.settings import Settings

NAMESPACE = "devtools"
GIT_SHA = re.compile(r"^[0-9a-f]{40}$")
# DigitalOcean's registry names: lower-case letters, digits and hyphens, at most 63.
REGISTRY_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# Repositories each subscription tier holds (DigitalOcean Container Registry pricing).
TIER_REPOSITORIES = {"starter": 1, "basic": 5, "professional": None}


def git(source: Path, *args: str) -> str | None:
    """Output of a git command in `source`, or None when it is no git checkout (or git is missing)."""
    try:
        result = subprocess.run(["git", "-C", str(source), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def source_dir(path: str) -> Path:
    """A stack path setting: absolute, or relative to the program's folder (where `pulumi` runs)."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else PROGRAM_DIR / candidate


def built_services(catalog: Catalog) -> dict[str, Service]:
    return {name: spec for name, spec in catalog.services.items() if spec.build is not None}


def builds_from_platform(name: str, spec: Service, settings: Settings) -> bool:
    """True when the program builds this service's image from the platform checkout."""
    assert spec.build is not None
    return spec.build.source == "platform" and settings.platform_source is not None and name not in settings.platform_images


def uses_registry(catalog: Catalog, settings: Settings) -> bool:
    """Whether any image is pushed to or pulled from the stack's own registry."""
    return any(name not in settings.platform_images for name in built_services(catalog))


def image_problems(settings: Settings, catalog: Catalog, file: str) -> list[Problem]:
    """Every problem with how the stack versions the catalog's built images, all at once."""
    problems: list[Problem] = []
    key = lambda name: f"{NAMESPACE}:{name}"  # noqa: E731
    built = built_services(catalog)
    platform = {name for name, spec in built.items() if spec.build.source == "platform"}
    sha = settings.platform_git_sha

    if sha is not None and not GIT_SHA.match(sha):
        problems.append(Problem(file, key("platformGitSha"), f"{sha!r} is not a full git commit SHA (40 lower-case hex digits)",
                                "pulumi config set devtools:platformGitSha $(git -C <platform checkout> rev-parse <commit>)"))
    unversioned = sorted(platform - set(settings.platform_images))
    if unversioned and sha is None:
        problems.append(Problem(
            file, key("platformGitSha"), f"is not set, so the platform's images {', '.join(unversioned)} have no version",
            "pulumi config set devtools:platformGitSha <40-hex commit> (images pushed before, tagged with it), and "
            "devtools:platformSource <checkout> to build them; or pin each in devtools:platformImages.<service>"))
    if settings.platform_source is not None:
        if sha is None:
            problems.append(Problem(file, key("platformSource"), "is set without devtools:platformGitSha: the build has no version",
                                    "pulumi config set devtools:platformGitSha $(git -C <checkout> rev-parse HEAD)"))
        elif GIT_SHA.match(sha):
            problems += checkout_problems(settings.platform_source, sha, {n: built[n] for n in sorted(platform)}, file)
        if settings.platform_repository_url is None:
            problems.append(Problem(file, key("platformRepositoryUrl"), "is required to build: it labels each image's source",
                                    "pulumi config set devtools:platformRepositoryUrl https://github.com/<owner>/<repo>"))

    for name, reference in settings.platform_images.items():
        where = key(f"platformImages.{name}")
        if name not in built:
            problems.append(Problem(file, where, "names no built service of the catalog", f"use one of {sorted(built)}"))
        elif (problem := pinned_reference_problem(reference)) is not None:
            problems.append(Problem(file, where, *problem))

    for name in settings.image_tags:
        if name in built:
            problems.append(Problem(file, key(f"imageTags.{name}"), "is a built image: its version comes from the stack's images settings",
                                    f"pulumi config rm devtools:imageTags.{name}; pin it with devtools:platformImages.{name} instead"))

    if uses_registry(catalog, settings):
        problems += registry_problems(settings, catalog, file)
    return problems


def pinned_reference_problem(reference: str) -> tuple[str, str] | None:
    """A prebuilt image must name one build: a digest, or a tag that is a full git SHA."""
    problem = image_pin_problem(reference)
    if problem is not None:
        return problem
    parts = split_reference(reference)
    assert parts is not None
    if parts[3] is None and not GIT_SHA.match(parts[2] or ""):
        return (f"{reference!r} is pinned by the tag {parts[2]!r}, which a new push can move",
                "pin it by digest (<image>@sha256:<64 hex>) or by the tag of the full git SHA it was built from")
    return None


def checkout_problems(path: str, sha: str, platform: Mapping[str, Service], file: str) -> list[Problem]:
    """The checkout is at the SHA the images are labelled with, unchanged, and holds every Dockerfile."""
    where = f"{NAMESPACE}:platformSource"
    source = source_dir(path)
    if not source.is_dir():
        return [Problem(file, where, f"{path!r} is not a directory", "clone the platform's repository there, or point the setting at a checkout")]
    problems = []
    for name, spec in platform.items():
        for kind, relative, exists in (("build context", spec.build.context, Path.is_dir),
                                       ("Dockerfile", spec.build.dockerfile, Path.is_file)):
            if not exists(source / relative):
                problems.append(Problem(file, where, f"has no {kind} {relative} for service {name}",
                                        f"check out the commit {sha} there, or fix services.{name}.build in the catalog"))
    head = git(source, "rev-parse", "HEAD")
    if head is None:
        problems.append(Problem(file, where, f"{path!r} is not a git checkout: its images could not be labelled with their commit",
                                f"git clone <platform repository> {path} && git -C {path} checkout {sha}"))
    elif head != sha:
        problems.append(Problem(file, where, f"is at commit {head}, not devtools:platformGitSha {sha}",
                                f"git -C {path} checkout {sha}, or set devtools:platformGitSha to {head}"))
    elif git(source, "status", "--porcelain"):
        problems.append(Problem(file, where, "has uncommitted changes: the images would not be what the commit holds",
                                f"git -C {path} stash (or commit the changes and set devtools:platformGitSha to the new commit)"))
    return problems


def registry_problems(settings: Settings, catalog: Catalog, file: str) -> list[Problem]:
    name = settings.container_registry
    if name is None:
        return [Problem(file, f"{NAMESPACE}:containerRegistry", "is not set, but the catalog's built images live in the stack's registry",
                        "pulumi config set devtools:containerRegistry <name> (unique across DigitalOcean, e.g. acme-devtools)")]
    problems = []
    if not REGISTRY_NAME.match(name):
        problems.append(Problem(file, f"{NAMESPACE}:containerRegistry", f"{name!r} is not a registry name",
                                "use at most 63 lower-case letters, digits and hyphens, e.g. acme-devtools"))
    repositories = {spec.image for n, spec in built_services(catalog).items() if n not in settings.platform_images}
    allowed = TIER_REPOSITORIES[settings.registry_tier]
    if allowed is not None and len(repositories) > allowed:
        bigger = next(t for t, n in TIER_REPOSITORIES.items() if n is None or n >= len(repositories))
        problems.append(Problem(file, f"{NAMESPACE}:registryTier", f"{settings.registry_tier!r} holds {allowed} repositories, "
                                f"the catalog pushes {len(repositories)}", f"pulumi config set devtools:registryTier {bigger}"))
    return problems
