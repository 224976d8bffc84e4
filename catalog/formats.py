"""Text the catalog and the stack hand to other software, checked against what that software accepts.

Every value here ends up in a rendered file, a Docker API call, a DigitalOcean API call or a
Traefik rule, so each grammar is the consumer's (or a strict subset of it): a value outside
it is refused with a fix before anything is rendered or declared.
"""

from __future__ import annotations

import ipaddress
import re

from catalog.errors import Invalid

# --- OCI image references (the grammar of distribution/reference, which Docker parses) ------------
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_PART}(?:/{_PATH_PART})*"
TAG = re.compile(r"^[\w][\w.-]{0,127}\Z", re.ASCII)
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE_REFERENCE = re.compile(rf"^(?P<name>{_NAME})(?::(?P<tag>[\w][\w.-]{{0,127}}))?(?:@(?P<digest>{_DIGEST}))?\Z", re.ASCII)
NAME_MAX = 255


def check_image_reference(image: object) -> str:
    if not isinstance(image, str):
        raise Invalid(f"{image!r} is not an image reference", "write it like ghcr.io/acme/app:1.2.3")
    match = IMAGE_REFERENCE.match(image)
    if not match or len(match.group("name")) > NAME_MAX:
        raise Invalid(f"{image!r} is not a valid image reference",
                      "write it like registry/name:tag or name@sha256:<digest>: lower case name, no spaces")
    return image


def check_tag(tag: str) -> str:
    if not TAG.match(tag):
        raise Invalid(f"{tag!r} is not a valid image tag", "use letters, digits, _, . and - (at most 128, not starting with . or -)")
    return tag


# --- environment -----------------------------------------------------------------------------------
ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")


def check_env_key(key: str) -> str:
    if not ENV_KEY.match(key):
        raise Invalid(f"{key!r} is not an environment variable name",
                      "use letters, digits and _ only, not starting with a digit (POSIX names)")
    return key


def check_env_value(value: str) -> str:
    """Docker passes `KEY=value` as one C string: a NUL cuts it; a newline breaks every line-based reader."""
    if "\x00" in value:
        raise Invalid("holds a NUL character", "remove it: a process would see the value cut there")
    if "\n" in value or "\r" in value:
        raise Invalid("holds a line break", "keep it on one line, or deliver the text as a config file or secret")
    return value


# --- paths -----------------------------------------------------------------------------------------
# A path inside a container: absolute, plain segments, nothing that walks up or out.
_SEGMENT = re.compile(r"^[A-Za-z0-9._@+-]+\Z")


def check_container_path(path: object) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise Invalid(f"{path!r} is not an absolute path", "write it like /var/lib/data")
    segments = [s for s in path.split("/") if s]
    if any(s in (".", "..") for s in segments):
        raise Invalid(f"{path!r} contains . or .. segments", "write the path without . or .. (e.g. /var/lib/data)")
    if not all(_SEGMENT.match(s) for s in segments) or "//" in path:
        raise Invalid(f"{path!r} has characters a mount path cannot hold",
                      "use letters, digits and . _ @ + - between single slashes")
    return path


# URL paths: the edge's route prefixes and the probes' paths. Unreserved characters only (RFC 3986),
# so no value can carry quotes, backticks, spaces or parentheses into a rule or a command line.
URL_PATH = re.compile(r"^/(?:[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*/?)?\Z")


def check_url_path(path: object) -> str:
    if not isinstance(path, str) or not URL_PATH.match(path):
        raise Invalid(f"{path!r} is not a plain URL path",
                      "write it like /api or /-/ready: a leading /, then letters, digits, . _ ~ - between slashes")
    if any(s in (".", "..") for s in path.split("/")):
        raise Invalid(f"{path!r} contains . or .. segments", "write the path without them, such as /api")
    return path


# --- ports -----------------------------------------------------------------------------------------
PUBLISHED_PORT = re.compile(r"^(?:(?P<ip>[0-9.]+):)?(?P<host>[0-9]{1,5}):(?P<container>[0-9]{1,5})\Z")


def parse_published_port(mapping: object) -> tuple[str, int, int]:
    """Compose `HOST:CONTAINER` or `IP:HOST:CONTAINER`, TCP (the only protocol the edge serves)."""
    fix = 'write it as "HOST:CONTAINER" such as "443:443" (TCP; optionally "IP:443:443")'
    match = PUBLISHED_PORT.match(mapping) if isinstance(mapping, str) else None
    if not match:
        raise Invalid(f"{mapping!r} is not a HOST:CONTAINER port mapping", fix)
    host, container = int(match["host"]), int(match["container"])
    if not (1 <= host <= 65535 and 1 <= container <= 65535):
        raise Invalid(f"{mapping!r} has a port outside 1-65535", fix)
    ip = match["ip"] or "0.0.0.0"
    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        raise Invalid(f"{mapping!r} binds {ip!r}, which is not an IPv4 address", fix) from None
    return ip, host, container


# --- DigitalOcean ----------------------------------------------------------------------------------
# Regions with droplets and volumes (DigitalOcean's slugs).
REGIONS = ("ams3", "atl1", "blr1", "fra1", "lon1", "nyc1", "nyc2", "nyc3", "sfo2", "sfo3", "sgp1", "syd1", "tor1")
IMAGE_SLUG = re.compile(r"^(?:[a-z0-9][a-z0-9.-]{0,62}[a-z0-9]|[0-9]{1,12})\Z")
# An SSH key is named by its ID or its MD5 fingerprint, the two forms the API takes.
SSH_KEY = re.compile(r"^(?:[0-9a-f]{2}(?::[0-9a-f]{2}){15}|[0-9]{1,12})\Z")
DO_TAG = re.compile(r"^[A-Za-z0-9_:-]{1,255}\Z")


def check_region(value: str) -> str:
    if value not in REGIONS:
        raise Invalid(f"{value!r} is not a DigitalOcean region", f"use one of {', '.join(REGIONS)}")
    return value


def check_image_slug(value: str) -> str:
    if not IMAGE_SLUG.match(value):
        raise Invalid(f"{value!r} is not a DigitalOcean image slug or ID", "write a slug such as ubuntu-24-04-x64")
    return value


def check_ssh_key(value: str) -> str:
    if not SSH_KEY.match(value):
        raise Invalid(f"{value!r} is not an SSH key ID or MD5 fingerprint",
                      "use the fingerprint `doctl compute ssh-key list` prints, like 3b:16:bf:...:45:fa")
    return value


def check_do_tag(value: str) -> str:
    if not DO_TAG.match(value):
        raise Invalid(f"{value!r} is not a DigitalOcean tag", "use letters, digits, :, - and _ (at most 255)")
    return value


# --- Docker's json-file log driver -----------------------------------------------------------------
# `max-size`: a positive integer and a unit k, m or g (Docker's documented form).
LOG_SIZE = re.compile(r"^[1-9][0-9]{0,5}[kmg]\Z")


def check_log_size(value: str) -> str:
    if not LOG_SIZE.match(value):
        raise Invalid(f"{value!r} is not a log file size", "write a whole number and k, m or g, such as 10m")
    return value
