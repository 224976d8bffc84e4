"""The offline preview judges each resource as it registers, as the engine does: same results as
analyzing the finished plan, and a pack that fails is reported, never waited on forever."""

from __future__ import annotations

import functools
import json

import pytest

from ops import preview, preview_command
from ops.analyzer import PolicyPackClient, StreamingAnalysis
from ops.engine import run_program
from ops.policy_config import resolve
from ops.preview import EXIT_BAD_INPUT, EXIT_PACK_FAILED, evaluate
from ops.stackfile import read_stack_config


@pytest.mark.parametrize("stack_name,known", [("prod", True), ("prod", False), ("prod-k8s", True)])
def test_analyzing_while_the_program_runs_gives_the_results_of_analyzing_the_plan(stack_name, known):
    """Streamed, the pack gets each resource's inputs as the SDK sent them (secrets wrapped where the
    program set them); analyzing the finished plan encodes the recorded inputs afresh. Same findings."""
    stack = read_stack_config(stack_name)
    plain = {k: v for k, v in stack.config.items() if k not in stack.secret_keys}
    sent: dict = {}

    def record(resource, properties):
        sent[resource.urn] = properties
        analysis.submit(resource, properties)

    with PolicyPackClient(stack=stack_name, config=plain) as streaming_pack, \
            PolicyPackClient(stack=stack_name, config=plain) as plan_pack:
        analysis = StreamingAnalysis(streaming_pack, lambda info: resolve({}, info))
        resources = run_program(stack.config, stack.secret_keys, stack_name, known=known, on_register=record)
        info, streamed = evaluate(streaming_pack, resources, analysis=analysis)
        _, after = evaluate(plan_pack, resources)
    assert len(sent) == len(resources) and all(sent[r.urn] is not None for r in resources)
    assert streamed == after
    assert {p.name for p in info.policies} >= {v.policy for v in streamed}
    if stack_name == "prod":
        assert streamed  # the shipped droplet stack has advisory findings to compare


def test_concurrent_analyze_calls_answer_as_serial_ones(policy_pack, shipped_plan):
    policy_pack.configure(resolve({}, policy_pack.info()))
    serial = [v for r in shipped_plan for v in policy_pack.analyze(r)]
    assert serial and policy_pack.analyze_all(list(shipped_plan)) == serial


def test_a_pack_that_cannot_start_fails_the_preview_with_exit_3(tmp_path, monkeypatch, capsys):
    (tmp_path / "__main__.py").write_text("raise SystemExit('broken pack')\n")
    monkeypatch.setattr(preview, "PolicyPackClient", functools.partial(PolicyPackClient, pack_dir=tmp_path))
    assert preview.run(preview_args()) == EXIT_PACK_FAILED
    assert "exited with code 1 before it listened" in capsys.readouterr().err


def test_a_pack_that_prints_no_port_fails_the_preview_with_exit_3(tmp_path, monkeypatch, capsys):
    (tmp_path / "__main__.py").write_text("print('not a port', flush=True)\nimport time\ntime.sleep(60)\n")
    monkeypatch.setattr(preview, "PolicyPackClient", functools.partial(PolicyPackClient, pack_dir=tmp_path))
    assert preview.run(preview_args()) == EXIT_PACK_FAILED
    assert "instead of a port" in capsys.readouterr().err


def test_previews_one_after_another_each_find_their_own_pack(tmp_path, capsys):
    """Each preview's pack prints its port to its own pipe, read by that preview alone."""
    bad = tmp_path / "policy.json"
    bad.write_text(json.dumps({"image-pinned": {"enforcementLevel": "sometimes"}}))
    for _ in range(4):
        assert preview.run(preview_args(policy_config=str(bad))) == EXIT_BAD_INPUT
        assert "image-pinned.enforcementLevel" in capsys.readouterr().err


def preview_args(**given):
    import argparse

    parser = argparse.ArgumentParser()
    preview_command.add_arguments(parser)
    args = parser.parse_args([])
    for key, value in given.items():
        setattr(args, key, value)
    return args


def test_timings_name_each_phase_without_changing_the_output(capsys):
    assert preview.run(preview_args(json=True)) == 0
    plain = capsys.readouterr()
    assert preview.run(preview_args(json=True, timings=True)) == 0
    timed = capsys.readouterr()
    before, after = json.loads(plain.out), json.loads(timed.out)
    assert after["violations"] == before["violations"]  # resources register concurrently: compare as sets
    assert sorted(r["urn"] for r in after["resources"]) == sorted(r["urn"] for r in before["resources"])
    figures = json.loads(timed.err.strip().splitlines()[-1])
    assert set(figures) == {"started_at", "program", "policies", "output"}
    assert all(isinstance(value, float) and value >= 0 for value in figures.values())


def test_resources_submitted_before_the_pack_is_ready_are_analyzed_once_it_is(policy_pack, shipped_plan):
    """Submitted at once, the resources come before the pack's process has started: they wait, and
    go out when it is configured; the findings are those of analyzing the plan in one go."""
    with PolicyPackClient() as streaming_pack:
        analysis = StreamingAnalysis(streaming_pack, lambda info: resolve({}, info))
        for resource in shipped_plan:
            analysis.submit(resource)
        _, streamed = evaluate(streaming_pack, list(shipped_plan), analysis=analysis)
    _, after = evaluate(policy_pack, list(shipped_plan))
    assert streamed and streamed == after
