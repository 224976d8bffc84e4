"""Read the running stack's config from the Pulumi runtime and validate it."""

from __future__ import annotations

import pulumi
from pulumi.runtime import config as runtime_config

from catalog.inputs import Inputs, load_inputs
from catalog.omission import describe
from catalog.settings import NAMESPACE


def read_inputs() -> Inputs:
    # The runtime holds every config value of the stack, secrets decrypted; they are only
    # checked for presence and placeholders here and reach resources as Pulumi secrets.
    # The real engine passes config in PULUMI_CONFIG; tests and the offline preview set it directly.
    everything = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    raw = {k: v for k, v in everything.items() if k.startswith(f"{NAMESPACE}:")}
    inputs = load_inputs(raw, pulumi.get_stack())
    # Both previews (the CLI's and the offline one) show these: what the stack leaves out, and who calls it.
    for line in describe(list(inputs.omitted)):
        pulumi.log.warn(line)
    return inputs
