"""Session fixtures over the local servers of ops/local_servers.py: each server starts once per test run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ops.local_servers import NotInstalled, PostgresServer, RedisServer, running_postgres, running_redis, running_s3


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        with running_postgres() as server:
            yield server
    except NotInstalled as missing:
        pytest.fail(str(missing))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    """One redis-server for the whole session."""
    try:
        with running_redis(tmp_path_factory.mktemp("redis")) as server:
            yield server
    except NotInstalled as missing:
        pytest.fail(str(missing))


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with running_s3() as endpoint:
        yield endpoint
