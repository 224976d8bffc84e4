"""How long adopting a compose stack takes: `ops import-compose` and `ops audit` on the 18-service
fixture (tests/fixtures/compose/platform), each as the real command in a fresh process, best of
--repeat runs, beside the floors: `python -m ops --help` (the interpreter) and importing both commands' modules.

    .venv/bin/python bench/compose_bench.py [--repeat 3] [--file docker-compose.yml]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = ROOT / "tests" / "fixtures" / "compose" / "platform" / "docker-compose.yml"


def best_of(command: list[str], repeat: int, expect: tuple[int, ...]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if result.returncode not in expect:
            sys.exit(f"{' '.join(command)} exited {result.returncode}: {result.stderr[-2000:]}")
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--file", type=Path, default=PLATFORM)
    args = parser.parse_args()
    python = [sys.executable, "-m", "ops"]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            ("floor (python -m ops --help)", best_of([*python, "--help"], args.repeat, (0,))),
            ("imports of both commands", best_of([sys.executable, "-c", "import ops.import_compose, ops.audit"], args.repeat, (0,))),
            ("import-compose", best_of([*python, "import-compose", str(args.file), "--out", f"{tmp}/services.yaml"], args.repeat, (0,))),
            # audit exits 1 when it finds a P0 gap, as it does on the fixture
            ("audit (md)", best_of([*python, "audit", str(args.file)], args.repeat, (0, 1))),
            ("audit (sarif)", best_of([*python, "audit", str(args.file), "--format", "sarif"], args.repeat, (0, 1))),
        ]
    print(f"{args.file.relative_to(ROOT) if args.file.is_relative_to(ROOT) else args.file}, best of {args.repeat}:")
    for name, seconds in rows:
        print(f"  {name:<32} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
