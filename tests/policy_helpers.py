"""Helpers for the policy tests: rule-form props from recorded plans, and one-line rule calls."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from ops.analyzer import to_wire

# The resource types the tests build, re-exported under the names the rules use.
from policies.devtools_policy.docker import CONTAINER  # noqa: F401
from policies.devtools_policy.host_rules import DROPLET, FIREWALL  # noqa: F401
from policies.devtools_policy.registry import BY_NAME
from policies.devtools_policy.stack_rules import StackResource
from policies.devtools_policy.values import from_wire


def rule_form(inputs: dict[str, Any]) -> dict[str, Any]:
    """Recorded inputs as a rule receives them through the SDK: secrets unwrapped, unknowns marked."""
    return from_wire(to_wire(copy.deepcopy(inputs)))


def check(rule: str, resource_type: str, props: dict[str, Any], config: dict[str, Any] | None = None) -> list[str]:
    policy = BY_NAME[rule]
    return policy.check(resource_type, props, policy.config(config))


def stack_form(plan) -> list[StackResource]:
    return [StackResource(r.type, r.urn, r.name, rule_form(r.inputs), dict(r.property_dependencies)) for r in plan]


def check_stack(rule: str, resources: list[StackResource], config: dict[str, Any] | None = None) -> list[tuple]:
    policy = BY_NAME[rule]
    return policy.check(resources, policy.config(config))


def set_label(props: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    props["labels"] = [entry for entry in props.get("labels", []) if entry.get("label") != key]
    props["labels"].append({"label": key, "value": value})
    if key == "devtools.service":
        # As the program does: a container's network alias is its service name (the pack checks both).
        for network in props.get("networksAdvanced") or []:
            network["aliases"] = [value]
    return props


def property_paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """Every place in a props tree: each leaf and each dict or list, the root excluded."""
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from property_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from property_paths(item, (*path, i))


def replaced_at(props: dict, path: tuple, value: Any) -> dict:
    """A deep copy of `props` with the value at `path` replaced."""
    copied = copy.deepcopy(props)
    target = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copied
