"""`python -m ops preview`, as the command line sees it: its arguments, and a head start for the pack.

The preview's own modules (the program, the SDKs, gRPC) take about 0.3 s to import, and the policy
pack about as long to start. So the pack is started first, from the stack file alone, and the
preview (ops/preview.py) takes it over once it has read and checked its input the usual way, if it
wants the same pack; a stack file that cannot be read starts none (the preview says why).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from catalog import yaml_loader
from ops.pack_process import PACK_DIR, Headstart
from ops.stack_values import config_section, non_text_keys, plain_config, stack_file_config, unencodable_keys

PROGRAM_DIR = Path(__file__).resolve().parent.parent
FORMATS = ("text", "json", "sarif")


def add_arguments(parser) -> None:
    parser.add_argument("--stack", default="prod", help="stack whose Pulumi.<stack>.yaml to read (default: prod)")
    parser.add_argument("--stack-dir", metavar="DIR", help="read Pulumi.<stack>.yaml from DIR instead of the project")
    parser.add_argument("--catalog", metavar="PATH", help="preview another catalog file instead of config/services.yaml")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--format", choices=FORMATS, help="text (default), json (plan and violations), or sarif "
                                                          "(violations as SARIF 2.1.0 for code scanning)")
    output.add_argument("--json", action="store_true", help="same as --format json")
    parser.add_argument("--policy-config", metavar="FILE",
                        help="policy pack config, the JSON `pulumi preview --policy-pack-config` takes")
    parser.add_argument("--unknowns", action="store_true",
                        help="leave computed values (IPs, generated passwords) unknown, as on a first `pulumi preview`")
    parser.add_argument("--timings", action="store_true",
                        help="print how long each phase took (program, policies, output) as JSON on stderr")


def run(args) -> int:
    headstart = _start_pack(args)
    try:
        from ops import preview  # the heavy part, imported while the pack starts

        return preview.run(args, headstart)
    finally:
        if headstart is not None:
            headstart.stop()  # unless the preview took it over (and has stopped it)


def _start_pack(args) -> Headstart | None:
    """The pack the preview will want, started from the stack file; None if that file does not read."""
    stack_file = (Path(args.stack_dir) if args.stack_dir else PROGRAM_DIR) / f"Pulumi.{args.stack}.yaml"
    try:
        raw = yaml_loader.load(stack_file.read_bytes())
    except (OSError, RecursionError, yaml.YAMLError):
        return None
    section = config_section(raw)
    if section is None or non_text_keys(section) or unencodable_keys(section):
        return None
    config, secret_keys = stack_file_config(raw, args.catalog)
    return Headstart.launch(PACK_DIR, args.stack, True, plain_config(config, secret_keys))
