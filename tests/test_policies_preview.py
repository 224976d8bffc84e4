"""The offline preview's policy output: text, JSON and SARIF, and `--policy-config` checked like the CLI's."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from conftest import ROOT

from ops.__main__ import main
from ops.preview import EXIT_BAD_INPUT, EXIT_OK
from policies.devtools_policy.registry import BY_NAME


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["preview", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def sarif_and_json():
    """One SARIF and one JSON run of the shipped stack (module-scoped: each run costs about a second)."""
    captured = {}
    for fmt in ("sarif", "json"):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            assert main(["preview", "--format", fmt]) == EXIT_OK
        captured[fmt] = json.loads(buffer.getvalue())
    return captured


def test_sarif_has_one_result_per_violation_pointing_at_the_catalog(sarif_and_json):
    sarif, doc = sarif_and_json["sarif"], sarif_and_json["json"]
    assert sarif["version"] == "2.1.0" and "sarif-2.1.0" in sarif["$schema"]
    run_ = sarif["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert len(rules) == len(BY_NAME) and {r["defaultConfiguration"]["level"] for r in rules} == {"error", "warning"}
    assert len(run_["results"]) == len(doc["violations"]) > 0
    catalog_lines = (ROOT / "config" / "services.yaml").read_text().splitlines()
    for result in run_["results"]:
        # The shipped stack's findings are its accepted advisories (docs/policies.md), all on containers.
        assert BY_NAME[result["ruleId"]].enforcement == "advisory" and result["level"] == "warning"
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == "config/services.yaml"
        service = location["logicalLocations"][0]["name"]
        line = catalog_lines[location["physicalLocation"]["region"]["startLine"] - 1]
        assert line == f"  {service}:", (service, line)
        assert result["message"]["text"].startswith(f"Container {service}: ")


def test_json_is_a_synonym_of_format_json(capsys, sarif_and_json):
    code, out, _ = run(capsys, "--json")
    assert code == EXIT_OK
    doc = json.loads(out)
    assert doc["policyPack"] == {"name": "devtools", "version": "0.5.0"}
    assert doc["violations"] == sarif_and_json["json"]["violations"]
    assert "[secret]" in json.dumps(doc) and "changeme" not in json.dumps(doc)


@pytest.mark.parametrize("config, key, message", [
    ({"no-such-policy": "advisory"}, "no-such-policy", "names no policy of pack devtools"),
    ({"image-pinned": {"enforcementLevel": "sometimes"}}, "image-pinned.enforcementLevel", "is not one of"),
    ({"memory-capacity": {"hostReserve": 10}}, "memory-capacity.hostReserve", "is not a setting of this policy"),
    ({"memory-capacity": {"hostReserveMiB": "lots"}}, "memory-capacity.hostReserveMiB", "is not of type number"),
])
def test_bad_policy_config_is_an_input_error(capsys, tmp_path, config, key, message):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(config))
    code, _, err = run(capsys, "--policy-config", str(path))
    assert code == EXIT_BAD_INPUT
    assert f"{path}: {key}: " in err and message in err and "Traceback" not in err


def test_policy_config_that_is_not_json(capsys, tmp_path):
    path = tmp_path / "policy.json"
    path.write_text("{all: mandatory}")
    code, _, err = run(capsys, "--policy-config", str(path))
    assert code == EXIT_BAD_INPUT and "is not valid JSON" in err


def test_all_makes_every_policy_mandatory(capsys, tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"all": "mandatory"}))
    code, out, _ = run(capsys, "--policy-config", str(path))
    assert code == 1  # the accepted advisories become blocking
    assert "mandatory read-only-root-filesystem" in " ".join(out.split())
    assert "how to fix:" in out


def test_unknown_mode_previews_with_the_pack(capsys):
    code, out, _ = run(capsys, "--unknowns", "--json")
    assert code == EXIT_OK
    doc = json.loads(out)
    assert doc["mode"] == "unknown"
    assert "[unknown]" in out  # generated passwords are not known on a first preview
    assert not [v for v in doc["violations"] if v["enforcement"] == "mandatory" or "can't run policy" in v["message"]]
