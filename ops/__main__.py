"""`python -m ops <command>`: the operator's offline tools."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from types import ModuleType

# name -> (module with add_arguments(parser) and run(args), help). A module is imported only when its
# command runs (or when the whole reference is printed): the commands' imports are heavy and unrelated.
COMMANDS = {
    "preview": ("ops.preview_command", "run the program under Pulumi's mock engine; print the plan and policy results"),
    "validate-env": ("ops.validate_env", "check a stack's config and a .env file against the catalog; print every problem with its fix"),
    "env-diff": ("ops.env_diff", "compare the env and secret files the program delivers with the droplet's, over SSH (hashes only)"),
    "verify": ("ops.verify", "after a deploy: every service healthy and ready, every catalog agent in the registry"),
    "restore": ("ops.restore", "restore Postgres and Redis on the droplet from the newest backup in Spaces"),
    "drill": ("ops.drill", "the recovery drill on local PostgreSQL and Redis: back up, destroy, restore, compare; print the figures"),
    "rotate": ("ops.rotate", "print the ordered steps, downtime and emergency revocation for rotating one secret"),
    "import-compose": ("ops.import_compose", "turn a compose file into a catalog the preview accepts; print the follow-ups it needs"),
    "audit": ("ops.audit", "audit a compose file: gaps by scope and priority, the policy pack over its imported plan, compose-only checks"),
    "schema": ("ops.schema", "print (or --write into config/services.schema.json) the catalog's JSON Schema, from the models"),
    "reference": ("ops.reference", "print (or --write into README.md) this command reference"),
}


def command_module(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name][0])


def _formatter(prog: str) -> argparse.HelpFormatter:
    # A fixed width, so the help (and the README's reference made from it) is the same on every terminal.
    return argparse.HelpFormatter(prog, width=100)


def build_parser(only: set[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just those commands get their arguments (the others' modules stay unimported)."""
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__, formatter_class=_formatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text, formatter_class=_formatter)
        if only is None or name in only:
            command_module(name).add_arguments(command)
    return parser


def _command_in(argv: list[str]) -> str | None:
    """The command named on the line: the first word that is not an option."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(only={_command_in(argv)} - {None}).parse_args(argv)
    return command_module(args.command).run(args)


# What a process stopped by SIGPIPE exits with: a reader that left early (`| head`) is no error to report.
EXIT_READER_GONE = 128 + 13


def exit_now(code: int) -> None:
    """Leave with `code` once the output is written, without tearing the interpreter down.

    A command returns when its work is done: files closed, child processes stopped, threads joined.
    What is left is memory, which the OS takes back at once; freeing it object by object (every module,
    every resource and Output of a preview) took 0.16 s of a one-second preview.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            # The reader went away (`| head`) before the last buffered output reached it: the same end
            # as a reader leaving mid-command, whichever print the close happened to meet.
            code = EXIT_READER_GONE
        except (OSError, ValueError):  # a stream already closed
            pass
    os._exit(code)


if __name__ == "__main__":
    # One command per process, and the process ends in exit_now: the OS takes its memory back then.
    # The cycle collector would only rescan what the command keeps to the end; and a preview, which
    # pauses it while the program runs (ops/engine.py), paid a full scan of the whole plan when it
    # resumed, after the output was written: 0.5 s at 200 services, 5 s at 2000.
    gc.disable()
    try:
        code = main() or 0
    except BrokenPipeError:
        code = EXIT_READER_GONE
    exit_now(code)
