"""The mock engine's own registration path: what it records and answers is what Pulumi's plain mock
monitor, called from a worker thread as the SDK does by default, leads the program to declare."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import threading

import pulumi
import pytest
from pulumi.runtime import mocks, rpc
from pulumi.runtime import resource as sdk_resource

from ops import engine
from ops.stackfile import read_stack_config


def _plan(stack: str, known: bool) -> str:
    config = read_stack_config(stack)
    recorded = engine.run_program(config.config, config.secret_keys, stack, known=known)
    fields = []
    for resource in recorded:
        entry = dataclasses.asdict(resource)
        entry["dependencies"] = sorted(entry["dependencies"])  # the SDK gathers them in a set: order varies
        entry["property_dependencies"] = {k: sorted(v) for k, v in entry["property_dependencies"].items()}
        fields.append(entry)
    unknown = lambda value: "<unknown>" if type(value).__name__ == "Unknown" else repr(value)  # noqa: E731
    return json.dumps(sorted(fields, key=lambda r: r["urn"]), sort_keys=True, default=unknown)


def _plain_registration(self, request):
    """Pulumi's mock monitor answers (inputs decoded, then encoded back with the computed outputs),
    and the request decoded a second time for the recording."""
    response = mocks.MockMonitor.RegisterResource(self, request)
    if request.type != "pulumi:pulumi:Stack":
        self.recorded.append(engine.Recorded.of_request(
            request, response.urn, rpc.deserialize_properties(request.object, keep_unknowns=True)))
    return response


@pytest.mark.parametrize("known", [True, False], ids=["known", "preview"])
@pytest.mark.parametrize("stack", ["prod", "prod-k8s"])
def test_the_engine_records_and_answers_as_the_plain_mock_monitor_does(stack, known, monkeypatch):
    own = _plan(stack, known)
    monkeypatch.setattr(engine._RecordingMonitor, "RegisterResource", _plain_registration)
    monkeypatch.setattr(engine._MonitorCallsInline, "calls_inline", lambda self: contextlib.nullcontext())
    plain = _plan(stack, known)
    assert ("<unknown>" in own) is not known, "a preview has unknown values to keep; a deployed stack none"
    assert own == plain


def test_monitor_calls_run_in_the_programs_thread_during_a_run_and_in_the_pool_after(monkeypatch):
    threads = []
    registered = engine._RecordingMonitor.RegisterResource

    def register(self, request):
        threads.append(threading.current_thread())
        return registered(self, request)

    monkeypatch.setattr(engine._RecordingMonitor, "RegisterResource", register)
    recorded = engine.run_under_mocks(lambda: pulumi.CustomResource("test:index:Thing", "thing", {"size": 1}),
                                      {}, [], "prod")
    assert [r.inputs for r in recorded] == [{"size": 1}]
    assert threads and set(threads) == {threading.current_thread()}
    assert not engine._MONITOR_EXECUTOR.inline
    assert engine._MONITOR_EXECUTOR.submit(threading.current_thread).result() is not threading.current_thread()


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


class _Node:
    """A cyclic object that weakref can watch."""


def test_what_the_block_allocated_resumes_in_the_oldest_generation_and_its_garbage_is_still_freed():
    import weakref

    assert gc.isenabled()
    with engine.cycle_collection_paused():
        kept = [object() for _ in range(3)]
        cycle = _Node()
        cycle.me = cycle
        gone = weakref.ref(cycle)
        del cycle
    assert gc.isenabled()
    assert any(o is kept for o in gc.get_objects(generation=2)), "the young generations' next collection skips it"
    assert not any(o is kept for o in gc.get_objects(generation=0))
    gc.collect()
    assert gone() is None, "a full collection still frees the block's garbage"
