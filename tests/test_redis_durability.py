"""The redis.conf the program renders, run by a real redis-server: durable across SIGKILL, closed to strangers."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from ops.local_servers import RedisServer, render_config
from ops.resp import RedisError, Resp

ACK_WINDOW = 1.0  # appendfsync everysec: what was acknowledged more than this before the kill is on disk


def test_rendered_conf_is_durable_and_bounded():
    conf = render_config("redis_conf")
    lines = set(conf.splitlines())
    assert {"appendonly yes", "appendfsync everysec", "maxmemory-policy noeviction"} <= lines
    assert any(line.startswith("save ") for line in lines)
    maxmemory = int(next(line.split()[1] for line in lines if line.startswith("maxmemory ")))
    assert 0 < maxmemory < 768 * 1024**2  # below the container's limit in the catalog
    assert "aclfile /run/secrets/redis_acl" in lines
    assert not any(line.startswith("requirepass") for line in lines)


def test_unauthenticated_client_is_refused(redis_server: RedisServer):
    anonymous = Resp(redis_server.port)
    with pytest.raises(RedisError, match="NOAUTH"):
        anonymous.call("SET", "intruder", "1")
    with pytest.raises(RedisError, match="WRONGPASS"):
        anonymous.call("AUTH", "default", "not-the-password")
    anonymous.close()
    assert Resp(redis_server.port, redis_server.password).call("PING") == "PONG"


def test_acknowledged_writes_survive_sigkill(redis_server: RedisServer):
    acked: list[tuple[int, float]] = []
    stop = threading.Event()

    def writer() -> None:
        client = Resp(redis_server.port, redis_server.password)
        i = 0
        try:
            while not stop.is_set():
                client.call("SET", f"event:{i}", f"payload-{i}")
                acked.append((i, time.monotonic()))
                i += 1
        except (ConnectionError, OSError):
            pass  # the server was killed under us

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(2.5)
    killed_at = time.monotonic()
    redis_server.kill()
    stop.set()
    thread.join(10)

    must_survive = [i for i, at in acked if at < killed_at - ACK_WINDOW]
    assert len(must_survive) > 1000, "the writer did not produce a steady stream"

    redis_server.start()
    client = Resp(redis_server.port, redis_server.password)
    missing = []
    for start in range(0, len(must_survive), 1000):
        batch = must_survive[start:start + 1000]
        values = client.call("MGET", *(f"event:{i}" for i in batch))
        missing += [i for i, value in zip(batch, values, strict=True) if value != f"payload-{i}"]
    assert missing == [], f"{len(missing)} writes acknowledged >{ACK_WINDOW}s before the kill were lost, first {missing[:5]}"
    # It came back from the AOF (the RDB rules would not have saved within 2.5 s).
    assert (Path(redis_server.config_file).parent / "data" / "appendonlydir").is_dir()


def test_redis_conf_names_the_acl_file_the_catalog_derives_and_refuses_without_one():
    from catalog.errors import InputError
    from ops.local_servers import shipped_catalog_and_settings
    from render.redis_conf import render_redis_conf

    catalog, settings = shipped_catalog_and_settings()
    redis = next(s for s in catalog.services.values() if any(c.source == "redis_conf" for c in s.configs))
    assert "aclfile /run/secrets/redis_acl" in render_redis_conf(catalog, redis, settings)
    without_acl = redis.model_copy(update={"secrets": [m for m in redis.secret_mounts if catalog.secrets[m.source].derive is None]})
    with pytest.raises(InputError) as caught:
        render_redis_conf(catalog, without_acl, settings)
    (problem,) = caught.value.problems
    assert "mounts no ACL file" in problem.message and "renderer redis_acl" in problem.fix
