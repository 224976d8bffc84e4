"""The program reuses inputs validated beforehand only for the very config and stack they came from."""

from __future__ import annotations

import pytest

import catalog.program as program
from catalog.inputs import load_inputs
from ops.engine import run_program
from ops.stackfile import read_stack_config


@pytest.fixture
def validations(monkeypatch) -> list[str]:
    """The stacks the program validated its inputs for, one entry per validation."""
    seen: list[str] = []
    real = program.load_inputs

    def counted(raw, stack):
        seen.append(stack)
        return real(raw, stack)

    monkeypatch.setattr(program, "load_inputs", counted)
    return seen


def _declared(records) -> dict:
    # Resources register concurrently: their order varies between runs, what they are does not.
    return {r.urn: r.inputs for r in records}


@pytest.mark.parametrize("stack", ["prod", "prod-k8s"])
def test_the_same_config_is_not_validated_twice_and_declares_the_same(stack, validations):
    config = read_stack_config(stack, None)
    on_its_own = run_program(config.config, config.secret_keys, stack)
    assert validations == [stack]
    with program.validated_beforehand(load_inputs(config.config, stack), config.config, stack):
        reused = run_program(config.config, config.secret_keys, stack)
    assert validations == [stack]
    assert _declared(reused) == _declared(on_its_own)


def test_another_config_or_stack_is_validated_again(validations):
    config = read_stack_config("prod", None)
    inputs = load_inputs(config.config, "prod")
    changed = {**config.config, "devtools:domain": "other.example.com"}
    with program.validated_beforehand(inputs, config.config, "prod"):
        records = run_program(changed, config.secret_keys, "prod")
    assert validations == ["prod"]
    assert any("other.example.com" in str(r.inputs) for r in records)
    with program.validated_beforehand(inputs, config.config, "staging"):
        run_program(config.config, config.secret_keys, "prod")
    assert validations == ["prod", "prod"]


def test_nothing_is_reused_after_the_block(validations):
    config = read_stack_config("prod", None)
    with program.validated_beforehand(load_inputs(config.config, "prod"), config.config, "prod"):
        pass
    run_program(config.config, config.secret_keys, "prod")
    assert validations == ["prod"]
