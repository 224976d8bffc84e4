#!/usr/bin/env python3
"""Print how long the policy pack takes offline: start-up, one Analyze per resource (serial and concurrent), AnalyzeStack.

Figures only, never asserted: run it before and after changing rules.

    bench/policy_pack.py [rounds]
    bench/policy_pack.py --stack-rules [--stack prod] [--sizes 20 200 2000]

--stack-rules times each stack rule on its own, on the plans of catalogs of each size (grown or shrunk
as bench/preview_bench.py does), with the resources converted as the pack converts them; its `growth`
column is how much more each resource cost than at the size before (about 1 for a rule of linear cost,
about the size ratio for one of quadratic cost).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import preview_bench  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from pulumi_policy.deserialize import deserialize_properties  # noqa: E402
from pulumi_policy.proxy import unknown_checking_proxy  # noqa: E402

from ops.analyzer import PolicyPackClient, analyze_request  # noqa: E402
from ops.engine import run_program  # noqa: E402
from ops.policy_config import resolve  # noqa: E402
from ops.stackfile import read_stack_config  # noqa: E402
from policies.devtools_policy import pack  # noqa: E402


def stack_form(recorded: list) -> list:
    """The plan as the pack's stack rules receive it, through the SDK's conversions and the pack's thaw."""
    return [pack.StackResource(type=r.type, urn=r.urn, name=r.name, property_dependencies=r.property_dependencies,
                               props=pack.thaw(unknown_checking_proxy(deserialize_properties(
                                   json_format.MessageToDict(analyze_request(r).properties)))))
            for r in recorded]


def stack_rule_times(stack: str, size: int, repeat: int = 3) -> tuple[int, dict[str, float]]:
    """(resources, rule name -> median seconds of its check) on the plan of a catalog of `size` services."""
    catalog, folder = preview_bench.sized_inputs(ROOT, stack, size)
    config = read_stack_config(stack, str(catalog) if catalog else None, folder or ROOT)
    resources = stack_form(run_program(config.config, config.secret_keys, stack))
    times = {}
    for rule in (r for r in pack.RULES if r.stack):
        settings, runs = rule.config(None), []
        for _ in range(repeat):
            gc.collect()
            started = time.perf_counter()
            rule.check(resources, settings)
            runs.append(time.perf_counter() - started)
        times[rule.name] = statistics.median(runs)
    return len(resources), times


def print_stack_rules(stack: str, sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        preview_bench.SCRATCH = Path(scratch)
        measured = [stack_rule_times(stack, size) for size in sizes]
    print(f"stack {stack}: each stack rule's check, median of 3, ms (growth: per-resource cost against the size before)")
    print(f"{'rule':<28}" + "".join(f" {f'{size} svcs, {count} res':>24}" for size, (count, _) in zip(sizes, measured, strict=True)))
    for name in measured[0][1]:
        cells = []
        for i, (count, times) in enumerate(measured):
            growth = ""
            if i and measured[i - 1][1][name] > 0:
                before_count, before = measured[i - 1]
                growth = f" x{(times[name] / count) / (before[name] / before_count):.2f}"
            cells.append(f"{times[name] * 1000:.1f}{growth}")
        print(f"{name:<28}" + "".join(f" {cell:>24}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int, nargs="?", default=5, help="rounds of the pack's calls; the median is shown")
    parser.add_argument("--stack-rules", action="store_true", help="time each stack rule at each of --sizes instead")
    parser.add_argument("--stack", default="prod", help="the stack whose plan --stack-rules judges")
    parser.add_argument("--sizes", type=int, nargs="*", default=[20, 200, 2000])
    args = parser.parse_args()
    if args.stack_rules:
        print_stack_rules(args.stack, args.sizes)
        return
    rounds = args.rounds
    config = read_stack_config("prod")
    started = time.perf_counter()
    resources = run_program(config.config, config.secret_keys, "prod")
    print(f"program under mocks: {len(resources)} resources in {time.perf_counter() - started:.2f}s")
    startups, serial, analyzes, stacks = [], [], [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        with PolicyPackClient() as pack:
            t1 = time.perf_counter()
            pack.configure(resolve({}, pack.info()))
            t2 = time.perf_counter()
            for resource in resources:
                pack.analyze(resource)
            t3 = time.perf_counter()
            pack.analyze_all(resources)
            t4 = time.perf_counter()
            pack.analyze_stack(resources)
            t5 = time.perf_counter()
        startups.append(t1 - t0)
        serial.append(t3 - t2)
        analyzes.append(t4 - t3)
        stacks.append(t5 - t4)
    med = statistics.median
    print(f"pack start-up (process + port + channel ready): median {med(startups) * 1000:.0f} ms over {rounds} rounds")
    print(f"{len(resources)} Analyze calls one after another: median {med(serial) * 1000:.0f} ms "
          f"({med(serial) / len(resources) * 1000:.2f} ms per resource)")
    print(f"{len(resources)} Analyze calls in flight together (as the engine and the preview send them): "
          f"median {med(analyzes) * 1000:.0f} ms ({med(analyzes) / len(resources) * 1000:.2f} ms per resource)")
    print(f"AnalyzeStack: median {med(stacks) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
