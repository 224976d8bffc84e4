"""`python -m ops <command>`: the operator's offline tools."""

from __future__ import annotations

import argparse
import sys

from ops import (
    env_diff,  # edge and least privilege
    preview,
    rotate,  # edge and least privilege
    validate_env,  # edge and least privilege
)

COMMANDS = {
    "preview": (preview, "run the program under Pulumi's mock engine; print the plan and policy results"),
    # --- edge and least privilege ---
    "validate-env": (validate_env, "check a stack's config and a .env file against the catalog; print every problem with its fix"),
    "rotate": (rotate, "print the ordered steps, downtime and emergency revocation for rotating one secret"),
    "env-diff": (env_diff, "compare the env and secret files the program delivers with the droplet's, over SSH (hashes only)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module, _ = COMMANDS[args.command]
    return module.run(args)


if __name__ == "__main__":
    sys.exit(main())
