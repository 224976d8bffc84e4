"""A weak credential word is a stand-in only where a credential is expected; a stand-in word is one everywhere."""

from __future__ import annotations

import pytest
import yaml

from ops.__main__ import main
from policies.devtools_policy.credentials import placeholders_in_env
from policies.devtools_policy.placeholders import placeholder_reason


@pytest.mark.parametrize("value", ["default", "none", "test", "admin", "null"])
def test_weak_credential_words_are_ordinary_settings_but_not_credentials(value):
    assert placeholder_reason(value, credential=False) is None
    assert placeholder_reason(value) == f"is the stand-in value '{value}'"


@pytest.mark.parametrize("value", ["changeme", "placeholder", "TODO", "xxx", "<token>", "your-org"])
def test_stand_ins_are_refused_whatever_the_key(value):
    assert placeholder_reason(value, credential=False) is not None


def test_the_pack_judges_env_values_by_what_their_key_names():
    assert placeholders_in_env([("QUEUE", "default"), ("COMPRESSION", "none")]) == []
    assert placeholders_in_env([("REDIS_PASSWORD", "default")]) == ["environment REDIS_PASSWORD: value is the stand-in value 'default'"]
    assert placeholders_in_env([("QUEUE", "changeme")]) == ["environment QUEUE: value is the stand-in value 'changeme'"]


def test_the_catalog_accepts_an_ordinary_word_and_refuses_a_stand_in(catalog, tmp_path, capsys):
    env = catalog["services"]["cicd"]["environment"]
    env["QUEUE"] = "default"
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    assert main(["preview", "--catalog", str(path), "--format", "json"]) == 0
    assert "QUEUE" not in capsys.readouterr().err

    env["QUEUE"] = "change-me"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    assert main(["preview", "--catalog", str(path)]) == 2
    assert "services.cicd.environment.QUEUE: value is the stand-in value 'change-me'" in capsys.readouterr().err
