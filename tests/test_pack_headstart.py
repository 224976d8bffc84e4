"""`python -m ops preview` starts the policy pack before importing its own modules, from the stack file
alone; the preview takes that pack over when it wants the same one, and no pack outlives a preview."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from ops import pack_process, preview, preview_command
from ops.preview import EXIT_BAD_INPUT
from tests.conftest import ROOT


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    preview_command.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def launches(monkeypatch):
    """Every pack process started, whether as a head start or by the preview's client."""
    started: list[subprocess.Popen] = []
    launch = pack_process.launch_pack

    def recording(*given, **named):
        started.append(launch(*given, **named))
        return started[-1]

    monkeypatch.setattr(pack_process, "launch_pack", recording)
    monkeypatch.setattr("ops.analyzer.launch_pack", recording)
    return started


def test_the_preview_takes_over_the_pack_started_ahead_of_it(launches, capsys):
    assert preview_command.run(_args("--json")) in (0, 1)
    assert '"resources"' in capsys.readouterr().out
    assert len(launches) == 1, "the head start served the preview: no second pack"
    assert launches[0].poll() is not None, "and it ended with the preview"


def test_a_head_start_for_another_pack_is_stopped_and_the_right_one_started(launches, monkeypatch, capsys):
    wrong = pack_process.Headstart.launch(pack_process.PACK_DIR, "prod", True, {"devtools:other": "x"})
    assert preview.run(_args(), wrong) in (0, 1)
    capsys.readouterr()
    assert len(launches) == 2 and all(p.poll() is not None for p in launches)
    assert not wrong.adopted


def test_bad_input_stops_the_head_start(launches, tmp_path, capsys):
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  devtools:size: 42\n")
    assert preview_command.run(_args("--stack-dir", str(tmp_path))) == EXIT_BAD_INPUT
    assert "devtools:size" in capsys.readouterr().err
    assert len(launches) == 1 and launches[0].poll() is not None


def test_a_stack_file_that_does_not_read_starts_no_pack(launches, tmp_path, capsys):
    (tmp_path / "Pulumi.prod.yaml").write_text("config: [unclosed\n")
    assert preview_command.run(_args("--stack-dir", str(tmp_path))) == EXIT_BAD_INPUT
    assert "Pulumi.prod.yaml" in capsys.readouterr().err
    assert launches == []


def test_the_head_start_imports_neither_the_sdks_nor_grpc():
    script = ("import sys, ops.preview_command\n"
              "print(' '.join(m for m in ('pulumi', 'grpc', 'pydantic', 'ops.preview', 'ops.analyzer') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
