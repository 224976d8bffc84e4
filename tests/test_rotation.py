"""Secret rotation: a procedure for every catalog secret, documented, and the printed pipelines run
against the real software (jq, PostgreSQL, Redis) to show they rotate without losing service."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from ops.__main__ import main
from ops.local_servers import RedisServer, free_port, running_redis
from ops.rotate import contexts
from ops.rotation import procedure
from render.secret_renderers import SECRET_RENDERERS
from tests.support.dockerfile import parse

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture(scope="module")
def by_name():
    return contexts("prod")


def test_every_catalog_secret_has_a_procedure_and_a_section_in_the_doc(by_name):
    doc = (ROOT / "docs" / "SECRETS_ROTATION.md").read_text()
    for name, ctx in by_name.items():
        proc = procedure(ctx)
        assert proc.steps and proc.emergency and proc.downtime, name
        assert f"`{name}`" in doc, f"docs/SECRETS_ROTATION.md does not cover {name}"


def test_generated_secrets_are_replaced_by_their_engine_urn(by_name):
    ctx = by_name["db_password"]
    assert ctx.password_urn == ("urn:pulumi:prod::devtools::devtools:stack:DevToolsStack$devtools:secrets:Secrets"
                                "$random:index/randomPassword:RandomPassword::secrets-db_password")
    first = procedure(ctx).steps[0].command
    assert f"--replace '{ctx.password_urn}' --target '{ctx.password_urn}'" in first
    clients = procedure(ctx).steps[2].command
    for service in ("state-persistence", "agent-registry", "orchestrator"):
        assert f"$docker:index/container:Container::{service}'" in clients
    assert "::postgres'" not in clients


def test_config_secrets_are_set_through_the_prompt_never_as_an_argument(by_name):
    for ctx in by_name.values():
        if ctx.config_key:
            commands = [s.command for s in procedure(ctx).steps if s.command]
            assert f"pulumi config set --secret devtools:{ctx.config_key} --stack prod" in commands


def test_command_lists_every_secret_and_refuses_an_unknown_one(by_name, capsys):
    assert main(["rotate", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(by_name)
    assert main(["rotate", "no_such_secret"]) == 2
    assert "'no_such_secret' is not a secret of the catalog" in capsys.readouterr().err


# --- the printed pipelines, run for real ------------------------------------------------------


def jq_stage(command: str) -> list[str]:
    """The `jq ...` stage of a printed pipeline, as argv."""
    stages = [part.strip().removeprefix("| ") for part in command.split("\\\n")]
    return shlex.split(next(stage for stage in stages if stage.startswith("jq ")))


def state_export(urn: str, value: str) -> str:
    """What `pulumi stack export --show-secrets` prints, reduced to the resource the pipeline reads."""
    return json.dumps({"version": 3, "deployment": {"resources": [
        {"urn": "urn:pulumi:prod::devtools::pulumi:pulumi:Stack::devtools-prod", "outputs": {}},
        {"urn": urn, "type": "random:index/randomPassword:RandomPassword", "outputs": {"result": value, "length": 32}},
    ]}})


def run_jq(command: str, urn: str, value: str) -> str:
    jq = shutil.which("jq")
    if jq is None:
        pytest.fail("jq is missing: scripts/setup-system installs it")
    done = subprocess.run(jq_stage(command), input=state_export(urn, value), capture_output=True, text=True, check=True)
    return done.stdout


def as_postgres(args: list[str], **kw) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + args, capture_output=True, text=True, **kw)


@pytest.fixture
def postgres():
    # Not under pytest's tmp_path: its parents are private to root, and Postgres runs as `postgres`.
    folder = Path(tempfile.mkdtemp(prefix="devtools-rotation-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", free_port()
    assert as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]).returncode == 0
    # As in the official image: trust on the local socket (docker exec), passwords over TCP.
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
    started = as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-t", "30", "-l", str(folder / "log"),
                           "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start"])
    assert started.returncode == 0, started.stderr
    env = {**os.environ, "PGHOST": str(folder), "PGPORT": str(port)}
    try:
        subprocess.run(["psql", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c",
                        "CREATE ROLE devtools LOGIN PASSWORD 'Old0Password0Value0aaaaaaaaaaaaa';",
                        "-c", "CREATE DATABASE devtools OWNER devtools;"], env=env, check=True, capture_output=True)
        yield env, port
    finally:
        as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"])
        shutil.rmtree(folder, ignore_errors=True)


def tcp_login(port: int, password: str) -> bool:
    env = {**os.environ, "PGPASSWORD": password}
    done = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "devtools", "-d", "devtools",
                           "-tAc", "SELECT 1"], env=env, capture_output=True, text=True, timeout=20)
    return done.returncode == 0 and done.stdout.strip() == "1"


def test_postgres_rotation_pipeline_changes_the_role_and_keeps_open_connections(by_name, postgres):
    env, port = postgres
    ctx = by_name["db_password"]
    old, new = "Old0Password0Value0aaaaaaaaaaaaa", "New1Password1Value1bbbbbbbbbbbbb"
    assert tcp_login(port, old)
    session = subprocess.Popen(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "devtools", "-d", "devtools", "-tA"],
                               env={**os.environ, "PGPASSWORD": old}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    session.stdin.write("SELECT 'opened';\n")
    session.stdin.flush()
    time.sleep(0.5)   # let the session authenticate before the password changes

    step = procedure(ctx).steps[1].command
    sql = run_jq(step, ctx.password_urn, new)
    # The psql stage as printed (it runs inside the container over the local socket).
    psql = shlex.split(re.search(r"psql [^']*", step).group(0))
    applied = subprocess.run(psql, input=sql, env=env, capture_output=True, text=True, timeout=20)
    assert applied.returncode == 0, applied.stderr
    assert new not in applied.stdout + applied.stderr

    assert tcp_login(port, new)
    assert not tcp_login(port, old)
    out, _ = session.communicate("SELECT 'still open';\n\\q\n", timeout=20)
    assert out.split() == ["opened", "still", "open"]


@pytest.fixture
def redis(tmp_path):
    """A fresh redis-server per test: rotation changes its ACL, which must not leak into other tests."""
    with running_redis(tmp_path) as server:
        yield server


def acl_file(server: RedisServer) -> Path:
    lines = server.config_file.read_text().splitlines()
    return Path(next(line.split(" ", 1)[1] for line in lines if line.startswith("aclfile ")))


def redis_cli(port: int, password: str, commands: str) -> str:
    """redis-cli fed on stdin, logged in as in the container: REDISCLI_AUTH from the password file."""
    done = subprocess.run(["redis-cli", "-p", str(port)], input=commands, env={**os.environ, "REDISCLI_AUTH": password},
                          capture_output=True, text=True, timeout=10)
    return (done.stdout + done.stderr).strip()


def redis_auth(port: int, password: str) -> bool:
    done = subprocess.run(["redis-cli", "-p", str(port), "--no-auth-warning", "-a", password, "ping"],
                          capture_output=True, text=True, timeout=10)
    return done.stdout.strip() == "PONG"


NEW_REDIS = "New1Redis1Password1bbbbbbbbbbbbbb"


def test_redis_rotation_keeps_both_passwords_valid_while_clients_roll_then_redis_loads_only_the_new(by_name, redis):
    ctx = by_name["redis_password"]
    old, steps = redis.password, procedure(ctx).steps
    assert redis_cli(redis.port, old, "SET kept yes") == "OK"

    # Step 2 as printed, logged in with Redis's current file: a second password, in memory.
    assert redis_cli(redis.port, old, run_jq(steps[1].command, ctx.password_urn, NEW_REDIS)) == "OK"
    assert redis_auth(redis.port, old) and redis_auth(redis.port, NEW_REDIS)   # step 3: clients roll meanwhile

    # Step 4: Redis comes back with the ACL file the program derives from the new value.
    derive = ctx.catalog.secrets["redis_acl"].derive
    assert derive is not None and derive.source == "redis_password"
    redis.stop()
    acl_file(redis).write_text(SECRET_RENDERERS[derive.renderer](NEW_REDIS))
    redis.password = NEW_REDIS
    redis.start()
    assert redis_auth(redis.port, NEW_REDIS) and not redis_auth(redis.port, old)
    assert redis_cli(redis.port, NEW_REDIS, "GET kept") == "yes"


def test_redis_emergency_drops_the_old_password_at_once(by_name, redis):
    ctx = by_name["redis_password"]
    old = redis.password
    drop = procedure(ctx).emergency[0].command
    # Redis's own file still holds the old value: the pipeline logs in with it, then removes it.
    assert redis_cli(redis.port, old, run_jq(drop, ctx.password_urn, NEW_REDIS)) == "OK"
    assert redis_auth(redis.port, NEW_REDIS) and not redis_auth(redis.port, old)


def test_redis_clients_roll_before_redis_drops_the_old_password(by_name):
    ctx = by_name["redis_password"]
    steps = procedure(ctx).steps
    roll, redeploy = steps[2].command, steps[3].command
    clients = [s for s in ctx.consumers if s != "redis"]
    # The agents read redis_url, derived from it: they roll with it.
    assert {"redis-exporter", "backup", "orchestrator", "cicd"} <= set(clients)
    for service in clients:
        assert f"--target '{ctx.container_urns[service]}'" in roll, service
    assert f"'{ctx.container_urns['redis']}'" not in roll
    assert redeploy.endswith(f"--target '{ctx.container_urns['redis']}'")


def test_redis_acl_is_rotated_through_redis_password(by_name):
    acl, source = by_name["redis_acl"], by_name["redis_password"]
    assert acl.derived_from is source and acl.password_urn is None and acl.config_key is None
    proc = procedure(acl)
    assert proc.steps == procedure(source).steps
    assert "python -m ops rotate redis_password" in proc.note


def test_spaces_keys_are_stored_as_a_pair_before_the_one_deploy(by_name):
    for name in ("spaces_access_key_id", "spaces_secret_access_key"):
        commands = [s.command for s in procedure(by_name[name]).steps]
        deploy = commands.index("pulumi up --stack prod")
        stored = [i for i, c in enumerate(commands) if c and c.startswith("pulumi config set --secret")]
        assert [commands[i].split()[4] for i in stored] == ["devtools:spacesAccessKeyId", "devtools:spacesSecretAccessKey"]
        assert max(stored) < deploy


def test_backup_proofs_run_the_program_the_backup_image_holds(by_name, catalog):
    # The image's own CMD (`python3 <program> schedule`), read from its Dockerfile: nothing uploads the program.
    build = catalog["services"]["backup"]["build"]
    program = " ".join(parse((ROOT / build["dockerfile"]).read_text()).argv[:-1])
    for name, action in (("spaces_secret_access_key", "backup"), ("do_snapshot_token", "snapshot")):
        commands = [s.command or "" for s in procedure(by_name[name]).steps]
        assert any("docker exec" in c and c.endswith(f"{program} {action}'") for c in commands), name


def test_grafana_password_reaches_the_cli_on_stdin_only(by_name):
    ctx = by_name["grafana_admin_password"]
    reset = procedure(ctx).steps[1].command
    assert run_jq(reset, ctx.password_urn, "Grafana0New0Password") == "Grafana0New0Password\n"
    assert reset.rstrip("'").endswith("grafana cli admin reset-admin-password --password-from-stdin")


def test_rotation_verify_edge_and_pack_name_no_service_or_secret_of_the_catalog():
    """They read roles and fields from the catalog; a renamed service or secret needs no code change."""
    from catalog.services import load_catalog

    catalog = load_catalog(ROOT / "config" / "services.yaml")
    # Words that are something else there: the backup program's `backup` subcommand, the `edge`
    # role (and the edge network's default name), Traefik's `prometheus` metrics option.
    not_names = {"ops/rotation.py": {"backup"}, "render/traefik.py": {"edge", "prometheus"},
                 "policies/devtools_policy/docker.py": {"edge"}, "policies/devtools_policy/stack_rules.py": {"edge"},
                 # The backup program's subcommand; the system user of Debian's PostgreSQL package.
                 "ops/drill.py": {"backup"}, "ops/local_servers.py": {"postgres"}}
    names = set(catalog.services) | set(catalog.secrets)
    for module in ("ops/rotation.py", "ops/verify.py", "render/traefik.py", "policies/devtools_policy/docker.py",
                   "policies/devtools_policy/stack_rules.py", "targets/backup_storage.py", "targets/droplet/stack.py",
                   "ops/drill.py", "ops/local_servers.py"):
        text = (ROOT / module).read_text()
        quoted = set(re.findall(r"[\"']([a-z][a-z0-9_-]+)[\"']", text)) - not_names.get(module, set())
        assert not quoted & names, f"{module} names {sorted(quoted & names)}"
