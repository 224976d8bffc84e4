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
    from catalog.services import load_catalog
    from catalog.settings import secret_config_keys

    text = README.read_text()
    catalog = load_catalog(ROOT / "config" / "services.yaml")
    missing = [key for key in secret_config_keys(catalog) if f"pulumi config set --secret devtools:{key}\n" not in text]
    assert not missing, f"README's deploy section lacks: {missing}"


def test_every_path_the_docs_name_exists():
    import re

    for doc in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text()
        for path in set(re.findall(r"`((?:catalog|render|targets|images|ops|policies|config|tests|bench|scripts|docs)/[\w./-]+)`", text)):
            if "<" in path or "*" in path:
                continue
            assert (ROOT / path.rstrip("/")).exists(), f"{doc.name} names {path}, which does not exist"


def test_architecture_module_map_lists_every_module():
    import re
    import subprocess

    tracked = subprocess.run(["git", "ls-files", "__main__.py", "catalog", "render", "targets", "images", "ops", "policies", "bench"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    modules = {f for f in tracked if f.endswith(".py") and not f.endswith("__init__.py")}
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    listed = set(re.findall(r"^\| `([\w./-]+\.py)` \|", text, re.M))
    assert listed == modules, f"missing: {sorted(modules - listed)}; gone: {sorted(listed - modules)}"
