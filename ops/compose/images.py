"""What an image's name tells about the service: its catalog role and the port it listens on.

Compose has no notion of a role, so the importer reads it from well-known images (a service
can state its own with an `x-devtools: {role: ...}` extension). Keys are image repositories
(the last path part, without tag or digest), as `image_repository` returns them.
"""

from __future__ import annotations

import re

from policies.devtools_policy.images import image_pin_problem, image_repository

DATASTORES = {
    "postgres": 5432, "postgis": 5432, "timescaledb": 5432, "pgvector": 5432,
    "redis": 6379, "valkey": 6379, "keydb": 6379,
    "mysql": 3306, "mariadb": 3306, "mongo": 27017, "memcached": 11211,
    "rabbitmq": 5672, "elasticsearch": 9200, "opensearch": 9200, "qdrant": 6333, "minio": 9000, "clickhouse-server": 8123,
}
OBSERVABILITY = {
    "prometheus": 9090, "alertmanager": 9093, "grafana": 3000, "loki": 3100, "promtail": 9080, "alloy": 12345,
    "node-exporter": 9100, "cadvisor": 8080, "jaeger": 16686, "all-in-one": 16686, "tempo": 3200,
    "opentelemetry-collector": 4317, "opentelemetry-collector-contrib": 4317, "pushgateway": 9091,
}
# Images that read a credential from `<VAR>_FILE` themselves, so no code change is needed.
READS_FILE_VARIABLES = frozenset({"postgres", "postgis", "timescaledb", "pgvector", "mysql", "mariadb", "mongo"})


def known_role(image: str) -> str | None:
    repository = image_repository(image)
    if repository in DATASTORES:
        return "datastore"
    if repository in OBSERVABILITY:
        return "observability"
    return None


def default_port(image: str) -> int | None:
    repository = image_repository(image)
    return DATASTORES.get(repository) or OBSERVABILITY.get(repository)


def reads_file_variables(image: str) -> bool:
    return image_repository(image) in READS_FILE_VARIABLES

# Health checks for well-known datastore images, used when the compose file gives none.
HEALTH_COMMANDS = {
    "postgres": "pg_isready -h 127.0.0.1", "postgis": "pg_isready -h 127.0.0.1", "timescaledb": "pg_isready -h 127.0.0.1",
    "pgvector": "pg_isready -h 127.0.0.1",
    "redis": "redis-cli ping | grep -q PONG", "valkey": "valkey-cli ping | grep -q PONG",
    "mysql": "mysqladmin ping -h 127.0.0.1", "mariadb": "healthcheck.sh --connect",
    "mongo": "mongosh --quiet --eval 'db.runCommand({ping: 1}).ok' | grep -q 1",
}


def health_command(image: str) -> str | None:
    return HEALTH_COMMANDS.get(image_repository(image))


# Tags that name a channel, not a release: they move as the image's maintainers publish.
CHANNEL_TAGS = frozenset({"stable", "edge", "main", "master", "nightly", "dev", "develop", "current", "lts", "alpine", "slim"})
_MAJOR_ONLY = re.compile(r"^v?\d+(?:-[a-z][\w.-]*)?$", re.I)


def moving_tag_reason(image: str) -> str | None:
    """Why a tag moves (latest, a channel, a major version only), or None for a release or a digest.

    Stricter than the catalog's own pin check, which refuses only `latest` and a missing tag:
    `postgres:16-alpine` is a different image after every minor release.
    """
    problem = image_pin_problem(image)
    if problem:
        return problem[0]
    if "@sha256:" in image:
        return None
    tag = image.rsplit("/", 1)[-1].rsplit(":", 1)[1]
    if "latest" in tag.lower().split("-"):
        return f"image {image!r} uses a moving tag ({tag})"
    if tag.lower() in CHANNEL_TAGS:
        return f"image {image!r} uses the channel tag {tag!r}"
    if _MAJOR_ONLY.match(tag):
        return f"image {image!r} names only a major version ({tag}), which moves with every release"
    return None
