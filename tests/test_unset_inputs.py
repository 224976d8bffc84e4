"""A service's container registers what pulumi-docker's Container registers, without an Output per unset input.

The droplet stack is declared twice in fresh interpreters (tests/declared_requests.py): as the program
declares it, and with targets/unset_inputs.py doing nothing, so every container goes through the generated
class alone. Every RegisterResource request must be the same, field by field.
"""

from __future__ import annotations

import pulumi
from declared_requests import declared_requests

from ops.engine import run_under_mocks
from targets.droplet.service import Container, docker

CONTAINER = "docker:index/container:Container"

GENERATED_CLASS_ALONE = """
import pulumi
from targets.unset_inputs import UnsetInputsLeftOut
UnsetInputsLeftOut.__init__ = pulumi.CustomResource.__init__
"""


def test_every_request_is_the_one_the_generated_class_sends():
    lean, generated = declared_requests("prod"), declared_requests("prod", GENERATED_CLASS_ALONE)
    for known in ("True", "False"):
        containers = [r for r in lean[known] if r["type"] == CONTAINER]
        assert len(containers) > 20
        assert lean[known] == generated[known]


def _declared(cls: type) -> pulumi.CustomResource:
    made = []

    def program() -> None:
        made.append(cls("job", image="busybox:1.36", attach=True, envs=["A=1"]))

    run_under_mocks(program, {}, [], "test")
    return made[0]


def test_a_container_has_outputs_for_the_inputs_it_sets_and_for_what_the_provider_computes():
    lean, generated = _declared(Container), _declared(docker.Container)
    for name in ("image", "attach", "envs", "exit_code", "container_logs", "network_datas"):
        assert isinstance(getattr(lean, name), pulumi.Output), name
    assert lean.hostname is None and isinstance(generated.hostname, pulumi.Output)
    left_out = {k for k, v in vars(generated).items() if isinstance(v, pulumi.Output)} - set(vars(lean))
    assert "memory" in left_out and "exit_code" not in left_out
