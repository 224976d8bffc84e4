"""The entrypoint wrapper, run for real under dash and bash around a fake service."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from catalog.services import SECRETS_DIR, Service
from render.secrets_wrapper import MISSING_FILE_EXIT, WRAPPER_PATH, render_secrets_wrapper

SHELLS = ["/bin/dash", "/bin/bash"]

# The fake service: prints its environment and arguments as JSON, exits with the code it is given,
# and on SIGTERM prints "terminated" and exits 143, as a well-behaved server does.
FAKE_APP = """
import json, os, signal, sys, time
if sys.argv[1] == "wait":
    signal.signal(signal.SIGTERM, lambda *_: (print("terminated", os.getpid(), flush=True), sys.exit(143)))
    print("ready", os.getpid(), flush=True)
    time.sleep(30)
    sys.exit(1)
print(json.dumps({"env": dict(os.environ), "argv": sys.argv[1:]}))
sys.exit(int(sys.argv[1]))
"""


def service(secrets: list[dict]) -> Service:
    return Service.model_validate({
        "image": "example/app:1.0", "role": "service", "description": "a fake app", "command": ["app"],
        "secrets": secrets, "networks": ["app"],
        "deploy": {"resources": {"limits": {"cpus": "1", "memory": "64M"}, "reservations": {"cpus": "0.1", "memory": "32M"}}},
    })


def wrapper_for(tmp_path: Path, spec: Service, values: dict[str, str]) -> Path:
    """The rendered wrapper with /run/secrets moved under tmp_path, and the secret files written there."""
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    for name, value in values.items():
        (secrets_dir / name).write_bytes(value.encode())
    script = tmp_path / Path(WRAPPER_PATH).name
    script.write_text(render_secrets_wrapper(spec, settings=None).replace(f"{SECRETS_DIR}/", f"{secrets_dir}/"))
    return script


def run(shell: str, script: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([shell, str(script), sys.executable, "-c", FAKE_APP, *args],
                          capture_output=True, text=True, timeout=30, env=env or {"PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("shell", SHELLS)
def test_secret_arrives_in_the_variable_the_code_reads(tmp_path, shell):
    spec = service([{"source": "db_password", "export": ["DB_PASSWORD", "POSTGRES_PASSWORD"]},
                    {"source": "api_key", "export": "API_KEY"}])
    script = wrapper_for(tmp_path, spec, {"db_password": "s3cr3t-pw", "api_key": "k-123"})
    out = run(shell, script, "0")
    assert out.returncode == 0, out.stderr
    env = json.loads(out.stdout)["env"]
    assert env["DB_PASSWORD"] == env["POSTGRES_PASSWORD"] == "s3cr3t-pw"
    assert env["API_KEY"] == "k-123"
    assert "value" not in env  # the wrapper's own scratch variable does not leak


@pytest.mark.parametrize("shell", SHELLS)
def test_awkward_values_survive_byte_for_byte(tmp_path, shell):
    awkward = "a b  'single' \"double\" $HOME `id` \\ back\nsecond line\n\n"
    spec = service([{"source": "weird", "export": "WEIRD"}])
    out = run(shell, wrapper_for(tmp_path, spec, {"weird": awkward}), "0")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["env"]["WEIRD"] == awkward


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("code", ["0", "3"])
def test_arguments_and_exit_code_pass_through(tmp_path, shell, code):
    spec = service([{"source": "token", "export": "TOKEN"}])
    out = subprocess.run([shell, str(wrapper_for(tmp_path, spec, {"token": "t"})), sys.executable, "-c", FAKE_APP,
                          code, "--flag", "two words", ""], capture_output=True, text=True, timeout=30)
    assert out.returncode == int(code)
    assert json.loads(out.stdout)["argv"] == [code, "--flag", "two words", ""]


@pytest.mark.parametrize("shell", SHELLS)
def test_the_app_replaces_the_shell_and_gets_signals(tmp_path, shell):
    spec = service([{"source": "token", "export": "TOKEN"}])
    script = wrapper_for(tmp_path, spec, {"token": "t"})
    proc = subprocess.Popen([shell, str(script), sys.executable, "-c", FAKE_APP, "wait"],
                            stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline().split()
        assert first[0] == "ready"
        # exec: the app runs under the shell's own process id, so the runtime's signal reaches it.
        assert int(first[1]) == proc.pid
        time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 143
        assert proc.stdout.readline().split()[0] == "terminated"
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("shell", SHELLS)
def test_a_missing_file_is_a_clear_error_and_the_app_never_starts(tmp_path, shell):
    spec = service([{"source": "present", "export": "PRESENT"}, {"source": "absent", "export": "ABSENT"}])
    out = run(shell, wrapper_for(tmp_path, spec, {"present": "p"}), "0")
    assert out.returncode == MISSING_FILE_EXIT
    assert out.stdout == ""
    assert "ABSENT cannot be set" in out.stderr and "absent is missing or unreadable" in out.stderr


def test_the_wrapper_names_files_never_values():
    spec = service([{"source": "db_password", "export": "DB_PASSWORD"}])
    text = render_secrets_wrapper(spec, settings=None)
    assert f"export_secret DB_PASSWORD {SECRETS_DIR}/db_password" in text
    assert text.rstrip().endswith('exec "$@"')


def test_dash_accepts_it_as_posix(tmp_path):
    script = tmp_path / "w.sh"
    script.write_text(render_secrets_wrapper(service([{"source": "x", "export": "X"}]), settings=None))
    assert subprocess.run(["/bin/dash", "-n", str(script)], capture_output=True).returncode == 0
