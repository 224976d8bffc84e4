"""`python -m ops import-compose`: a compose file in, a catalog the preview accepts out.

Prints the follow-ups the importer could not do itself (secrets to set, images to build or
pin, files to carry over), each with its command; values of secrets are never written or printed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from catalog.errors import InputError, Problem
from catalog.inputs import load_inputs
from catalog.model import PROGRAM_DIR
from ops.compose.convert import Imported, convert, with_stand_in_pins
from ops.compose.emit import emit
from ops.compose.load import ComposeError, load_compose
from ops.schema import SCHEMA_FILE
from ops.stackfile import read_stack_config

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def add_arguments(parser) -> None:
    parser.add_argument("file", metavar="FILE", help="the compose file (docker-compose.yml, compose.yaml)")
    parser.add_argument("--env-file", metavar="PATH", help="the .env file for interpolation (default: .env beside FILE, if present)")
    parser.add_argument("--out", metavar="PATH", help="write the catalog here (e.g. config/services.yaml); default: print it")
    parser.add_argument("--stack", default="prod", help="check the written catalog against this stack's settings too (default: prod)")
    parser.add_argument("--stack-dir", metavar="DIR", help="read Pulumi.<stack>.yaml from DIR instead of the project")


def header(compose: Path, out: Path | None) -> list[str]:
    base = (out.resolve().parent if out else Path.cwd())
    # Relative inside the project (the file moves with the checkout), absolute outside it.
    schema = os.path.relpath(SCHEMA_FILE, base) if base.is_relative_to(PROGRAM_DIR) else str(SCHEMA_FILE)
    source = os.path.relpath(compose.resolve(), base)
    return [
        f"yaml-language-server: $schema={schema}",
        f"The service catalog, imported from {source} by `python -m ops import-compose`.",
        "Each `# REVIEW:` line marks a choice made for you (a default, a route, a dropped key): check it.",
        "",
    ]


def render(compose_file: Path, env_file: Path | None, out: Path | None) -> tuple[str, Imported]:
    """The catalog's text and what was done to get it; ComposeError for a bad compose file or .env."""
    compose = load_compose(compose_file, env_file)
    imported = convert(compose)
    return emit(imported.document, imported.notes, header(compose_file, out)), imported


def run(args) -> int:
    out = Path(args.out) if args.out else None
    try:
        text, imported = render(Path(args.file), Path(args.env_file) if args.env_file else None, out)
    except ComposeError as error:
        print(error.render().replace("in the inputs; nothing was declared", "in the compose input; nothing was written"), file=sys.stderr)
        return EXIT_BAD_INPUT
    report = sys.stdout if out else sys.stderr
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}: {len(imported.services)} service(s) from {args.file}"
              + (f", {len(imported.document['services']) - len(imported.services)} added for the edge" if imported.dropped or
                 len(imported.document["services"]) > len(imported.services) else ""), file=report)
    else:
        sys.stdout.write(text)
    if imported.followups:
        print(f"\n{len(imported.followups)} follow-up(s): what the importer could not do for you", file=report)
        for followup in imported.followups:
            print(f"  - {followup.render()}", file=report)
    if out:
        preview = f"python -m ops preview --catalog {out}" + (f" --stack {args.stack}" if args.stack != "prod" else "")
        remaining = remaining_problems(imported, out, args.stack, Path(args.stack_dir) if args.stack_dir else PROGRAM_DIR)
        if remaining:
            print(f"\nbefore `{preview}`, these still need fixing:", file=report)
            print("\n".join(f"  - {p}" for p in remaining), file=report)
        else:
            print(f"\nthe catalog and the stack's settings validate: {preview}", file=report)
    return EXIT_OK


def _input_problems(catalog: Path, stack: str, stack_dir: Path) -> list[Problem]:
    try:
        load_inputs(read_stack_config(stack, str(catalog.resolve()), stack_dir).config, stack)
    except InputError as error:
        return error.problems
    return []


def remaining_problems(imported: Imported, out: Path, stack: str, stack_dir: Path) -> list[Problem]:
    """What the preview would refuse: the written catalog's problems, and the stack settings that do not
    fit it. The settings are also checked against the catalog as it will be once its images are pinned,
    so they are listed now rather than after the pins."""
    problems = _input_problems(out, stack, stack_dir)
    document, stood_in = with_stand_in_pins(imported.document)
    if stood_in:
        with tempfile.TemporaryDirectory(prefix="import-check-") as tmp:
            pinned = Path(tmp) / out.name
            pinned.write_text(emit(document, {}), encoding="utf-8")
            settings_file = f"Pulumi.{stack}.yaml"
            problems += [p for p in _input_problems(pinned, stack, stack_dir) if p.file == settings_file and p not in problems]
    return problems
