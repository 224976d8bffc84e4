"""`devtools:omitServices`: a stack leaves services out before any target sees the catalog."""

from __future__ import annotations

import pytest

from catalog.errors import InputError
from catalog.inputs import load_inputs
from catalog.omission import describe
from ops.stackfile import read_stack_config
from tests.conftest import run_plan


def inputs_omitting(*names: str):
    config = {**read_stack_config("prod").config, "devtools:omitServices": f'{list(names)!r}'.replace("'", '"')}
    return load_inputs(config, "prod")


def test_an_omitted_service_gets_no_container_and_the_rest_is_unchanged(shipped_plan):
    # The prod stack omits langgraph; the same stack keeping everything has it.
    full = run_plan(overrides={"devtools:omitServices": "[]"})
    assert set(full.containers()) - set(shipped_plan.containers()) == {"langgraph"}
    assert set(shipped_plan.containers()) < set(full.containers())




def test_the_preview_says_who_calls_an_omitted_service():
    inputs = inputs_omitting("rag-context", "langgraph")
    assert "rag-context" not in inputs.catalog.services
    assert describe(list(inputs.omitted)) == [
        "omitted: rag-context (devtools:omitServices); its callers will get errors: feature-dev",
        "omitted: langgraph (devtools:omitServices); no kept service calls it",
    ]


def test_a_hard_dependency_on_an_omitted_service_is_refused_with_the_fix():
    with pytest.raises(InputError) as caught:
        inputs_omitting("agent-registry", "no-such-service")
    problems = {(p.key, p.message, p.fix) for p in caught.value.problems}
    assert ("devtools:omitServices", "omits agent-registry, but orchestrator depends on it (depends_on) and would never start",
            "omit orchestrator as well, or keep agent-registry") in problems
    assert any(p[0] == "devtools:omitServices[1]" and "'no-such-service' is no catalog service" in p[1] for p in problems)
    assert all(p.file == "Pulumi.prod.yaml" for p in caught.value.problems)


def test_a_malformed_setting_is_refused():
    config = {**read_stack_config("prod").config, "devtools:omitServices": "langgraph"}
    with pytest.raises(InputError) as caught:
        load_inputs(config, "prod")
    assert [p.message for p in caught.value.problems if p.key == "devtools:omitServices"] == ["is not a list of service names"]
