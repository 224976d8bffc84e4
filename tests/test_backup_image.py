"""The backup image holds the program its CMD starts: its layout rebuilt from the Dockerfile, its CMD run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from catalog.model import PROGRAM_DIR
from ops.local_servers import shipped_catalog_and_settings
from render.backup_conf import BACKUP_SCRIPT
from tests.support.dockerfile import assemble, parse

CATALOG, _ = shipped_catalog_and_settings()
PROJECT_IMAGES = {name: spec for name, spec in CATALOG.services.items() if spec.build and spec.build.source == "project"}


def layout(dockerfile_text: str, context: Path, root: Path) -> list[str]:
    """Assemble the image's files under `root`; return its argv with the image's paths mapped there."""
    image = parse(dockerfile_text)
    assemble(image, context, root)
    argv = []
    for arg in image.argv:
        inside = root / arg.lstrip("/")
        argv.append(str(inside) if arg.startswith("/") and inside.exists() else arg)
    # The base image's python3 is not on this machine; the test's interpreter stands in (it has boto3 too).
    return [sys.executable if arg == "python3" else arg for arg in argv]


def run_cmd(argv: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    # No settings file: the image alone, as `docker run` of it would start with nothing uploaded.
    env = {"PATH": "/usr/bin:/bin", "BACKUP_CONFIG": str(tmp_path / "no-settings.json")}
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize("name", sorted(PROJECT_IMAGES))
def test_the_image_holds_the_program_its_cmd_starts(name, tmp_path):
    build = PROJECT_IMAGES[name].build
    root = tmp_path / "rootfs"
    argv = layout((PROGRAM_DIR / build.dockerfile).read_text(), PROGRAM_DIR / build.context, root)
    program = next(Path(a) for a in argv if a.startswith(str(root)))
    # One file: what the image holds is the file the tests and the drill run.
    assert program.read_bytes() == BACKUP_SCRIPT.read_bytes()
    assert program.stat().st_mode & 0o004  # readable by the image's unprivileged USER
    started = run_cmd(argv, tmp_path)
    # The program itself answers: it parsed its command and stops for want of its settings file.
    assert started.returncode == 1, started.stderr
    assert f"cannot read the backup settings {tmp_path / 'no-settings.json'}" in started.stdout + started.stderr


def test_an_image_without_the_copy_cannot_start_its_cmd(tmp_path):
    """The check above sees the defect it guards against: a CMD naming a file the image lacks."""
    (name, spec), *_ = PROJECT_IMAGES.items()
    text = (PROGRAM_DIR / spec.build.dockerfile).read_text()
    without_copy = "\n".join(line for line in text.splitlines() if not line.startswith("COPY "))
    argv = layout(without_copy, PROGRAM_DIR / spec.build.context, tmp_path / "rootfs")
    started = run_cmd(argv, tmp_path)
    assert started.returncode == 2 and "can't open file" in started.stderr


@pytest.mark.parametrize("name", sorted(PROJECT_IMAGES))
def test_the_catalogs_commands_name_files_the_image_holds(name, tmp_path):
    spec = PROJECT_IMAGES[name]
    root = tmp_path / "rootfs"
    layout((PROGRAM_DIR / spec.build.dockerfile).read_text(), PROGRAM_DIR / spec.build.context, root)
    commands = [spec.entrypoint or [], spec.command or [], list(spec.healthcheck.test or []) if spec.healthcheck else []]
    named = {arg for command in commands for arg in command if arg.startswith("/") and arg.endswith(".py")}
    assert named, "the catalog's command names the program"
    for path in named:
        assert (root / path.lstrip("/")).is_file(), f"{path} is not in the image (an upload alone is not enough)"


def test_the_dockerfile_reader_refuses_what_it_cannot_reproduce():
    with pytest.raises(ValueError, match="outside the build context"):
        parse("FROM a\nCOPY --from=builder /x /y\n")
    with pytest.raises(ValueError, match="shell form"):
        parse("FROM a\nCMD python3 x.py\n")
    image = parse('FROM a\nWORKDIR /app\nCOPY --chown=1:1 a.py \\\n  b.py lib/\nENTRYPOINT ["python3"]\nCMD ["a.py"]\n')
    assert image.copies == [(["a.py", "b.py"], "lib/", "/app")] and image.argv == ["python3", "a.py"]
