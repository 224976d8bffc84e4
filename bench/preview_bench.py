"""Benchmark the offline preview: wall time for the shipped stack and synthetic catalogs.

Prints, for each catalog: services, resources, the preview's wall time (the real
`python -m ops preview` command, policy pack included, best of --repeat runs), the
floor (the same number of bare resources registered under the same mock engine, in a
fresh process), and the depth of the plan's dependency graph (the longest chain of
resources `pulumi up` must create one after another).

    .venv/bin/python bench/preview_bench.py [--sizes 20 200 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLOOR_PROGRAM = """
import sys, time, pulumi
from pulumi.runtime import mocks

class M(pulumi.runtime.Mocks):
    def new_resource(self, args):
        return args.name + "-id", dict(args.inputs)
    def call(self, args):
        return {}

count = int(sys.argv[1])
started = time.perf_counter()
pulumi.runtime.set_mocks(M(), project="devtools", stack="bench", preview=False)

@pulumi.runtime.test
def run():
    for i in range(count):
        pulumi.CustomResource("bench:index:Bare", f"bare-{i}", {})

run()
print(time.perf_counter() - started)
"""


def synthetic_catalog(services: int) -> dict:
    """The shipped catalog, grown to `services` entries by cloning the agent entries."""
    catalog = yaml.safe_load((ROOT / "config" / "services.yaml").read_text())
    template = copy.deepcopy(catalog["services"]["documentation"])
    existing = len(catalog["services"])
    for i in range(max(0, services - existing)):
        clone = copy.deepcopy(template)
        clone["port"] = 20000 + i
        clone["environment"] = {**clone["environment"], "AGENT_NAME": f"agent-{i}"}
        catalog["services"][f"agent-{i}"] = clone
    return catalog


def timed(cmd: list[str], repeat: int) -> tuple[float, subprocess.CompletedProcess]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return best, result


def dependency_depth(resources: list[dict]) -> int:
    """Longest chain through `dependencies` among custom resources (components create nothing)."""
    by_urn = {r["urn"]: r for r in resources}

    @cache
    def depth(urn: str) -> int:
        deps = [d for d in by_urn[urn]["dependencies"] if d in by_urn]
        own = 0 if by_urn[urn]["type"].startswith("devtools:") else 1
        return own + max((depth(d) for d in deps), default=0)

    return max((depth(u) for u in by_urn), default=0)


def measure(label: str, catalog_path: Path | None, repeat: int) -> None:
    cmd = [sys.executable, "-m", "ops", "preview", "--json"]
    if catalog_path:
        cmd += ["--catalog", str(catalog_path)]
    wall, result = timed(cmd, repeat)
    if result.returncode == 2:
        print(f"{label}: bad input\n{result.stderr}")
        return
    doc = json.loads(result.stdout)
    resources = doc["resources"]
    services = sum(r["type"] == "docker:index/container:Container" for r in resources)
    floor_wall, floor = timed([sys.executable, "-c", FLOOR_PROGRAM, str(len(resources))], repeat)
    floor_inner = float(floor.stdout.strip())
    print(f"{label:>10} | {services:>8} | {len(resources):>9} | {wall:>9.2f} | {floor_wall:>9.2f} | {floor_inner:>10.2f} | "
          f"{wall / len(resources) * 1000:>8.2f} | {dependency_depth(resources):>5} | {len(doc['violations']):>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[20, 200, 2000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is shown")
    args = parser.parse_args()
    print("   catalog | services | resources | preview s | floor s   | floor reg s | ms/res   | depth | violations")
    measure("shipped", None, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        shipped = len(synthetic_catalog(0)["services"])
        for size in args.sizes:
            if size <= shipped:
                print(f"{size:>10} | the shipped catalog already has {shipped} services: nothing smaller to grow")
                continue
            path = Path(tmp) / f"services-{size}.yaml"
            path.write_text(yaml.safe_dump(synthetic_catalog(size), sort_keys=False))
            measure(f"{size}", path, args.repeat if size < 2000 else 1)
    print("preview s and floor s: wall time of the whole process (interpreter start and imports included);\n"
          "floor reg s: the floor's registrations alone; depth: longest create-in-order chain.")


if __name__ == "__main__":
    main()
