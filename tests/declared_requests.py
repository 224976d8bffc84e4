"""Every RegisterResource request the program sends for a stack, declared in a fresh interpreter.

Tests that change how the program registers a resource (and not what) declare the stack twice, one
way and the other, and compare every request field by field: type, inputs (secrets included), parent,
provider, dependencies, plugin version, aliases and secret outputs. Only the stack trace, which the
mock engine drops, and the order of dependencies, which concurrent registration varies, are left out.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

_RECORD = """
from google.protobuf import json_format
import ops.engine as engine
from ops.stackfile import read_stack_config

requests = []
register = engine._RecordingMonitor.RegisterResource
def keep(self, request):
    message = json_format.MessageToDict(request)
    message.pop("stackTrace", None)
    message["dependencies"] = sorted(message.get("dependencies", []))  # registration is concurrent: order varies
    for urns in message.get("propertyDependencies", {}).values():
        urns["urns"] = sorted(urns.get("urns", []))
    requests.append(message)
    return register(self, request)
engine._RecordingMonitor.RegisterResource = keep

stack = read_stack_config(STACK)
plans = {}
for known in (True, False):
    requests.clear()
    engine.run_program(stack.config, stack.secret_keys, STACK, known=known)
    plans[str(known)] = sorted(requests, key=lambda r: (r["type"], r.get("parent", ""), r["name"]))
import json
print(json.dumps(plans, sort_keys=True))
"""


def declared_requests(stack: str, before: str = "") -> dict[str, list[dict]]:
    """{"True": requests with computed values known, "False": on a first preview}, sorted, after
    running `before` (Python source) in the same interpreter."""
    script = f"{before}\nSTACK = {stack!r}\n{_RECORD}"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
