"""`python -m ops preview`: the whole plan and its policy results, offline."""

from __future__ import annotations

import json
import sys
import time

from components.errors import InputError
from components.inputs import load_inputs
from ops.capacity import measure
from ops.engine import run_program
from ops.observability_findings import observability_findings
from ops.plan import Violation, render_tree, to_json
from ops.stackfile import read_stack_config

EXIT_OK, EXIT_VIOLATION, EXIT_BAD_INPUT = 0, 1, 2


def add_arguments(parser) -> None:
    parser.add_argument("--stack", default="prod", help="stack whose Pulumi.<stack>.yaml to read (default: prod)")
    parser.add_argument("--catalog", metavar="PATH", help="preview another catalog file instead of config/services.yaml")
    parser.add_argument("--json", action="store_true", help="print one JSON document: resources and violations")
    parser.add_argument("--unknowns", action="store_true",
                        help="leave computed values (IPs, generated passwords) unknown, as on a first `pulumi preview`")


def run(args) -> int:
    started = time.perf_counter()
    try:
        stack_config = read_stack_config(args.stack, args.catalog)
        inputs = load_inputs(stack_config.config, args.stack)
    except InputError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_BAD_INPUT
    resources = run_program(stack_config.config, stack_config.secret_keys, args.stack, known=not args.unknowns)
    violations: list[Violation] = []
    violations += observability_findings(resources, inputs.catalog)
    settings = inputs.settings
    capacity = measure(resources, settings.size, settings.host_memory_reserve, settings.volume_size_gb)
    mandatory = [v for v in violations if v.enforcement == "mandatory"]
    elapsed = time.perf_counter() - started

    if args.json:
        doc = to_json(resources, violations, {"stack": args.stack, "mode": "unknown" if args.unknowns else "known"})
        print(json.dumps(doc, indent=2, sort_keys=False))
    else:
        print(f"devtools offline preview: stack {args.stack}, {len(resources)} resources "
              f"({'computed values unknown, as on a first preview' if args.unknowns else 'computed values known, as after a deploy'})")
        print(render_tree(resources, violations))
        for v in violations:
            if v.urn is None:  # stack-level findings have no resource line to mark
                print(f"{v.enforcement} [{v.policy}] {v.message}")
        print(capacity.line())
        if stack_config.stand_ins:
            print(f"external secrets: offline stand-ins for {', '.join(stack_config.stand_ins)} "
                  "(set them with `pulumi config set --secret` before a real deploy)")
        print(f"done in {elapsed:.2f}s: {len(mandatory)} mandatory violation(s), {len(violations) - len(mandatory)} advisory")
    return EXIT_VIOLATION if mandatory else EXIT_OK
