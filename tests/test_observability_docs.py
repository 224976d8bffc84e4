"""Every alert the program renders is documented, and its runbook link lands on a section."""

from __future__ import annotations

import re

from tests.conftest import ROOT, shipped_catalog
from tests.observability_support import catalog_from, render_all, shipped_settings


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the headings: lower case, spaces to dashes, punctuation dropped."""
    return {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.+)$", markdown, re.M)}


def test_every_alert_has_a_runbook_section_and_a_line_in_the_observability_doc(tmp_path):
    rendered = render_all(catalog_from(shipped_catalog()), shipped_settings(), tmp_path)
    rules = [r for g in rendered.yaml("prometheus", "prometheus_rules")["groups"] for r in g["rules"]]
    runbook = (ROOT / "docs" / "RUNBOOK.md").read_text()
    observability = (ROOT / "docs" / "OBSERVABILITY.md").read_text()
    anchors = _anchors(runbook)
    for rule in rules:
        path, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert path == "docs/RUNBOOK.md" and anchor in anchors, rule["alert"]
        assert f"| `{rule['alert']}` |" in observability, rule["alert"]
