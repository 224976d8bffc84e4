"""catalog/yaml_loader.py reads what yaml.safe_load reads, and refuses as a YAML error what it crashes on."""

from __future__ import annotations

import pytest
import yaml

from catalog import yaml_loader
from tests.conftest import ROOT

VALID = "\n".join([
    "a: 2024-01-01", "b: 2024-01-01 12:30:00", "c: yes", "d: Off", "e: 0x1F", "f: 0o17", "g: 1_000", "h: -.inf",
    "i: .nan", "j: 1.5e3", "k: ~", "l: !!int '7'", "m: !!float '2'", "n: !!bool 'true'", "o: !!str 2024-01-01",
    "p: !!binary aGVsbG8=", "q: 190:20:30", "r: [1, {s: t}]", "u: &x {v: 1}", "w: *x", "y: {<<: *x, z: 2}",
])


def _same(a, b) -> bool:
    return a == b or (a != a and b != b)  # NaN is not equal to itself


@pytest.mark.parametrize("name", ["config/services.yaml", "Pulumi.prod.yaml", "Pulumi.prod-k8s.yaml"])
def test_the_shipped_files_read_as_yaml_safe_load_reads_them(name):
    text = (ROOT / name).read_text()
    assert yaml_loader.load(text) == yaml.safe_load(text)


def test_every_valid_scalar_type_reads_as_yaml_safe_load_reads_it():
    ours, theirs = yaml_loader.load(VALID), yaml.safe_load(VALID)
    assert ours.keys() == theirs.keys()
    assert all(_same(ours[key], theirs[key]) and type(ours[key]) is type(theirs[key]) for key in ours)


@pytest.mark.parametrize(("text", "crash"), [("a: 2024-02-30", ValueError), ("a: !!int x", ValueError),
                                             ("a: !!bool maybe", KeyError), ("a: !!timestamp noon", AttributeError)])
def test_a_scalar_not_of_its_type_is_a_yaml_error_where_pyyaml_crashes(text, crash):
    with pytest.raises(crash):
        yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError) as caught:
        yaml_loader.load(text)
    assert caught.value.problem_mark.line == 0 and caught.value.problem_mark.column == 3
