"""`python -m ops reference`: the command reference in the README, generated from the parsers."""

from __future__ import annotations

import re
from pathlib import Path

from ops.engine import PROGRAM_DIR

START, END = "<!-- command-reference:start -->", "<!-- command-reference:end -->"
README = PROGRAM_DIR / "README.md"


def add_arguments(parser) -> None:
    parser.add_argument("--write", action="store_true", help="rewrite the README's command reference in place")
    parser.add_argument("--policies", action="store_true",
                        help="the policy tables of docs/policies.md instead, generated from the rules' declarations")


def render() -> str:
    from ops.__main__ import COMMANDS, build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    blocks = []
    for name in COMMANDS:
        help_text = subparsers[name].format_help().replace("usage: python -m ops", "python -m ops", 1)
        blocks.append(f"### `python -m ops {name}`\n\n```text\n{help_text.rstrip()}\n```")
    return "\n\n".join(blocks)


def section(readme_text: str) -> str:
    match = re.search(re.escape(START) + r"\n(.*?)\n" + re.escape(END), readme_text, re.S)
    return match.group(1) if match else ""


def run(args) -> int:
    if args.policies:
        from ops import policy_reference

        return policy_reference.run(args.write)
    text = render()
    if args.write:
        readme = README.read_text()
        if START not in readme or END not in readme:
            print(f"{README.name}: the markers {START} and {END} are missing; add them where the reference goes")
            return 2
        head, rest = readme.split(START, 1)
        README.write_text(f"{head}{START}\n{text}\n{END}{rest.split(END, 1)[1]}")
        print(f"updated the command reference in {README.name}")
    else:
        print(text)
    return 0


def readme_is_current(readme: Path = README) -> bool:
    return section(readme.read_text()) == render()
