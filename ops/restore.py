"""`python -m ops restore`: bring a droplet's Postgres and Redis back from the newest backup in Spaces.

Run after `pulumi up` has built the (fresh) droplet: the containers are up, the migrate job
has created empty tables, and the backup container holds the credentials and the backup
program. This runs that program's `restore` inside the backup container over SSH:
Postgres is restored in one transaction, then Redis restarts on the restored data.
Run it before the backup schedule's first run (one interval after deploy), so that the
newest set in the bucket is still the one from the lost droplet, or name a set with --backup.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys

BACKUP_PROGRAM = "/opt/backup/datastore_backup.py"


def remote_command(stack: str, action: str, backup_id: str | None = None) -> str:
    """The shell command run on the droplet: the backup program in the stack's backup container."""
    find = f"docker ps -q --filter label=devtools.service=backup --filter label=devtools.stack={shlex.quote(stack)}"
    program = ["python3", BACKUP_PROGRAM, action]
    if backup_id:
        program += ["--backup", backup_id]
    return (f'c="$({find} | head -1)"; '
            f'[ -n "$c" ] || {{ echo "no running backup container for stack {shlex.quote(stack)}" >&2; exit 3; }}; '
            f"docker exec \"$c\" {shlex.join(program)}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ssh", required=True, metavar="USER@HOST", help="the droplet, e.g. root@203.0.113.20")
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--backup", metavar="ID", help="backup set id, e.g. 20260630T120000Z (default: the newest)")
    parser.add_argument("--list", action="store_true", help="only list the backup sets in the bucket")
    parser.add_argument("--dry-run", action="store_true", help="print the command instead of running it")


def run(args: argparse.Namespace) -> int:
    action = "list" if args.list else "restore"
    command = remote_command(args.stack, action, None if args.list else args.backup)
    argv = ["ssh", "-o", "BatchMode=yes", args.ssh, command]
    if args.dry_run:
        print(shlex.join(argv))
        return 0
    result = subprocess.run(argv)
    if result.returncode != 0:
        print(f"restore: {action} failed on {args.ssh} (exit {result.returncode}); see docs/RUNBOOK.md", file=sys.stderr)
    return result.returncode
