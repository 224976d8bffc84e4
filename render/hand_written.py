"""Config files written by hand in config/, served through the registry like rendered ones.

They are checked before they are shipped, so a broken file fails the preview rather than
the service: the orchestrator, for one, falls back to built-in defaults when its approval
policies do not parse, which would silently change who may approve what.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from catalog.errors import InputError, Problem
from catalog.model import PROGRAM_DIR, display_path, load_yaml
from catalog.services import Service
from catalog.settings import Settings

APPROVAL_POLICIES = PROGRAM_DIR / "config" / "hitl" / "approval-policies.yaml"
RISK_LEVELS = ("low", "medium", "high", "critical")


def approval_policy_problems(path: Path) -> list[Problem]:
    """The orchestrator reads `roles.<role>.can_approve`: a list of risk levels per role."""
    label = display_path(path)
    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return [Problem(label, "(file)", f"cannot be read: {exc.strerror}", f"restore {label}")]
    except yaml.YAMLError as exc:
        return [Problem(label, "(file)", f"is not valid YAML: {exc}", "fix the YAML syntax")]
    roles = document.get("roles") if isinstance(document, dict) else None
    if not isinstance(roles, dict) or not roles:
        return [Problem(label, "roles", "is missing or empty", "list each approver role under roles: with can_approve: [low, ...]")]
    problems = []
    for role, body in roles.items():
        levels = body.get("can_approve") if isinstance(body, dict) else None
        if not isinstance(levels, list) or not levels or any(level not in RISK_LEVELS for level in levels):
            problems.append(Problem(label, f"roles.{role}.can_approve", f"is not a list of risk levels ({', '.join(RISK_LEVELS)})",
                                    "write it like can_approve: [low, medium]"))
    return problems


def render_approval_policies(service: Service, settings: Settings, path: Path = APPROVAL_POLICIES) -> str:
    problems = approval_policy_problems(path)
    if problems:
        raise InputError(problems)
    return path.read_text(encoding="utf-8")
