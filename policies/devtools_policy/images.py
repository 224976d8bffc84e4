"""Image references: pinned to a release, never to a moving tag. Shared by catalog validation and the pack.

A reference is `[registry/][namespace/]name[:tag][@sha256:<64 hex>]`. It is pinned when it
carries a digest (the content itself), or a tag that names one release. Moving tags name
whatever was pushed last under them:

- no tag at all (Docker then pulls `latest`), `latest`, and `<anything>-latest`;
- for official images (Docker Hub's `library/` namespace: redis, postgres, traefik, ...),
  whose maintainers re-point every shorter tag at each release, any tag that does not start
  with the full version: `redis:7-alpine`, `postgres:16`, `redis:7.4`, `traefik:v3`, `redis:alpine`.

Other publishers' tags are not judged by their shape (their schemes vary: dates, git SHAs);
only the moving names above are refused for them.
"""

from __future__ import annotations

import re

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
# Docker's reference grammar, simplified: lower-case path parts, a tag of word characters, dots, dashes.
REFERENCE = re.compile(
    r"^(?P<name>[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>[^@\s]+))?$"
)
HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")
# Official images whose releases have two numbers: PostgreSQL since 10 releases 16.6, 16.7, ...
TWO_NUMBER_RELEASES = frozenset({"postgres"})
DIGEST_FIX = "or pin it by digest: <image>@sha256:<64 hex digits>"


def split_reference(image: str) -> tuple[str | None, str, str | None, str | None] | None:
    """`registry:5000/team/app:1.2@sha256:...` -> (registry, path, tag, digest); None if it is no reference."""
    registry = None
    first, slash, rest = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, image = first, rest
    match = REFERENCE.match(image)
    if not match:
        return None
    return registry, match["name"], match["tag"], match["digest"]


def official_name(registry: str | None, path: str) -> str | None:
    """The image's name when it is an official Docker Hub image (`redis`, `library/redis`), else None."""
    if registry is not None and registry not in HUB_HOSTS:
        return None
    parts = path.split("/")
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2 and parts[0] == "library":
        return parts[1]
    return None


def _full_version(name: str, tag: str) -> bool:
    numbers = 2 if name in TWO_NUMBER_RELEASES else 3
    return re.match(r"^v?\d+" + r"\.\d+" * (numbers - 1) + r"(?!\d)", tag) is not None


def _full_version_example(name: str, tag: str) -> str:
    """`7-alpine` -> `redis:7.<minor>.<patch>-alpine`: the operator's own tag, completed."""
    places = ["<major>", "<minor>"] + ([] if name in TWO_NUMBER_RELEASES else ["<patch>"])
    match = re.match(r"^(v?)(\d+(?:\.\d+)*)(.*)$", tag)
    if not match:
        return f"{name}:{'.'.join(places)}-{tag}"
    given = match[2].split(".")
    return f"{name}:{match[1]}{'.'.join(given + places[len(given):])}{match[3]}"


def image_pin_problem(image: str) -> tuple[str, str] | None:
    """(message, fix) when `image` is not pinned to one release by its tag or a digest, else None."""
    parts = split_reference(image)
    if parts is None:
        return (f"{image!r} is not an image reference",
                "write it as [registry/]name:tag or name@sha256:<digest>, lower case, without spaces")
    registry, path, tag, digest = parts
    if digest is not None:
        if DIGEST.match(digest):
            return None
        return f"image {image!r} has a malformed digest", "a digest is sha256: followed by 64 lower-case hex digits"
    base = f"{registry}/{path}" if registry else path
    if tag is None:
        return f"image {image!r} has no tag, so Docker pulls the moving 'latest'", f"pin a released version, e.g. {base}:1.2.3, {DIGEST_FIX}"
    if tag == "latest" or tag.endswith(("-latest", "_latest")):
        return f"image {image!r} uses the moving tag {tag!r}", f"pin a released version tag, {DIGEST_FIX}"
    name = official_name(registry, path)
    if name is not None and not _full_version(name, tag):
        return (f"image {image!r} uses the moving tag {tag!r}: the official image re-points it at every release",
                f"pin the full version, {_full_version_example(name, tag)}, {DIGEST_FIX}")
    return None


def tag_pin_problem(image: str, tag: str) -> tuple[str, str] | None:
    """`image_pin_problem` of `image` with its tag replaced by `tag` (a stack's tag override)."""
    parts = split_reference(image)
    if parts is None or parts[3] is not None:
        return image_pin_problem(image)
    registry, path, _, _ = parts
    return image_pin_problem(f"{registry}/{path}:{tag}" if registry else f"{path}:{tag}")


def image_repository(image: str) -> str:
    """`docker.io/library/redis:7.4@sha256:...` -> `redis`: the last path part, without tag or digest."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[0]
