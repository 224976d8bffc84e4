"""`python -m ops <command>`: the operator's offline tools."""

from __future__ import annotations

import argparse
import sys

from ops import audit, env_diff, import_compose, preview, reference, restore, rotate, schema, validate_env, verify

COMMANDS = {
    "preview": (preview, "run the program under Pulumi's mock engine; print the plan and policy results"),
    "validate-env": (validate_env, "check a stack's config and a .env file against the catalog; print every problem with its fix"),
    "env-diff": (env_diff, "compare the env and secret files the program delivers with the droplet's, over SSH (hashes only)"),
    "verify": (verify, "after a deploy: every service healthy and ready, every catalog agent in the registry"),
    "restore": (restore, "restore Postgres and Redis on the droplet from the newest backup in Spaces"),
    "rotate": (rotate, "print the ordered steps, downtime and emergency revocation for rotating one secret"),
    "import-compose": (import_compose, "turn a compose file into a catalog the preview accepts; print the follow-ups it needs"),
    "audit": (audit, "audit a compose file: gaps by scope and priority, the policy pack over its imported plan, compose-only checks"),
    "schema": (schema, "print (or --write into config/services.schema.json) the catalog's JSON Schema, from the models"),
    "reference": (reference, "print (or --write into README.md) this command reference"),
}


def _formatter(prog: str) -> argparse.HelpFormatter:
    # A fixed width, so the help (and the README's reference made from it) is the same on every terminal.
    return argparse.HelpFormatter(prog, width=100)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__, formatter_class=_formatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text, formatter_class=_formatter))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module, _ = COMMANDS[args.command]
    return module.run(args)


if __name__ == "__main__":
    sys.exit(main())
