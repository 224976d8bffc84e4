"""Shared fixtures: run the program under Pulumi's mocks with the shipped or a changed catalog."""

from __future__ import annotations

import atexit
import copy
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis.configuration import set_hypothesis_home_dir

ROOT = Path(__file__).resolve().parent.parent

# The SDK type-module index (targets/sdk_types.py) goes to a directory of this session, set before
# anything imports the program: the run builds it from cold as a fresh machine does, and writes
# nothing under the home directory. Subprocesses inherit it.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="devtools-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], ignore_errors=True)
# Hypothesis keeps caches (its Unicode tables) in a home directory: under that one, not in the tree.
set_hypothesis_home_dir(os.path.join(os.environ["XDG_CACHE_HOME"], "hypothesis"))

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ops.engine import Recorded, run_program  # noqa: E402
from ops.stackfile import read_stack_config  # noqa: E402

CONTAINER = "docker:index/container:Container"

# Real PostgreSQL / Redis fixtures (session-scoped: each server starts once).
pytest_plugins = ["tests.servers"]


def shipped_catalog() -> dict:
    return yaml.safe_load((ROOT / "config" / "services.yaml").read_text())


def deployed_catalog():
    """The catalog as the prod stack deploys it: without the services it omits (devtools:omitServices)."""
    from catalog.inputs import load_inputs

    return load_inputs(read_stack_config("prod").config, "prod").catalog


class Plan(list):
    """The recorded resources of one program run, with lookups tests use."""

    def of_type(self, typ: str) -> list[Recorded]:
        return [r for r in self if r.type == typ]

    def containers(self) -> dict[str, Recorded]:
        return {r.name: r for r in self.of_type(CONTAINER)}

    def one(self, typ: str) -> Recorded:
        found = self.of_type(typ)
        assert len(found) == 1, f"expected one {typ}, found {len(found)}"
        return found[0]


def run_plan(catalog: dict | None = None, tmp_path: Path | None = None, stack: str = "prod",
             known: bool = True, overrides: dict[str, str] | None = None) -> Plan:
    """Run __main__.py under mocks; `catalog` (a dict) replaces config/services.yaml when given."""
    catalog_file = None
    if catalog is not None:
        assert tmp_path is not None
        catalog_file = tmp_path / "services.yaml"
        catalog_file.write_text(yaml.safe_dump(catalog, sort_keys=False))
    config = read_stack_config(stack, str(catalog_file) if catalog_file else None)
    values = {**config.config, **(overrides or {})}
    return Plan(run_program(values, config.secret_keys, stack, known=known))


@pytest.fixture(scope="session")
def shipped_plan() -> Plan:
    return run_plan()


@pytest.fixture
def catalog() -> dict:
    """A fresh, mutable copy of the shipped catalog (YAML anchors already expanded)."""
    return copy.deepcopy(shipped_catalog())


# --- policy pack: one pack process for the whole session (starting it costs about 0.3 s) ---

@pytest.fixture(scope="session")
def policy_pack():
    """The policy pack started as the engine starts it, spoken to over gRPC; each use configures it afresh."""
    from ops.analyzer import PolicyPackClient

    with PolicyPackClient() as client:
        yield client
