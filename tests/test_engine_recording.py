"""The mock engine records each resource's inputs from the mock monitor's own decoding in a preview:
the plan is exactly what decoding each request a second time records."""

from __future__ import annotations

import dataclasses
import gc
import json

import pulumi
import pytest
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import rpc

from ops import engine
from ops.stackfile import read_stack_config


def _plan(stack: str) -> str:
    config = read_stack_config(stack)
    recorded = engine.run_program(config.config, config.secret_keys, stack, known=False)
    fields = []
    for resource in recorded:
        entry = dataclasses.asdict(resource)
        entry["dependencies"] = sorted(entry["dependencies"])  # registration is concurrent: order varies
        entry["property_dependencies"] = {k: sorted(v) for k, v in entry["property_dependencies"].items()}
        fields.append(entry)
    unknown = lambda value: "<unknown>" if type(value).__name__ == "Unknown" else repr(value)  # noqa: E731
    return json.dumps(sorted(fields, key=lambda r: r["urn"]), sort_keys=True, default=unknown)


@pytest.mark.parametrize("stack", ["prod", "prod-k8s"])
def test_a_preview_records_what_decoding_each_request_again_records(stack, monkeypatch):
    reused = _plan(stack)
    monkeypatch.setattr(engine._RecordingMonitor, "_inputs",
                        lambda self, request: rpc.deserialize_properties(request.object, keep_unknowns=True))
    decoded = _plan(stack)
    assert "<unknown>" in reused, "a preview has unknown values to keep"
    assert reused == decoded


def test_the_program_runs_without_the_cycle_collector_or_stack_walks_and_both_come_back_after():
    """What the engine turns off for speed (ops/engine.py says why) is off while the program runs and
    back as it was once it returns, also when the program fails."""
    seen = {}
    walk = sdk_resource._get_stack_trace

    def program():
        seen["collector"] = gc.isenabled()
        seen["walk"] = sdk_resource._get_stack_trace is walk
        raise pulumi.RunError("stop here")

    assert gc.isenabled()
    with pytest.raises(engine.ProgramFailed):
        engine.run_under_mocks(program, {}, [], "prod")
    assert seen == {"collector": False, "walk": False}
    assert gc.isenabled() and sdk_resource._get_stack_trace is walk


def test_a_collector_turned_off_by_the_caller_stays_off():
    gc.disable()
    try:
        with engine.cycle_collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
