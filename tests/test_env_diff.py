"""`python -m ops env-diff` against a real OpenSSH server on 127.0.0.1 holding a stand-in droplet.

The droplet's Docker CLI is a stand-in (tests/support/droplet_docker.py) serving containers from
a folder; everything else is real: ssh, sshd, sh, tar and sha256sum run the remote script.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import pytest

from catalog.inputs import load_inputs
from catalog.settings import secret_config_keys
from ops.__main__ import main
from ops.deployed_env import RemoteError, SshTarget, read_deployed
from ops.engine import run_program
from ops.env_diff import unwrap_secrets
from ops.stackfile import read_stack_config
from ops.validate_env import env_key
from tests.support.sshd import start_sshd

HERE = Path(__file__).resolve().parent
IMAGE_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


def secret_value(key: str) -> str:
    return "tok_" + hashlib.sha256(f"droplet:{key}".encode()).hexdigest()[:32]


@pytest.fixture(scope="module")
def env_file(tmp_path_factory) -> Path:
    catalog = load_inputs(read_stack_config("prod").config, "prod").catalog
    path = tmp_path_factory.mktemp("env") / ".env"
    path.write_text("".join(f"{env_key(k)}={secret_value(k)}\n" for k in secret_config_keys(catalog)))
    return path


def deployed_as_declared(folder: Path, env_file: Path) -> Path:
    """A droplet folder holding exactly what the program declares (with the .env's secret values)."""
    stack = read_stack_config("prod")
    config = dict(stack.config)
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        config_key = next(k for k in secret_config_keys(load_inputs(stack.config, "prod").catalog) if env_key(k) == key)
        config[f"devtools:{config_key}"] = value
    for r in run_program(config, stack.secret_keys, "prod"):
        if r.type != "docker:index/container:Container":
            continue
        inputs = unwrap_secrets(r.inputs)
        labels = {item["label"]: item["value"] for item in inputs["labels"]}
        box = folder / "containers" / hashlib.sha1(r.name.encode()).hexdigest()[:12]
        (box / "secrets").mkdir(parents=True)
        (box / "config.json").write_text(json.dumps(
            {"Image": inputs["image"], "Env": IMAGE_ENV + list(inputs["envs"]), "Labels": labels}))
        for upload in inputs["uploads"]:
            if upload["file"].startswith("/run/secrets/"):
                (box / "secrets" / upload["file"].rsplit("/", 1)[1]).write_text(upload["content"])
        image = folder / "images" / (inputs["image"].replace("/", "_").replace(":", "_") + ".json")
        image.parent.mkdir(exist_ok=True)
        image.write_text(json.dumps({"Env": IMAGE_ENV}))
    docker = folder / "docker"
    docker.write_text(f"#!/bin/sh\nexec {sys.executable} {HERE / 'support' / 'droplet_docker.py'} {folder} \"$@\"\n")
    docker.chmod(0o755)
    return folder


def box_of(folder: Path, service: str) -> Path:
    for box in (folder / "containers").iterdir():
        if json.loads((box / "config.json").read_text())["Labels"]["devtools.service"] == service:
            return box
    raise KeyError(service)


def edit_env(folder: Path, service: str, edit) -> None:
    path = box_of(folder, service) / "config.json"
    config = json.loads(path.read_text())
    config["Env"] = edit(config["Env"])
    path.write_text(json.dumps(config))


def env_diff(sshd, folder: Path, env_file: Path, capsys) -> tuple[int, str]:
    code = main(["env-diff", "--host", "127.0.0.1", "--port", str(sshd.port), "--user", sshd.user,
                 "--identity", str(sshd.identity), "--known-hosts", str(sshd.known_hosts),
                 "--docker", str(folder / "docker"), "--env-file", str(env_file)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_droplet_running_what_the_program_declares_shows_no_difference(sshd, tmp_path, env_file, capsys):
    folder = deployed_as_declared(tmp_path, env_file)
    code, out = env_diff(sshd, folder, env_file, capsys)
    assert code == 0, out
    assert "no differences" in out


def test_changed_env_file_shows_exactly_the_changed_keys_and_no_value(sshd, tmp_path, env_file, capsys):
    folder = deployed_as_declared(tmp_path, env_file)
    edit_env(folder, "orchestrator", lambda env: [("GUARDRAIL_ENFORCEMENT=debug-verbose-4411" if e.startswith("GUARDRAIL_ENFORCEMENT=") else e) for e in env])
    edit_env(folder, "feature-dev", lambda env: [e for e in env if not e.startswith("RAG_SERVICE_URL=")])
    edit_env(folder, "code-review", lambda env: env + ["LEFTOVER_FLAG=zebra-7731"])
    (box_of(folder, "gateway-mcp") / "secrets" / "linear_oauth_token").write_text("tok_rotated_by_hand_9c2e")
    # A generated password is not known offline: changing it is not reported, its absence would be.
    (box_of(folder, "postgres") / "secrets" / "db_password").write_text("generated-elsewhere-5d1f")

    code, out = env_diff(sshd, folder, env_file, capsys)

    assert code == 1, out
    reported = set(re.findall(r"^  ([+~-]) (env|file)\s+(\S+)", out, flags=re.M))
    assert reported == {
        ("~", "env", "GUARDRAIL_ENFORCEMENT"),
        ("+", "env", "RAG_SERVICE_URL"),
        ("-", "env", "LEFTOVER_FLAG"),
        ("~", "file", "/run/secrets/linear_oauth_token"),
    }
    assert re.search(r"^orchestrator:\n(  .*\n)*  ~ env  GUARDRAIL_ENFORCEMENT", out, flags=re.M)
    for value in ("debug-verbose-4411", "zebra-7731", "tok_rotated_by_hand_9c2e", "generated-elsewhere-5d1f",
                  secret_value("linearOauthToken"), "observe", "http://rag-context"):
        assert value not in out


def test_a_missing_secret_file_and_a_stopped_container_are_reported(sshd, tmp_path, env_file, capsys):
    folder = deployed_as_declared(tmp_path, env_file)
    (box_of(folder, "redis") / "secrets" / "redis_password").unlink()
    stopped = box_of(folder, "rag-context")
    for item in sorted(stopped.rglob("*"), reverse=True):
        item.rmdir() if item.is_dir() else item.unlink()
    stopped.rmdir()
    code, out = env_diff(sshd, folder, env_file, capsys)
    assert code == 1
    assert "  + file /run/secrets/redis_password" in out
    assert "rag-context: not running" in out


def test_unreachable_droplet_is_an_error_not_a_traceback(sshd, tmp_path):
    wrong_key = SshTarget("127.0.0.1", sshd.user, sshd.port, identity=str(tmp_path / "absent"),
                          known_hosts=str(sshd.known_hosts), timeout=20)
    with pytest.raises(RemoteError) as caught:
        read_deployed(wrong_key, "prod")
    assert "failed" in str(caught.value)
