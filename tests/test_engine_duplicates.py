"""The mock engine refuses two resources with one URN, as the engine does, so such a plan never passes offline."""

from __future__ import annotations

import pulumi
import pulumi_random as random
import pytest

from ops.engine import ProgramFailed, run_under_mocks


def test_two_resources_with_one_name_fail_the_program():
    def program() -> None:
        random.RandomPassword("twice", length=16)
        random.RandomPassword("twice", length=16)

    with pytest.raises(ProgramFailed, match="Duplicate resource URN .*RandomPassword::twice"):
        run_under_mocks(program, {}, [], "prod", known=False)


def test_distinct_names_register_both():
    def program() -> None:
        random.RandomPassword("one", length=16)
        random.RandomPassword("two", length=16, opts=pulumi.ResourceOptions())

    names = [r.name for r in run_under_mocks(program, {}, [], "prod", known=False)]
    assert sorted(names) == ["one", "two"]


def test_the_preview_reports_a_failed_program_with_exit_4(monkeypatch, capsys):
    from ops import preview
    from ops.__main__ import main

    def failing(*_args, **_kwargs):
        raise ProgramFailed("Duplicate resource URN 'urn:x'; try giving it a unique name", [])

    monkeypatch.setattr(preview, "run_program", failing)
    assert main(["preview"]) == preview.EXIT_PROGRAM_FAILED == 4
    err = capsys.readouterr().err
    assert "program failed: Duplicate resource URN 'urn:x'" in err and "Traceback" not in err
