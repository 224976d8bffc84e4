"""`python -m ops restore`: the command it runs on the droplet."""

from __future__ import annotations

import shlex

from ops.__main__ import main
from ops.restore import BACKUP_PROGRAM, remote_command


def test_restore_runs_the_backup_program_in_the_stacks_backup_container(capsys):
    assert main(["restore", "--ssh", "root@203.0.113.20", "--backup", "20260630T120000Z", "--dry-run"]) == 0
    argv = shlex.split(capsys.readouterr().out)
    assert argv[:4] == ["ssh", "-o", "BatchMode=yes", "root@203.0.113.20"]
    remote = argv[4]
    assert "label=devtools.service=backup" in remote and "label=devtools.stack=prod" in remote
    assert remote.endswith(f"python3 {BACKUP_PROGRAM} restore --backup 20260630T120000Z")


def test_restore_list_and_quoting():
    command = remote_command("prod; rm -rf /", "list")
    assert "'prod; rm -rf /'" in command  # the stack name cannot break out of the shell command
    assert command.endswith(f"python3 {BACKUP_PROGRAM} list")
