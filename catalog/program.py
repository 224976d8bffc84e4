"""Read the running stack's config from the Pulumi runtime and validate it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pulumi
from pulumi.runtime import config as runtime_config

from catalog.inputs import Inputs, load_inputs
from catalog.omission import describe
from catalog.settings import NAMESPACE

# Inputs a caller has already validated for one run of the program (see `validated_beforehand`).
_validated: tuple[str, dict[str, str], Inputs] | None = None


def _own_keys(config: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in config.items() if k.startswith(f"{NAMESPACE}:")}


@contextmanager
def validated_beforehand(inputs: Inputs, config: Mapping[str, str], stack: str) -> Iterator[None]:
    """Let the program reuse `inputs`, validated from exactly `config` for `stack`, while the block runs.

    The offline preview validates before it starts the policy pack (bad input exits 2 with nothing
    started), then runs the program, which validates the same files again: at 2000 services that
    second pass cost 1.6 s. Only a run with the very same config and stack reuses them.
    """
    global _validated
    _validated = (stack, _own_keys(config), inputs)
    try:
        yield
    finally:
        _validated = None


def read_inputs() -> Inputs:
    # The runtime holds every config value of the stack, secrets decrypted; they are only
    # checked for presence and placeholders here and reach resources as Pulumi secrets.
    # The real engine passes config in PULUMI_CONFIG; tests and the offline preview set it directly.
    everything = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    raw = _own_keys(everything)
    stack = pulumi.get_stack()
    if _validated is not None and _validated[:2] == (stack, raw):
        inputs = _validated[2]
    else:
        inputs = load_inputs(raw, stack)
    # Both previews (the CLI's and the offline one) show these: what the stack leaves out, and who calls it.
    for line in describe(list(inputs.omitted)):
        pulumi.log.warn(line)
    return inputs
