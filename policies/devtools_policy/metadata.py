"""What a rule is besides its check: `@policy(...)` puts name, description, severity, default level,
settings and coverage right above the function, and `declared(module)` collects them for the registry.

Kept free of the policy SDK so tests, docs and the offline preview can read it directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

MANDATORY, ADVISORY = "mandatory", "advisory"
SEVERITIES = ("low", "medium", "high", "critical")
DATABASE_PORTS = [5432, 6379, 3306, 27017, 9200, 11211, 5984, 9042]

SERVICES = {"type": "array", "items": {"type": "string"}}
PORTS = {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 65535}}

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    severity: str                       # low | medium | high | critical
    enforcement: str                    # default; policy config can change it
    check: Callable[..., Any]
    stack: bool = False                 # a stack rule sees every resource at once
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # JSON schema, each with a default
    covers: tuple[str, ...] = ()        # audit gaps, CIS Docker Benchmark v1.6 and KICS items
    # A stack rule's work that one resource decides alone, begun early: `prepare(resource_type, props)`
    # runs in that resource's Analyze call, which the engine makes while the program still declares;
    # AnalyzeStack comes only after the program. It fills caches the check reads (parsed files) and
    # reports nothing: findings come from the check alone.
    prepare: Callable[[str, Mapping[str, Any]], None] | None = None

    def config(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The rule's settings: defaults, overridden by what policy config gives."""
        merged = {key: schema["default"] for key, schema in self.settings.items()}
        merged.update({k: v for k, v in (given or {}).items() if k != "enforcementLevel"})
        return merged


def policy(name: str, *, description: str, severity: str, enforcement: str = MANDATORY, stack: bool = False,
         settings: Mapping[str, Mapping[str, Any]] | None = None, covers: tuple[str, ...] = (),
         prepare: Callable[[str, Mapping[str, Any]], None] | None = None) -> Callable[[F], F]:
    """Declare the decorated check as a policy of the pack; the function itself is returned unchanged.

    A resource rule is `check(resource_type, props, config) -> [messages]`, a stack rule (stack=True)
    `check(resources, config) -> [(urn or None, message)]`, optionally with a `prepare` (see Rule).
    """
    if severity not in SEVERITIES:
        raise ValueError(f"rule {name}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    if enforcement not in (MANDATORY, ADVISORY):
        raise ValueError(f"rule {name}: default level {enforcement!r} is not {MANDATORY} or {ADVISORY}")
    missing = [key for key, schema in (settings or {}).items() if "default" not in schema]
    if missing:
        raise ValueError(f"rule {name}: settings {', '.join(missing)} need a default")
    if prepare is not None and not stack:
        raise ValueError(f"rule {name}: only a stack rule has a prepare step (a resource rule runs in Analyze already)")

    def declare(check: F) -> F:
        check.policy_rule = Rule(name, description, severity, enforcement, check, stack, dict(settings or {}), covers, prepare)
        return check

    return declare


def declared(module: ModuleType) -> list[Rule]:
    """The rules a module declares, in the order it defines them."""
    return [value.policy_rule for value in vars(module).values()
            if callable(value) and getattr(value, "__module__", None) == module.__name__
            and isinstance(getattr(value, "policy_rule", None), Rule)]
