"""catalog/yaml_loader.py reads what yaml.safe_load reads, and refuses as a YAML error what it crashes on."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

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


# --- load_unique: documents built in the order they are written ---------------------------------------

KEYS = st.one_of(st.text(max_size=12), st.integers(), st.booleans())
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
                    st.dates(), st.binary(max_size=8))


def _with_shared(children):
    """Collections, some holding one object twice (the dump writes an anchor, then an alias)."""
    collections = st.one_of(st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4))
    return st.one_of(collections, collections.map(lambda shared: {"first": shared, "again": [shared]}))


@settings(max_examples=300, deadline=None)
@given(st.recursive(SCALARS, _with_shared, max_leaves=30), st.booleans())
def test_a_document_without_repeated_keys_loads_as_yaml_safe_load_loads_it(document, flow):
    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True)
    ours, theirs = yaml_loader.load_unique(text), yaml.safe_load(text)
    assert ours == theirs
    if isinstance(theirs, dict) and "again" in theirs and isinstance(theirs["first"], dict | list):
        assert ours["again"][0] is ours["first"], "an alias is the object its anchor names, as in PyYAML"


MERGES = [
    "base: &b {a: 1, b: 2}\nchild: {<<: *b, b: 3}\n",
    "x: &x {a: 1}\ny: &y {b: 2}\nz: {<<: [*x, *y], c: 3}\n",
    "b: &b {a: 1}\nx:\n  y: &c {<<: *b, a: 2}\nz: {<<: *c}\nw: {<<: *c, a: 4}\n",
    "a: &a {<<: {k: 1}, j: 2}\nb: {<<: *a}\n",
    "s: !!set {a, b}\no: !!omap [{a: 1}, {b: 2}]\np: !!pairs [{a: 1}, {a: 2}]\n",
    "k: {1: x, 2.5: y, false: z, null: w, 2024-01-01: v}\n",
    "d: !!str 2024-01-01\ne: !!binary aGVsbG8=\nf: 2024-01-01 10:00:00\n",
]


@pytest.mark.parametrize("text", MERGES)
def test_merges_tags_and_typed_keys_load_as_yaml_safe_load_loads_them(text):
    assert yaml_loader.load_unique(text) == yaml.safe_load(text)


@pytest.mark.parametrize(("text", "message", "line"), [
    ("a: 1\nb: 2\na: 3\n", "key 'a' appears twice (first on line 1)", 2),
    ("x: &x {a: 1, a: 2}\ny: {<<: *x}\n", "key 'a' appears twice (first on line 1)", 0),
    ("m:\n  ? [1, 2]\n  : x\n", "a key must be text or a number, not a list or mapping", 1),
    ("a: &x [1, *x]\n", "an alias refers to the mapping or list it is inside", 0),
    ("a: &x {b: *x}\n", "an alias refers to the mapping or list it is inside", 0),
    ("a: {<<: [1]}\n", "expected a mapping for merging", 0),
])
def test_what_load_unique_refuses_is_a_yaml_error_at_its_place(text, message, line):
    with pytest.raises(yaml.YAMLError) as caught:
        yaml_loader.load_unique(text)
    assert message in str(caught.value) and caught.value.problem_mark.line == line


def test_merged_keys_are_defaults_that_a_key_written_beside_them_overrides():
    assert yaml_loader.load_unique("d: &d {a: 1, b: 2}\ne: {<<: *d, a: 9}\n")["e"] == {"a": 9, "b": 2}
