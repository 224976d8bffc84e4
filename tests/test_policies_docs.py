"""docs/policies.md stays true: its tables match the registry, and its accepted advisories match the
findings on the shipped stack."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from conftest import ROOT

from ops import policy_reference
from ops.preview import evaluate
from policies.devtools_policy import metadata
from policies.devtools_policy.registry import RULES

DOC = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = DOC.index(title)
    end = DOC.find("\n#", start + len(title))
    return DOC[start:end if end != -1 else None]


def rows(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("| ") and not line.startswith("|---")][1:]


def test_generated_policy_tables_are_current():
    assert policy_reference.is_current(), "run `python -m ops reference --policies --write` and commit docs/policies.md"


def test_write_brings_a_stale_document_up_to_date(tmp_path):
    stale = tmp_path / "policies.md"
    text = DOC.replace("| `no-host-namespaces` | ", "| `no-host-namespaces-gone` | ", 1).replace(
        "| 5.30 default bridge not used | `user-defined-network` |", "| 5.30 default bridge not used | |")
    stale.write_text(text, encoding="utf-8")
    assert not policy_reference.is_current(stale)
    assert policy_reference.run(write=True, doc=stale) == 0
    assert stale.read_text(encoding="utf-8") == DOC
    assert policy_reference.is_current(stale)


def test_a_new_rule_appears_in_the_generated_tables(monkeypatch):
    """Declaring a rule is enough for the docs: its row, and its coverage in the CIS and KICS tables."""
    import types

    module = types.ModuleType("new_rules")

    @metadata.policy("no-pids-limit", severity="low", settings={"maxPids": {"type": "integer", "default": 512}},
                     covers=("CIS 5.29", "KICS pids_limit_not_set", "KICS brand_new_query"), description="Set a PIDs limit.")
    def pids_limit(_type, _props, _config):
        return []

    pids_limit.__module__ = module.__name__
    module.pids_limit = pids_limit
    (new,) = metadata.declared(module)
    assert isinstance(new, metadata.Rule) and new.check is pids_limit and new.config() == {"maxPids": 512}
    monkeypatch.setattr(policy_reference, "RULES", (*RULES, new))
    updated = policy_reference.render(DOC)
    assert "| `no-pids-limit` | resource | mandatory | low | `maxPids` `512` | Set a PIDs limit. |" in updated
    assert "| 5.29 PIDs cgroup limit | `no-pids-limit` |" in updated
    assert "| pids_limit_not_set | `no-pids-limit` |" in updated
    assert "| brand_new_query | `no-pids-limit` | |" in updated


def test_a_document_without_the_markers_is_refused(tmp_path, capsys):
    bare = tmp_path / "policies.md"
    text = DOC.replace("<!-- cis-table:start -->\n", "")
    bare.write_text(text, encoding="utf-8")
    assert policy_reference.run(write=True, doc=bare) == 2
    assert "cis-table:start" in capsys.readouterr().out
    assert bare.read_text(encoding="utf-8") == text  # left as it was


def test_a_declaration_with_an_unknown_severity_or_level_is_refused():
    with pytest.raises(ValueError, match="severity"):
        metadata.policy("x", severity="severe", description="...")
    with pytest.raises(ValueError, match="default level"):
        metadata.policy("x", severity="low", enforcement="optional", description="...")
    with pytest.raises(ValueError, match="need a default"):
        metadata.policy("x", severity="low", settings={"n": {"type": "integer"}}, description="...")


def test_policy_table_matches_the_registry():
    table = {cells[0].strip("`"): cells[1:4] for cells in rows(section("## Policies"))}
    assert set(table) == {r.name for r in RULES}
    for rule in RULES:
        assert table[rule.name] == ["stack" if rule.stack else "resource", rule.enforcement, rule.severity], rule.name


def _documented(title: str, key: re.Pattern) -> dict[str, set[str]]:
    found = {}
    for cells in rows(section(title)):
        match = key.match(cells[0])
        assert match, cells[0]
        found[match.group(1)] = set(re.findall(r"`([a-z0-9-]+)`", cells[1]))
    return found


def _covered(prefix: str) -> dict[str, set[str]]:
    covered = defaultdict(set)
    for rule in RULES:
        for item in rule.covers:
            match = re.match(rf"{prefix} (\S+)", item)
            if match:
                covered[match.group(1)].add(rule.name)
    return covered


def test_cis_table_lists_all_of_section_5_and_agrees_with_the_registry():
    documented = _documented("### CIS Docker Benchmark", re.compile(r"(5\.\d+) "))
    assert sorted(documented, key=lambda n: int(n.split(".")[1])) == [f"5.{i}" for i in range(1, 33)]
    covered = _covered("CIS")
    for number, policies in documented.items():
        assert policies == covered.get(number, set()), number


def test_kics_table_agrees_with_the_registry():
    documented = _documented("### KICS docker-compose", re.compile(r"([a-z0-9_]+)$"))
    assert len(documented) == 27
    covered = _covered("KICS")
    assert set(covered) <= set(documented)
    for query, policies in documented.items():
        assert policies == covered.get(query, set()), query


UPLOADS_PREMISE = "every container the program uploads files into"


@pytest.fixture(scope="module")
def shipped_advisories(policy_pack, shipped_plan):
    _, violations = evaluate(policy_pack, list(shipped_plan))
    assert not [v for v in violations if v.enforcement == "mandatory"]
    by_urn = {r.urn: r for r in shipped_plan}
    found = defaultdict(list)
    for v in violations:
        found[v.policy].append(by_urn.get(v.urn or ""))
    return dict(found)


def test_accepted_advisories_are_exactly_the_shipped_findings(shipped_advisories):
    accepted = {cells[0].strip("`"): cells[1] for cells in rows(section("## Accepted advisory findings"))}
    assert set(accepted) == set(shipped_advisories)
    for policy, resources in shipped_advisories.items():
        if accepted[policy].startswith(UPLOADS_PREMISE):
            # The stated reason must hold for each: the container really receives uploaded files.
            assert all(r is not None and r.inputs.get("uploads") for r in resources), policy
        else:
            listed = {name.strip() for name in accepted[policy].split(",")}
            assert listed == {r.name if r else "stack" for r in resources}, policy


def test_the_packs_host_reserve_default_matches_the_shipped_stack_setting():
    """The pack's memory-capacity default and the stack's hostMemoryReserve describe the same reserve."""
    import yaml

    from catalog.units import parse_memory
    from policies.devtools_policy.registry import BY_NAME

    stack = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    assert parse_memory(stack["devtools:hostMemoryReserve"]) == BY_NAME["memory-capacity"].config()["hostReserveMiB"] * 1024**2
