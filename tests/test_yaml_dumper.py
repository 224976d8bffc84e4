"""Config files are written as PyYAML's safe dumper writes them, byte for byte, whichever way they go."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import yaml_dumper
from catalog.model import dump_yaml

EXAMPLES = settings(max_examples=300, deadline=None, database=None, derandomize=True)
# Text YAML must quote or escape: indicators, numbers and booleans as text, line breaks, unicode, empties.
TEXT = st.one_of(st.text(max_size=30), st.sampled_from(["", "yes", "no", "null", "~", "1.5", "0x1F", "- a", "a: b",
                                                         "#c", "'q'", '"d"', "{x}", "[y]", "a\nb", "  lead", "trail ",
                                                         "ünï", "😀", "*ref", "&anchor", "!tag", "%p", "@at", "`bt`"]))
SCALARS = st.one_of(TEXT, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())


def documents(scalars):
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(TEXT, inner, max_size=4)), max_leaves=20)


def safe_dump(document, width=200) -> str:
    return yaml.dump(document, Dumper=yaml.CSafeDumper, sort_keys=False, width=width, allow_unicode=True)


@EXAMPLES
@given(documents(TEXT), st.sampled_from([20, 80, 200]))
def test_a_document_of_text_is_written_as_the_safe_dumper_writes_it(document, width):
    assert dump_yaml(document, width) == safe_dump(document, width)
    assert yaml.safe_load(dump_yaml(document, width)) == document


@EXAMPLES
@given(documents(SCALARS))
def test_a_document_with_other_values_is_written_by_the_safe_dumper_itself(document):
    assert dump_yaml(document) == safe_dump(document)


def test_an_object_met_twice_is_anchored_as_the_safe_dumper_does():
    labels = {"service": "api"}
    document = {"first": labels, "second": labels, "list": [["a"], ["a"]]}
    assert "&id001" in dump_yaml(document)
    assert dump_yaml(document) == safe_dump(document)


def test_plain_text_goes_the_direct_way_and_anything_else_the_representers(monkeypatch):
    represented = []
    real = yaml.dump
    monkeypatch.setattr(yaml_dumper.yaml, "dump", lambda *a, **k: represented.append(a[0]) or real(*a, **k))
    dump_yaml({"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0"}]}]})
    assert represented == []
    dump_yaml({"port": 80})
    assert represented == [{"port": 80}]
