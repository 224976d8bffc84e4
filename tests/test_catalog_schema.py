"""The catalog's JSON Schema: generated from the models, committed, and true to the shipped catalog."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
import yaml

from catalog.model import PROGRAM_DIR
from catalog.services import Service
from ops.schema import REGENERATE, SCHEMA_FILE, generate

CATALOG = PROGRAM_DIR / "config" / "services.yaml"


def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text())


def test_committed_schema_is_the_generated_one():
    assert SCHEMA_FILE.read_text() == generate(), (
        f"{SCHEMA_FILE.relative_to(PROGRAM_DIR)} is out of date with catalog/services.py: run `{REGENERATE}` and commit it")


def test_catalog_names_the_schema_on_its_first_line():
    first = CATALOG.read_text().splitlines()[0]
    assert first == f"# yaml-language-server: $schema={SCHEMA_FILE.name}"
    assert (CATALOG.parent / SCHEMA_FILE.name).is_file()


def test_the_shipped_catalog_satisfies_the_schema():
    validator = jsonschema.Draft202012Validator(schema())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(yaml.safe_load(CATALOG.read_text()))]
    assert errors == []


def _first_service(document: dict) -> dict:
    return next(iter(document["services"].values()))


@pytest.mark.parametrize(("mutate", "where"), [
    (lambda d: _first_service(d).__setitem__("colour", "blue"), "colour"),               # unknown key, as the model forbids
    (lambda d: _first_service(d).__setitem__("role", "wizard"), "role"),                 # not one of the roles
    (lambda d: _first_service(d)["deploy"]["resources"]["limits"].__setitem__("memory", "lots"), "memory"),
    (lambda d: _first_service(d)["healthcheck"].__setitem__("interval", "soon"), "interval"),
    (lambda d: d.pop("networks"), "networks"),                                            # required
])
def test_the_schema_refuses_what_the_models_refuse(mutate, where):
    document = copy.deepcopy(yaml.safe_load(CATALOG.read_text()))
    mutate(document)
    errors = list(jsonschema.Draft202012Validator(schema()).iter_errors(document))
    assert errors and any(where in (list(map(str, e.absolute_path)) + [e.message]).__str__() for e in errors)


def test_extension_keys_are_allowed_at_the_top_as_in_compose():
    document = yaml.safe_load(CATALOG.read_text())
    document["x-anchor"] = {"anything": True}
    assert list(jsonschema.Draft202012Validator(schema()).iter_errors(document)) == []


def test_the_schema_accepts_what_the_models_accept():
    document = copy.deepcopy(yaml.safe_load(CATALOG.read_text()))
    service = _first_service(document)
    service["environment"] = {"PORT": 8080, "DEBUG": False, "NAME": "x"}   # compose-style values the model coerces
    service["deploy"]["resources"]["limits"]["cpus"] = 1.5                   # a number as well as "1.5"
    service["deploy"]["resources"]["limits"]["memory"] = 1073741824          # bytes as well as 1G
    assert list(jsonschema.Draft202012Validator(schema()).iter_errors(document)) == []
    Service.model_validate(service)  # and the model takes it too
