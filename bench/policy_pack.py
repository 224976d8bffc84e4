#!/usr/bin/env python3
"""Print how long the policy pack takes offline: start-up, one Analyze per resource (serial and concurrent), AnalyzeStack.

Figures only, never asserted: run it before and after changing rules. Usage: bench/policy_pack.py [rounds]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ops.analyzer import PolicyPackClient  # noqa: E402
from ops.engine import run_program  # noqa: E402
from ops.policy_config import resolve  # noqa: E402
from ops.stackfile import read_stack_config  # noqa: E402


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
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
