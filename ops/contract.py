"""config/platform-contract.yaml: what the platform's code needs, and its own known defects."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.model import PROGRAM_DIR, load_yaml

CONTRACT = PROGRAM_DIR / "config" / "platform-contract.yaml"


@dataclass(frozen=True)
class Defect:
    id: str
    service: str
    summary: str
    source: str
    detect: dict[str, Any]

    @property
    def live(self) -> bool:
        """Whether a running platform shows it (otherwise it is only in the source)."""
        return "none" not in self.detect


def load_contract(path: Path = CONTRACT) -> dict[str, Any]:
    return load_yaml(path.read_text(encoding="utf-8"))


def defects(contract: dict[str, Any] | None = None) -> list[Defect]:
    contract = contract if contract is not None else load_contract()
    return [Defect(**entry) for entry in contract.get("defects", [])]
