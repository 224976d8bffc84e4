"""`python -m ops reference --policies`: the policy tables of docs/policies.md, generated from the rules'
own declarations (`@policy(...)` beside each check).

Three blocks between markers are generated: the table of policies (kind, default level, severity,
settings, description), and the "enforced by" column of the CIS Docker Benchmark and KICS tables,
read from each rule's `covers`. The other columns of those two tables (the benchmark item's title
and the note on why it is or is not enforced) are prose kept as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from ops.engine import PROGRAM_DIR
from policies.devtools_policy.metadata import ADVISORY, Rule
from policies.devtools_policy.registry import RULES

DOC = PROGRAM_DIR / "docs" / "policies.md"
BLOCKS = ("policy-table", "cis-table", "kics-table")


def markers(block: str) -> tuple[str, str]:
    return f"<!-- {block}:start -->", f"<!-- {block}:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _settings(rule: Rule) -> str:
    return "; ".join(
        f"`{key}` `{json.dumps(schema['default'])}`" + (f": {schema['description']}" if schema.get("description") else "")
        for key, schema in rule.settings.items()
    )


def policy_table(_current: str = "") -> str:
    lines = ["| policy | kind | default | severity | settings (defaults) | what it asks |", "|---|---|---|---|---|---|"]
    for rule in RULES:
        kind = "stack" if rule.stack else "resource"
        lines.append(_row(f"`{rule.name}`", kind, rule.enforcement, rule.severity, _cell(_settings(rule)),
                          _cell(rule.description)))
    return "\n".join(lines)


def _enforced_by(prefix: str) -> dict[str, list[Rule]]:
    """Benchmark item -> the rules whose `covers` name it ("CIS 5.15 (note)" covers 5.15)."""
    covered: dict[str, list[Rule]] = {}
    for rule in RULES:
        for item in rule.covers:
            match = re.match(rf"{prefix} (\S+)", item)
            if match:
                covered.setdefault(match.group(1), []).append(rule)
    return covered


def _rule_list(rules: list[Rule]) -> str:
    return ", ".join(f"`{r.name}`" + (f" ({ADVISORY})" if r.enforcement == ADVISORY else "") for r in rules)


def _row(*cells: str) -> str:
    return "|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|"


def _split_row(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def coverage_table(prefix: str, key_of: Callable[[str], str]) -> Callable[[str], str]:
    """A table `| item | enforced by | note |` whose middle column follows the rules' `covers`.

    Rows already in the document keep their first and last cells; an item a rule covers that has
    no row yet gets one, with an empty note.
    """

    def render(current: str) -> str:
        lines = current.strip().splitlines()
        header, rows = lines[:2], [_split_row(line) for line in lines[2:]]
        covered = _enforced_by(prefix)
        out = list(header)
        for first, _, note in rows:
            out.append(_row(first, _rule_list(covered.pop(key_of(first), [])), note))
        out.extend(_row(item, _rule_list(rules), "") for item, rules in covered.items())
        return "\n".join(out)

    return render


RENDERERS: dict[str, Callable[[str], str]] = {
    "policy-table": policy_table,
    "cis-table": coverage_table("CIS", lambda first: first.split(" ", 1)[0]),
    "kics-table": coverage_table("KICS", lambda first: first),
}


def block(text: str, name: str) -> str | None:
    start, end = markers(name)
    match = re.search(re.escape(start) + r"\n(.*?)\n" + re.escape(end), text, re.S)
    return match.group(1) if match else None


def render(text: str) -> str:
    """The document with every generated block brought up to date."""
    for name in BLOCKS:
        current = block(text, name)
        if current is None:
            start, end = markers(name)
            raise ValueError(f"{DOC.name}: the markers {start} and {end} are missing; add them around the table")
        start, end = markers(name)
        text = text.replace(f"{start}\n{current}\n{end}", f"{start}\n{RENDERERS[name](current)}\n{end}")
    return text


def is_current(doc: Path = DOC) -> bool:
    text = doc.read_text(encoding="utf-8")
    return render(text) == text


def run(write: bool, doc: Path = DOC) -> int:
    text = doc.read_text(encoding="utf-8")
    try:
        updated = render(text)
    except ValueError as exc:
        print(exc)
        return 2
    if write:
        doc.write_text(updated, encoding="utf-8")
        print(f"updated the policy tables in {doc.name}")
    else:
        print("\n\n".join(f"{markers(name)[0]}\n{block(updated, name)}\n{markers(name)[1]}" for name in BLOCKS))
    return 0
