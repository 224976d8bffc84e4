"""Image references: pinned to a release, never to a moving tag. Shared by catalog validation and the pack."""

from __future__ import annotations


def image_pin_problem(image: str) -> tuple[str, str] | None:
    """(message, fix) when `image` is not pinned by a version tag or a digest, else None."""
    if "@sha256:" in image:
        return None
    name_part = image.rsplit("/", 1)[-1]
    if ":" not in name_part:
        return f"image {image!r} has no tag", f"pin it, e.g. {image}:1.2.3 or {image}@sha256:..."
    if name_part.rsplit(":", 1)[1] == "latest":
        return f"image {image!r} uses the moving tag 'latest'", "pin a released version tag or a digest"
    return None


def image_repository(image: str) -> str:
    """`docker.io/library/redis:7.4@sha256:...` -> `redis`: the last path part, without tag or digest."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[0]
