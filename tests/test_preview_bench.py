"""The benchmark's smaller catalog is a stack the preview accepts, with as many services as asked for."""

from __future__ import annotations

import sys

import pytest
from conftest import ROOT

from catalog.inputs import load_inputs
from ops.stackfile import read_stack_config

sys.path.insert(0, str(ROOT / "bench"))
import preview_bench  # noqa: E402


@pytest.mark.parametrize("stack", ["prod", "prod-k8s"])
def test_the_shrunk_stack_keeps_the_services_asked_for_and_validates(stack, tmp_path, monkeypatch):
    monkeypatch.setattr(preview_bench, "SCRATCH", tmp_path)
    shipped = preview_bench.kept_services(ROOT, stack)
    folder = preview_bench.shrunk_stack(ROOT, stack, 20)
    assert preview_bench.sized_arguments(ROOT, stack, 20) == ["--stack-dir", str(folder)]
    config = read_stack_config(stack, None, folder)
    inputs = load_inputs(config.config, stack)  # raises InputError on a stack the preview would refuse
    kept = list(inputs.catalog.services)
    assert len(kept) == 20 < len(shipped) and set(kept) < set(shipped)
    # What is left out, nothing kept names: no kept service depends on it.
    for gone in set(shipped) - set(kept):
        assert all(gone not in spec.dependencies for spec in inputs.catalog.services.values())


def test_a_larger_size_grows_the_catalog_instead(tmp_path, monkeypatch):
    monkeypatch.setattr(preview_bench, "SCRATCH", tmp_path)
    arguments = preview_bench.sized_arguments(ROOT, "prod", 40)
    assert arguments[0] == "--catalog"
    assert len(preview_bench.synthetic_catalog(40)["services"]) == 40
