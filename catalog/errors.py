"""Input problems that stop a preview before any resource is declared."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, and how to fix it."""

    file: str
    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}\n    fix: {self.fix}"


class InputError(Exception):
    """Every problem found in the inputs, reported together."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the inputs; nothing was declared."
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


class Invalid(ValueError):
    """Raised by model validators: a message plus the fix to show the operator."""

    def __init__(self, message: str, fix: str):
        self.fix = fix
        super().__init__(message)
