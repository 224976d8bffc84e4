"""`python -m ops preview`: the whole plan and its policy results, offline."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from catalog.errors import InputError
from catalog.inputs import catalog_path, load_inputs
from ops.analyzer import PackError, PackInfo, PolicyPackClient, PolicySetting, StreamingAnalysis
from ops.capacity import measure, measure_cluster
from ops.engine import PROGRAM_DIR, ProgramFailed, Recorded, cycle_collection_paused, run_program
from ops.pack_process import Headstart
from ops.plan import Violation, render_tree, to_json
from ops.policy_config import read_policy_config, resolve
from ops.report import Sources, render_violations, to_sarif
from ops.stack_values import plain_config
from ops.stackfile import read_stack_config

EXIT_OK, EXIT_VIOLATION, EXIT_BAD_INPUT, EXIT_PACK_FAILED, EXIT_PROGRAM_FAILED = 0, 1, 2, 3, 4


def evaluate(pack: PolicyPackClient, resources: list[Recorded],
             policy_config: Mapping[str, Any] | None = None, file: str = "policy config",
             analysis: StreamingAnalysis | None = None) -> tuple[PackInfo, list[Violation]]:
    """Run the pack over a recorded plan as the engine would; InputError for a bad policy config.

    With `analysis`, the resources were analyzed as they registered: only the answers are collected.
    """
    if analysis is not None:
        info, violations = analysis.finish(resources)
    else:
        info = pack.info()
        settings: dict[str, PolicySetting] = resolve(dict(policy_config or {}), info, file)
        violations = pack.check(resources, settings)
    # Resources register concurrently, so their order varies between runs; the report should not.
    return info, sorted(violations, key=lambda v: (v.policy, v.urn or "", v.message))


def exit_code(violations: list[Violation]) -> int:
    return EXIT_VIOLATION if any(v.enforcement == "mandatory" for v in violations) else EXIT_OK


class Phases:
    """Wall time of each phase of one preview, for `--timings` (bench/preview_bench.py reads it)."""

    def __init__(self) -> None:
        self.started_at = time.time()  # epoch, so a caller can tell how long the process took to get here
        self.last = self.started = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.laps[phase] = now - self.last
        self.last = now

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def figures(self) -> dict[str, float]:
        return {"started_at": self.started_at, **{k: round(v, 4) for k, v in self.laps.items()}}


def run(args, headstart: Headstart | None = None) -> int:
    """The preview of `args` (ops/preview_command.py's arguments); `headstart`, a pack started for it."""
    # Reading a grown catalog allocates as the program does, and for as long: both run without the
    # cycle collector (ops/engine.py says why).
    with cycle_collection_paused():
        return _preview(args, headstart)


def _preview(args, headstart: Headstart | None) -> int:
    clock = Phases()
    output = "json" if args.json else (args.format or "text")
    try:
        stack_config = read_stack_config(args.stack, args.catalog, Path(args.stack_dir) if args.stack_dir else PROGRAM_DIR)
        inputs = load_inputs(stack_config.config, args.stack)
        policy_config = read_policy_config(args.policy_config) if args.policy_config else {}
    except InputError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_BAD_INPUT
    pack = PolicyPackClient(stack=args.stack, dry_run=True, config=plain_config(stack_config.config, stack_config.secret_keys),
                            headstart=headstart)
    file = args.policy_config or "policy config"
    # The pack starts while the program runs, and judges each resource as it registers (as the engine does).
    pack.launch()
    analysis = StreamingAnalysis(pack, lambda info: resolve(dict(policy_config), info, file))
    try:
        resources = run_program(stack_config.config, stack_config.secret_keys, args.stack, known=not args.unknowns,
                                on_register=analysis.submit)
        clock.lap("program")
        info, violations = evaluate(pack, resources, policy_config, file, analysis)
        clock.lap("policies")
    except InputError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except PackError as error:
        print(f"policy pack: {error}", file=sys.stderr)
        return EXIT_PACK_FAILED
    except ProgramFailed as error:
        # A defect of the program, not of the input: `pulumi preview` would fail the same way.
        print(f"program failed: {error}", file=sys.stderr)
        return EXIT_PROGRAM_FAILED
    finally:
        analysis.stop()
        pack.close()
    settings = inputs.settings
    capacity = (measure_cluster(resources, settings) if settings.target == "doks"
                else measure(resources, settings.size, settings.volume_size_gb))
    mandatory = [v for v in violations if v.enforcement == "mandatory"]
    elapsed = clock.elapsed()
    mode = "unknown" if args.unknowns else "known"

    if output == "json":
        doc = to_json(resources, violations, {"stack": args.stack, "mode": mode,
                                              "policyPack": {"name": info.name, "version": info.version}})
        print(json.dumps(doc, indent=2, sort_keys=False))
    elif output == "sarif":
        sources = Sources(catalog_path(stack_config.config), PROGRAM_DIR / stack_config.file)
        print(json.dumps(to_sarif(violations, resources, info, sources), indent=2))
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
        print(render_violations(violations, resources, info))
        print(f"done in {elapsed:.2f}s: {len(mandatory)} mandatory violation(s), {len(violations) - len(mandatory)} advisory")
    clock.lap("output")
    if args.timings:
        print(json.dumps(clock.figures()), file=sys.stderr)
    return exit_code(violations)
