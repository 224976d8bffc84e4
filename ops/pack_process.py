"""The policy pack's process, started as the engine starts a Python pack; light to import.

The engine runs `python -u -m pulumi.policy <engine address> .` in the pack's folder, with
PULUMI_PROJECT, PULUMI_STACK, PULUMI_DRY_RUN and PULUMI_CONFIG in the environment, and reads the
port the pack prints. Nothing here imports the SDKs or gRPC, so a command can start the pack
before it loads its own modules: the pack's own start-up (0.3 s) then overlaps theirs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ops.stack_values import PROJECT

PACK_DIR = Path(__file__).resolve().parent.parent / "policies"
# The pack would only dial the engine to send log messages; none of its policies log, so it gets an
# address nothing listens on, as the engine's own address is not there offline.
NO_ENGINE = "127.0.0.1:0"


def launch_pack(pack_dir: Path, stack: str, dry_run: bool, config: Mapping[str, str], stderr: IO[bytes]) -> subprocess.Popen:
    """Start the pack and return at once; its port comes as the first line of its stdout."""
    env = {
        **os.environ,
        "PULUMI_PROJECT": PROJECT,
        "PULUMI_STACK": stack,
        "PULUMI_DRY_RUN": "true" if dry_run else "false",
        "PULUMI_CONFIG": json.dumps(dict(config)),
    }
    return subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", NO_ENGINE, "."],
        cwd=pack_dir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
    )


@dataclass
class Headstart:
    """A pack started ahead of the client that will talk to it, with what it was started for.

    The client adopts it only if it wants the same pack (folder, stack, mode, config); otherwise, or
    if no client comes (the input was refused), `stop` ends it.
    """

    pack_dir: Path
    stack: str
    dry_run: bool
    config: dict[str, str]
    process: subprocess.Popen
    stderr: IO[bytes]                 # a temporary file: what the pack says there goes into error messages
    launched_at: float                # time.monotonic(), for the client's start-up deadline
    adopted: bool = False             # a client took it over: its close() ends the process

    @classmethod
    def launch(cls, pack_dir: Path, stack: str, dry_run: bool, config: Mapping[str, str]) -> Headstart:
        stderr = tempfile.TemporaryFile()
        process = launch_pack(pack_dir, stack, dry_run, config, stderr)
        return cls(pack_dir, stack, dry_run, dict(config), process, stderr, time.monotonic())

    def fits(self, pack_dir: Path, stack: str, dry_run: bool, config: Mapping[str, str]) -> bool:
        return (Path(pack_dir) == Path(self.pack_dir) and stack == self.stack and dry_run == self.dry_run
                and dict(config) == self.config and self.process.poll() is None)

    def stop(self) -> None:
        """End the process, unless a client adopted it."""
        if self.adopted:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.stderr.close()
