"""The rules as CrossGuard policies: what `policies/__main__.py` hands to `PolicyPack`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, _DictProxy, _ListProxy

from . import shared_conversions
from .registry import RULES, Rule
from .stack_rules import StackResource
from .values import UNKNOWN, UNKNOWN_SENTINELS, matches_schema, type_name

PACK_NAME = "devtools"


def thaw(value: Any) -> Any:
    """The SDK's read-only proxy as plain data, each unknown value as UNKNOWN.

    The proxy raises UnknownValueError on reading an unknown value, and the SDK turns that into an
    advisory "can't run policy" for the whole policy. Reading value by value instead lets a rule judge
    everything that is known and skip only what is not.
    """
    if isinstance(value, str | bytes):
        return value
    if isinstance(value, _DictProxy | _ListProxy):
        # The proxy's own escape hatch to what it wraps: reading through it would check (and, for an
        # unknown, raise) at every value; a value it would refuse is exactly an engine sentinel.
        return _thaw_target(value["__target"])
    if isinstance(value, Mapping):
        plain = {}
        for key in value:
            try:
                plain[key] = thaw(value[key])
            except UnknownValueError:
                plain[key] = UNKNOWN
        return plain
    if isinstance(value, Sequence):
        items = []
        for i in range(len(value)):
            try:
                items.append(thaw(value[i]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def _thaw_target(target: dict | list) -> Any:
    if isinstance(target, dict):
        return {key: _thaw_item(item) for key, item in target.items()}
    return [_thaw_item(item) for item in target]


def _thaw_item(item: Any) -> Any:
    if isinstance(item, _DictProxy | _ListProxy):
        return _thaw_target(item["__target"])
    if isinstance(item, str) and item in UNKNOWN_SENTINELS:
        return UNKNOWN
    return item  # a scalar: the proxy wraps only dicts and lists


def _schema(rule: Rule) -> PolicyConfigSchema | None:
    return PolicyConfigSchema(properties={k: dict(v) for k, v in rule.settings.items()}) if rule.settings else None


def setting_problems(rule: Rule, config: Mapping[str, Any]) -> list[str]:
    """Settings (`rule.config(...)`) that do not fit their schema: the rule cannot judge with them."""
    found = []
    for key, schema in rule.settings.items():
        if not matches_schema(config.get(key), schema):
            bounds = "".join(f", {word} {schema[word]}" for word in ("minimum", "maximum") if word in schema)
            found.append(f"policy setting {key} is {type_name(config.get(key))} that does not fit "
                         f"{{type {schema.get('type')}{bounds}}}, so this policy cannot judge: fix the policy config")
    return found


def judged(rule: Rule, given: Mapping[str, Any] | None, check: Callable[[dict[str, Any]], list[Any]]) -> tuple[list[Any], list[str]]:
    """(the check's findings, findings about why it could not judge). Fails closed: a setting out of its
    schema, or a value the check could not read, is a finding, never a crash of the pack. The message names
    the rule and the error's type only: a value could be a secret."""
    config = rule.config(given)
    bad_settings = setting_problems(rule, config)
    if bad_settings:
        return [], bad_settings
    try:
        return check(config), []
    except Exception as exc:  # noqa: BLE001 - any failure to judge must become a finding, not silence
        return [], [f"{rule.name} could not judge this input ({type(exc).__name__}): a property has a form the rule "
                    "does not read; see inputs-well-formed, or report it as a bug of the pack"]


@cache
def _preparation(resource_type: str) -> Callable[[dict[str, Any]], None]:
    """Every stack rule's `prepare` for resources of one type (metadata.Rule says what it is for), as one
    function per type, so that `shared_conversions.once` runs it once per resource, whichever of the
    resource's policies comes first."""
    steps = [rule.prepare for rule in RULES if rule.stack and rule.prepare is not None]

    def prepare(props: dict[str, Any]) -> None:
        for step in steps:
            try:
                step(resource_type, props)
            except Exception:  # noqa: BLE001 - the check meets the same input in AnalyzeStack and reports it there
                continue

    return prepare


def _resource_policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        props = shared_conversions.once(args.props, thaw)
        shared_conversions.once(props, _preparation(args.resource_type))
        found, failures = judged(rule, args.get_config(), lambda config: rule.check(args.resource_type, props, config))
        for message in found + failures:
            report(message, None)

    return ResourceValidationPolicy(validate=validate, **_metadata(rule))


def _stack_policy(rule: Rule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [
            StackResource(
                type=r.resource_type,
                urn=r.urn,
                name=r.name,
                props=shared_conversions.once(r.props, thaw),
                property_dependencies={key: [dep.urn for dep in deps] for key, deps in r.property_dependencies.items()},
            )
            for r in args.resources
        ]
        found, failures = judged(rule, args.get_config(), lambda config: rule.check(resources, config))
        for urn, message in found + [(None, failure) for failure in failures]:
            report(message, urn)

    return StackValidationPolicy(validate=validate, **_metadata(rule))


def _metadata(rule: Rule) -> dict[str, Any]:
    """What the engine shows of a policy, the same for resource and stack policies."""
    return {
        "name": rule.name,
        "description": rule.description,
        "enforcement_level": EnforcementLevel(rule.enforcement),
        "config_schema": _schema(rule),
        "severity": Severity(rule.severity),
        "tags": list(rule.covers),
    }


def policies() -> list[Policy]:
    shared_conversions.install()
    return [_stack_policy(rule) if rule.stack else _resource_policy(rule) for rule in RULES]
