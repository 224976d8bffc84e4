"""The README stays true to the code."""

from __future__ import annotations

from ops.reference import README, readme_is_current, render, section
from tests.conftest import ROOT


def test_readme_command_reference_matches_the_commands():
    assert render().count("### `python -m ops") >= 2
    assert readme_is_current(), "run `python -m ops reference --write` and commit README.md"


def test_reference_check_notices_a_stale_readme(tmp_path):
    stale = tmp_path / "README.md"
    stale.write_text(README.read_text().replace(section(README.read_text()), "### `python -m ops gone`"))
    assert not readme_is_current(stale)


def test_quick_start_scripts_exist_and_are_executable():
    text = README.read_text()
    for script in ("scripts/preview", "scripts/test"):
        assert f"{script} " in text
        assert (ROOT / script).stat().st_mode & 0o111
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_readme_lists_the_set_secret_command_for_every_external_secret():
    from components.catalog import load_catalog
    from components.settings import secret_config_keys

    text = README.read_text()
    catalog = load_catalog(ROOT / "config" / "services.yaml")
    missing = [key for key in secret_config_keys(catalog) if f"pulumi config set --secret devtools:{key}\n" not in text]
    assert not missing, f"README's deploy section lacks: {missing}"
