"""Lean imports change nothing the program declares, and load only what is used.

The program imports only the provider SDK modules it uses (targets/sdk.py), and `python -m ops`
imports only the module of the command it runs. Each check runs in a fresh interpreter, since what
a process has imported is the point.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import ROOT

# The provider SDKs whose loaded modules the plan recordings report.
SDKS = ("pulumi_digitalocean", "pulumi_docker", "pulumi_command", "pulumi_kubernetes")

RECORD_PLAN = """
import dataclasses, json, sys
if sys.argv[1] == "full":  # the whole SDKs, as a plain import loads them
    import pulumi_digitalocean, pulumi_docker, pulumi_command
    import importlib
    for group in ("core.v1", "apps.v1", "batch.v1", "networking.v1", "rbac.v1", "policy.v1", "autoscaling.v2"):
        dir(importlib.import_module(f"pulumi_kubernetes.{group}"))  # a lazily imported group loads on first use
from ops.engine import run_program
from ops.stackfile import read_stack_config

def normal(resource):
    fields = dataclasses.asdict(resource)
    fields["dependencies"] = sorted(fields["dependencies"])  # registration is concurrent: order varies
    fields["property_dependencies"] = {k: sorted(v) for k, v in fields["property_dependencies"].items()}
    return fields

name = sys.argv[2]
stack = read_stack_config(name)
plans = {}
for known in (True, False):
    recorded = run_program(stack.config, stack.secret_keys, name, known=known)
    plans[str(known)] = sorted((normal(r) for r in recorded), key=lambda r: r["urn"])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[3:])  # the SDKs watched (SDKS)
unknown = lambda value: "<unknown>" if type(value).__name__ == "Unknown" else repr(value)  # noqa: E731
print(json.dumps({"plans": plans, "loaded": loaded}, sort_keys=True, default=unknown))
"""


def _record(mode: str, stack: str) -> dict:
    done = subprocess.run([sys.executable, "-c", RECORD_PLAN, mode, stack, *SDKS], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_the_lean_sdk_imports_declare_exactly_what_the_full_sdks_declare():
    lean, full = _record("lean", "prod"), _record("full", "prod")
    assert len(lean["plans"]["True"]) > 50 and len(lean["plans"]["False"]) == len(lean["plans"]["True"])
    assert lean["plans"] == full["plans"]
    # and the lean run really left most of the digitalocean SDK unloaded
    assert "pulumi_digitalocean.droplet" in lean["loaded"] and "pulumi_digitalocean.app" not in lean["loaded"]
    assert "pulumi_digitalocean.app" in full["loaded"]
    assert len(lean["loaded"]) * 3 < len(full["loaded"])


def test_the_kubernetes_target_loads_only_the_modules_it_uses_and_declares_the_same():
    lean, full = _record("lean", "prod-k8s"), _record("full", "prod-k8s")
    assert len(lean["plans"]["True"]) > 200 and lean["plans"] == full["plans"]
    assert {"pulumi_kubernetes.provider", "pulumi_digitalocean.kubernetes_cluster"} <= set(lean["loaded"])
    # Its objects are registered from their documents (targets/kubernetes/objects.py): no API group's
    # classes are loaded, nor the droplet's SDKs.
    api_groups = [m for m in lean["loaded"] if re.search(r"^pulumi_kubernetes\.[a-z]+\.v[0-9]", m)]
    assert not api_groups and "pulumi_kubernetes.apps.v1.Deployment" in full["loaded"]
    assert "pulumi_digitalocean.app" not in lean["loaded"] and "pulumi_digitalocean.app" in full["loaded"]
    assert not [m for m in lean["loaded"] if m.split(".")[0] in ("pulumi_docker", "pulumi_command")]


def test_a_name_the_lean_package_did_not_load_loads_the_rest_of_it():
    script = """
import sys
from targets.sdk import provider_sdk
do = provider_sdk("pulumi_digitalocean", "droplet")
assert "pulumi_digitalocean.app" not in sys.modules
import pulumi_digitalocean
from pulumi_digitalocean import App
from pulumi_digitalocean.droplet import Droplet
assert do is pulumi_digitalocean and do.Droplet is Droplet and App.__module__ == "pulumi_digitalocean.app"
import pulumi.runtime.rpc as rpc
print(sum(key.startswith("digitalocean") for key in rpc._RESOURCE_MODULES))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 50  # the provider's resource types registered once, as a full import does


def test_the_command_line_imports_only_the_command_it_runs():
    script = """
import sys
from ops.__main__ import COMMANDS, build_parser
build_parser(only={"rotate"}).parse_args(["rotate", "--list"])
print(" ".join(sorted(m for m in sys.modules if m.startswith("ops."))))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert "ops.rotate" in loaded
    assert not loaded & {"ops.preview", "ops.env_diff", "ops.verify", "ops.restore", "ops.validate_env"}


def test_the_program_and_the_operator_commands_never_import_the_test_suite():
    """Operator commands run from a deployment checkout: the drill's local servers live in ops/, not tests/."""
    import ast

    sources = [ROOT / "__main__.py", *(p for d in ("catalog", "render", "targets", "ops", "policies", "images")
                                      for p in (ROOT / d).rglob("*.py"))]
    found = []
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            found += [f"{source.relative_to(ROOT)} imports {n}" for n in names if n == "tests" or n.startswith("tests.")]
    assert len(sources) > 50 and found == []
