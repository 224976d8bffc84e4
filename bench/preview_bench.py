"""Benchmark the offline preview: wall time for the shipped stack and synthetic catalogs, per phase.

For each catalog (the shipped one, then the shipped one grown to each of --sizes services by cloning an
agent, or shrunk to it by leaving out, through the stack's devtools:omitServices, the last services
that no other one names):
the real `python -m ops preview --json --timings` command, policy pack included, run --repeat times
(median shown), split into its phases (import: process start until the command runs; program: the
Pulumi program under the mock engine; policies: what the pack adds after the program, its Analyze
calls having run while the program declared; output; exit: what is left of the wall time), and two floors, each measured in a fresh process
under the same mock engine (ops/engine.py):

* replay: the resources the program recorded, registered again as plain resources with their real
  inputs, parents, dependencies and providers: what the engine and SDK cost for this plan;
  program minus replay is what the program itself adds (rendering, typed resource classes, Outputs);
* bare: as many resources with no inputs at all.

    .venv/bin/python bench/preview_bench.py [--stack prod] [--sizes 20 200 2000] [--repeat 5] [--baseline REF]

--baseline REF also measures the tree at git REF (exported to a temporary directory) in the same run,
alternating runs, so before/after figures share the machine's load. Each tree is first set up as
scripts/setup leaves a checkout (its bytecode compiled) and previewed once, unmeasured, so the runs
measured are a set-up checkout's. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHASES = ("import", "program", "policies", "output")
# What one long-running service becomes on each target: a container, or a Deployment or StatefulSet.
SERVICE_TYPES = ("docker:index/container:Container", "kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")


def synthetic_catalog(services: int, tree: Path = ROOT) -> dict:
    """The tree's shipped catalog, grown to `services` entries by cloning the agent entries."""
    catalog = yaml.safe_load((tree / "config" / "services.yaml").read_text())
    template = copy.deepcopy(catalog["services"]["documentation"])
    existing = len(catalog["services"])
    for i in range(max(0, services - existing)):
        clone = copy.deepcopy(template)
        clone["port"] = 20000 + i
        clone["environment"] = {**clone["environment"], "AGENT_NAME": f"agent-{i}"}
        catalog["services"][f"agent-{i}"] = clone
    return catalog


def dependency_depth(resources: list[dict]) -> int:
    """Longest chain through `dependencies` among custom resources (components create nothing)."""
    by_urn = {r["urn"]: r for r in resources}

    @cache
    def depth(urn: str) -> int:
        deps = [d for d in by_urn[urn]["dependencies"] if d in by_urn]
        own = 0 if by_urn[urn]["type"].startswith("devtools:") else 1
        return own + max((depth(d) for d in deps), default=0)

    return max((depth(u) for u in by_urn), default=0)


# --- the floors: run in a fresh process by this same file (`--floors`) -------------------------------

def _replay_program(recorded: list) -> callable:
    """A program that registers `recorded` again as plain resources: same inputs, parents, deps, providers."""
    import pulumi
    from pulumi.output import Unknown

    def plain(value):
        if isinstance(value, Unknown):
            return None
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for r in recorded:  # registration order: parents and dependencies come first
            provider = made.get(r.provider.rsplit("::", 1)[0]) if r.provider else None
            opts = pulumi.ResourceOptions(
                parent=made.get(r.parent or ""), provider=provider, delete_before_replace=r.delete_before_replace,
                depends_on=[made[d] for d in r.dependencies if d in made],
            )
            if r.type.startswith("pulumi:providers:"):
                made[r.urn] = pulumi.ProviderResource(r.type.split(":")[2], r.name, plain(r.inputs), opts)
            elif r.custom:
                made[r.urn] = pulumi.CustomResource(r.type, r.name, plain(r.inputs), opts)
            else:
                made[r.urn] = pulumi.ComponentResource(r.type, r.name, None, opts)

    return program


def _bare_program(count: int) -> callable:
    import pulumi

    def program() -> None:
        for i in range(count):
            pulumi.CustomResource("bench:index:Bare", f"bare-{i}", {})

    return program


def floors(stack: str, catalog: str | None, stack_dir: str | None) -> dict:
    """Record the plan, then time its replay and as many bare resources (this process only)."""
    from ops.engine import run_program, run_under_mocks
    from ops.stackfile import read_stack_config

    config = read_stack_config(stack, catalog, Path(stack_dir) if stack_dir else ROOT)
    recorded = run_program(config.config, config.secret_keys, stack)
    figures = {"resources": len(recorded)}
    for label, program in (("replay", _replay_program(recorded)), ("bare", _bare_program(len(recorded)))):
        started = time.perf_counter()
        replayed = run_under_mocks(program, config.config, config.secret_keys, stack)
        figures[label] = time.perf_counter() - started
        figures[f"{label}_resources"] = len(replayed)
    return figures


# --- the preview, measured from outside -----------------------------------------------------------

@dataclass
class Run:
    wall: float
    cpu: float                                   # user + system of the preview and the pack
    phases: dict[str, float] = field(default_factory=dict)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


SCRATCH = Path(tempfile.gettempdir())  # main() points this at a temporary directory of its own


def grown_catalog(tree: Path, size: int) -> Path:
    """The tree's catalog grown to `size` services (each tree its own: the schema changes with the code)."""
    path = SCRATCH / f"services-{size}-{abs(hash(str(tree)))}.yaml"
    if not path.exists():
        path.write_text(yaml.safe_dump(synthetic_catalog(size, tree), sort_keys=False))
    return path


def _stack_file(tree: Path, stack: str) -> dict:
    return yaml.safe_load((tree / f"Pulumi.{stack}.yaml").read_text())


def kept_services(tree: Path, stack: str) -> list[str]:
    """The shipped catalog's services that the stack deploys (those it does not omit)."""
    omitted = _stack_file(tree, stack)["config"].get("devtools:omitServices") or []
    return [name for name in synthetic_catalog(0, tree)["services"] if name not in omitted]


def shrunk_stack(tree: Path, stack: str, size: int) -> Path:
    """A folder with the tree's stack file leaving out more services, until `size` are kept: the last
    ones in the catalog that no other kept service names (so nothing kept depends on them)."""
    folder = SCRATCH / f"stack-{size}-{abs(hash(str(tree)))}"
    if folder.exists():
        return folder
    raw = _stack_file(tree, stack)
    services = synthetic_catalog(0, tree)["services"]
    kept = kept_services(tree, stack)
    text = {name: yaml.safe_dump(services[name]) for name in services}
    for name in reversed(list(kept)):
        if len(kept) <= size:
            break
        if not any(re.search(rf"\b{re.escape(name)}\b", text[other]) for other in kept if other != name):
            kept.remove(name)
    raw["config"]["devtools:omitServices"] = [name for name in services if name not in kept]
    folder.mkdir()
    (folder / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return folder


def sized_inputs(tree: Path, stack: str, size: int | None) -> tuple[Path | None, Path | None]:
    """(catalog, stack folder) for the catalog of `size` services: a grown catalog or a folder whose
    stack file leaves services out; neither for the shipped catalog (None)."""
    if size is None:
        return None, None
    if size < len(kept_services(tree, stack)):
        return None, shrunk_stack(tree, stack, size)
    return grown_catalog(tree, size), None


def sized_arguments(tree: Path, stack: str, size: int | None) -> list[str]:
    """The preview's arguments for the catalog of `size` services (None: the shipped one)."""
    catalog, folder = sized_inputs(tree, stack, size)
    return ["--catalog", str(catalog)] if catalog else ["--stack-dir", str(folder)] if folder else []


def preview_once(tree: Path, stack: str, size: int | None) -> tuple[Run, dict | None]:
    cmd = [sys.executable, "-m", "ops", "preview", "--stack", stack, "--json", *sized_arguments(tree, stack, size)]
    if "--timings" in (tree / "ops" / "preview.py").read_text():  # an older tree has no phases to give
        cmd.append("--timings")
    cpu, spawned, started = _children_cpu(), time.time(), time.perf_counter()
    done = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - started, _children_cpu() - cpu
    try:  # exit 1 is a plan with mandatory findings, or a traceback (no plan): only the plan tells
        plan = json.loads(done.stdout) if done.returncode in (0, 1) else None
    except json.JSONDecodeError:
        plan = None
    if plan is None:
        print(f"  preview failed in {tree} (exit {done.returncode}): {done.stderr.strip()[-400:]}")
        return Run(wall, cpu), None
    run = Run(wall, cpu)
    timings = next((json.loads(line) for line in reversed(done.stderr.splitlines()) if line.startswith('{"started_at"')), None)
    if timings:  # a tree without --timings (an older baseline) still gives its wall time
        run.phases = {"import": timings["started_at"] - spawned, **{k: timings[k] for k in PHASES[1:] if k in timings}}
    return run, plan


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _fmt(value: float | None, width: int = 7) -> str:
    return f"{value:>{width}.2f}" if value is not None and value == value else f"{'-':>{width}}"


HEADER = (f"{'catalog':>9} {'tree':>8} | {'svcs':>5} {'res':>5} | {'wall s':>7} {'cpu s':>7} | "
          + " ".join(f"{p:>8}" for p in PHASES) + f" {'exit':>6} | {'pol %':>5} | {'replay':>7} {'bare':>7} | {'depth':>5} {'viol':>5}")


def measure(label: str, trees: dict[str, Path], stack: str, size: int | None, repeat: int) -> None:
    runs: dict[str, list[Run]] = {name: [] for name in trees}
    plan = None
    for _ in range(repeat):  # alternate the trees, so both see the same load
        for name, tree in trees.items():
            run, doc = preview_once(tree, stack, size)
            runs[name].append(run)
            plan = plan or doc
    if plan is None:
        return
    resources = plan["resources"]
    services = sum(r["type"] in SERVICE_TYPES for r in resources)
    floor = json.loads(subprocess.run([sys.executable, __file__, "--floors", "--stack", stack, *sized_arguments(ROOT, stack, size)],
                                      cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    for name, measured in runs.items():
        wall = _median([r.wall for r in measured])
        phases = {p: _median([r.phases[p] for r in measured if p in r.phases]) for p in PHASES}
        share = phases["policies"] / wall * 100 if phases["policies"] == phases["policies"] else None
        # After the output: the process leaving (and anything it still does once its work is written).
        exit_ = _median([r.wall - sum(r.phases.values()) for r in measured if len(r.phases) == len(PHASES)])
        print(f"{label:>9} {name:>8} | {services:>5} {len(resources):>5} | {_fmt(wall)} {_fmt(_median([r.cpu for r in measured]))} | "
              + " ".join(_fmt(phases[p], 8) for p in PHASES) + f" {_fmt(exit_, 6)}"
              + f" | {_fmt(share, 5)} | {_fmt(floor['replay'])} {_fmt(floor['bare'])} | "
                f"{dependency_depth(resources):>5} {len(plan['violations']):>5}")


def export(ref: str, into: Path) -> Path:
    """The tree at git `ref`, as files (no checkout, no worktree), with the venv's packages."""
    archive = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True).stdout
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def prepare(tree: Path, stack: str) -> None:
    """What a set-up checkout has before its first measured run: the bytecode scripts/setup compiles,
    and the caches one preview fills (the SDK type-module index, targets/sdk_types.py)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-x", r"/\.venv", "."], cwd=tree, check=True)
    preview_once(tree, stack, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod", help="the stack to preview (Pulumi.<stack>.yaml)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[20, 200, 2000])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the median is shown")
    parser.add_argument("--baseline", metavar="REF", help="also measure the tree at this git ref, in the same run")
    parser.add_argument("--floors", action="store_true", help=argparse.SUPPRESS)  # internal: the floors, as JSON
    parser.add_argument("--catalog", help=argparse.SUPPRESS)
    parser.add_argument("--stack-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floors:
        print(json.dumps(floors(args.stack, args.catalog, args.stack_dir)))
        return
    global SCRATCH
    with tempfile.TemporaryDirectory() as tmp:
        SCRATCH = Path(tmp)
        trees = {"current": ROOT}
        if args.baseline:
            trees = {args.baseline[:8]: export(args.baseline, Path(tmp) / "baseline"), **trees}
        for tree in trees.values():
            prepare(tree, args.stack)
        print(f"stack {args.stack}; medians of {args.repeat} runs (one for 2000 services and more), "
              f"after one unmeasured run per tree\n{HEADER}")
        measure("shipped", trees, args.stack, None, args.repeat)
        for size in args.sizes:
            measure(f"{size}", trees, args.stack, size, args.repeat if size < 2000 else 1)
    print("wall s: median wall time of `python -m ops preview` (interpreter start, imports and pack included);\n"
          "cpu s: user+system time of the preview and its pack; import/program/policies/output: its phases,\n"
          "(policies: the wait for the pack's answers after the program, which it analyzed while it ran);\n"
          "exit: what the wall time holds after the phases (the process leaving);\n"
          "pol %: policies / wall; replay: the recorded resources registered again with their inputs, and\n"
          "bare: as many empty resources, both under the same mock engine in a fresh process (registration only);\n"
          "depth: longest create-in-order chain; viol: policy findings.")


if __name__ == "__main__":
    main()
