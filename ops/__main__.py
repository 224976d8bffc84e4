"""`python -m ops <command>`: the operator's offline tools."""

from __future__ import annotations

import argparse
import sys

from ops import preview
from ops import restore as restore_cmd
from ops import verify as verify_cmd

COMMANDS = {
    "preview": (preview, "run the program under Pulumi's mock engine; print the plan and policy results"),
}
# --- datastores: post-deploy check and restore ---
COMMANDS.update({
    "verify": (verify_cmd, "after a deploy: every service healthy and ready, every catalog agent in the registry"),
    "restore": (restore_cmd, "restore Postgres and Redis on the droplet from the newest backup in Spaces"),
})


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
