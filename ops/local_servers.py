"""Real PostgreSQL, Redis and S3 servers on this machine: 127.0.0.1, free ports, temp dirs, always stopped.

The recovery drill (`python -m ops drill`) and the tests run the platform's datastores on the
files the program renders. PostgreSQL refuses to run as root, so its data directory belongs to
the `postgres` user and the server runs as that user. It runs with the postgresql.conf the
program renders from the catalog; only the port, the listen address and the socket directory
are overridden on the command line, so nothing binds to a real interface. They need what
`scripts/setup-system` (PostgreSQL 15, redis-server) and `scripts/setup --dev` (moto) install.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"  # the system user of Debian's PostgreSQL package
APP_USER = "devtools"


class NotInstalled(RuntimeError):
    """A server this machine lacks; the message says what installs it."""


def require_postgres() -> None:
    if not (PG_BIN / "postgres").exists() or shutil.which("psql") is None:
        raise NotInstalled(f"PostgreSQL is not installed (looked in {PG_BIN}); run scripts/setup-system")


def require_redis() -> None:
    if shutil.which("redis-server") is None:
        raise NotInstalled("redis-server is not installed; run scripts/setup-system")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """Terminate, then kill if it does not exit within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def shipped_catalog_and_settings():
    """The shipped catalog and prod settings as the program validates them."""
    from catalog.inputs import load_inputs
    from ops.stackfile import read_stack_config

    config = read_stack_config("prod", None)
    inputs = load_inputs(config.config, "prod")
    return inputs.catalog, inputs.settings


def render_config(renderer: str) -> str:
    """The shipped catalog's config file of that renderer, rendered by the program for the service receiving it."""
    from render.observability.scrape import receiving
    from render.registry import render

    catalog, settings = shipped_catalog_and_settings()
    found = receiving(catalog, renderer)
    if found is None:
        raise LookupError(f"no service of the shipped catalog receives a {renderer} file")
    return render(renderer, catalog, found[1], settings)


def _as_postgres(path: Path) -> None:
    entry = pwd.getpwnam(PG_USER)
    os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class PostgresServer:
    port: int
    socket_dir: Path
    data_dir: Path
    password_file: Path
    process: subprocess.Popen | None = None

    def admin(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the Unix socket (trust, local only)."""
        result = subprocess.run(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir), "-p", str(self.port),
             "-U", PG_USER, "-d", database, "-c", sql],
            capture_output=True, text=True, check=True,
        )
        return result.stdout.strip()

    def fresh_database(self, name: str) -> str:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin(f'CREATE DATABASE "{name}" OWNER {APP_USER}')
        return name

    def env(self, database: str) -> dict[str, str]:
        """libpq variables for the application role over TCP with a password, as the containers connect."""
        return {
            **os.environ, "PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGUSER": APP_USER,
            "PGDATABASE": database, "POSTGRES_PASSWORD_FILE": str(self.password_file),
        }

    def query(self, sql: str, database: str) -> str:
        env = {**self.env(database), "PGPASSWORD": self.password_file.read_text().strip()}
        result = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                                capture_output=True, text=True, check=True, env=env)
        return result.stdout.strip()


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    require_postgres()
    base = Path(tempfile.mkdtemp(prefix="devtools-pg-"))
    os.chmod(base, 0o755)
    data, sockets = base / "data", base / "sockets"
    for d in (data, sockets):
        d.mkdir()
        _as_postgres(d)
    os.chmod(data, 0o700)
    conf = base / "postgresql.conf"
    conf.write_text(render_config("postgres_conf"))
    os.chmod(conf, 0o644)
    password_file = base / "postgres-password"
    password_file.write_text("pg-test-" + os.urandom(12).hex() + "\n")
    run_as = ["runuser", "-u", PG_USER, "--"]
    subprocess.run([*run_as, str(PG_BIN / "initdb"), "-D", str(data), "-U", PG_USER, "--auth-local=trust",
                    "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
                   check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [*run_as, str(PG_BIN / "postgres"), "-D", str(data), "-c", f"config_file={conf}",
         "-c", f"port={port}", "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={sockets}"],
        stdout=subprocess.DEVNULL, stderr=open(base / "server.log", "w"),
    )
    server = PostgresServer(port, sockets, data, password_file, process)
    try:
        wait_for_port(port)
        for _ in range(100):
            if subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        password = password_file.read_text().strip()
        server.admin(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{password}'")
        yield server
    finally:
        # runuser does not pass signals on: stop the server through pg_ctl, as its owner.
        subprocess.run([*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), "stop", "-m", "fast", "-w"],
                       capture_output=True)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class RedisServer:
    """One redis-server process on a config file; `kill()` is SIGKILL, `start()` reuses the same file."""

    config_file: Path
    port: int
    password: str
    process: subprocess.Popen | None = None

    def start(self) -> None:
        from ops.resp import RedisError, Resp

        self.process = subprocess.Popen(["redis-server", str(self.config_file)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        deadline = time.monotonic() + 30
        while True:  # until the dataset is loaded (LOADING while the AOF replays)
            try:
                client = Resp(self.port, self.password)
                client.call("PING")
                client.close()
                return
            except (RedisError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop(self.process)


def redis_config_for_test(base: Path, port: int) -> tuple[Path, Path]:
    """The shipped redis.conf with only what cannot hold here rewritten: port, bind, dir, aclfile.

    The ACL file is rendered by the program's own secret renderer from a test password.
    Returns (config file, password file).
    """
    from render.secret_renderers import redis_acl

    data = base / "data"
    data.mkdir(parents=True)
    password = "redis-test-" + os.urandom(12).hex()
    password_file = base / "redis-password"
    password_file.write_text(password)
    acl = base / "users.acl"
    acl.write_text(redis_acl(password))
    rewrites = {"port": str(port), "bind": "127.0.0.1", "dir": str(data), "aclfile": str(acl)}
    lines = []
    for line in render_config("redis_conf").splitlines():
        key = line.split(" ", 1)[0]
        lines.append(f"{key} {rewrites[key]}" if key in rewrites else line)
    config = base / "redis.conf"
    config.write_text("\n".join(lines) + "\n")
    return config, password_file


@contextmanager
def running_redis(base: Path) -> Iterator[RedisServer]:
    """redis-server on the shipped redis.conf (see redis_config_for_test), logins only through its ACL file."""
    require_redis()
    port = free_port()
    config, password_file = redis_config_for_test(base, port)
    server = RedisServer(config, port, password_file.read_text())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def running_s3() -> Iterator[str]:
    """A local S3-compatible server (moto) standing in for DigitalOcean Spaces; yields its endpoint."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()

