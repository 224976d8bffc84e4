"""Every rule of the pack, collected from the `@policy(...)` declarations beside each check
(metadata.py says what a declaration holds).

Kept free of the policy SDK so tests, docs and the offline preview can read it directly. A new rule
is a decorated function in one of the modules below and its test; docs/policies.md follows with
`python -m ops reference --policies --write`.
"""

from __future__ import annotations

from . import container_rules, host_rules, kubernetes_rules, monitoring_rules, stack_rules
from .metadata import ADVISORY, MANDATORY, Rule, declared

__all__ = ["ADVISORY", "BY_NAME", "MANDATORY", "RULES", "Rule"]

RULES: tuple[Rule, ...] = tuple(
    rule for module in (container_rules, host_rules, stack_rules, monitoring_rules, kubernetes_rules) for rule in declared(module)
)

BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
if len(BY_NAME) != len(RULES):
    raise ValueError("two rules share a name: " + ", ".join(sorted({r.name for r in RULES if
                                                                    sum(o.name == r.name for o in RULES) > 1})))
