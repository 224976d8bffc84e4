"""The hostile-input corpus: every case is refused by `preview` and `validate-env` alike.

Refused means: exit 2, a message naming the file and the key with a fix, no traceback,
nothing planned (the preview prints nothing on stdout), and each problem once.
"""

from __future__ import annotations

import pytest
import yaml

from catalog.errors import InputError
from catalog.inputs import load_inputs
from ops.__main__ import main
from ops.dotenv import parse_env
from ops.stackfile import read_stack_config
from ops.validate_env import check_stack
from tests.conftest import ROOT
from tests.hostile_corpus import CATALOG_CASES, ENV_CASES, RAW_CATALOGS, SECRET, STACK_CASES
from tests.test_validate_env import good_env


def assert_refused(output: str, file: str, key: str) -> None:
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.lstrip(" -").startswith(f"{file}: {key}")]
    assert lines, f"no problem names {file}: {key}:\n{output}"
    problems = [line for line in output.splitlines() if line.startswith("  - ")]
    assert len(problems) == len(set(problems)), f"a problem is reported twice:\n{output}"
    assert output.count("fix:") >= len(problems)


def refused_by_both(path, key: str, capsys) -> None:
    assert main(["preview", "--catalog", str(path)]) == 2
    out = capsys.readouterr()
    assert out.out == "", "nothing is planned for bad input"
    assert_refused(out.err, str(path), key)
    assert main(["validate-env", "--catalog", str(path)]) == 2
    out = capsys.readouterr()
    assert_refused(out.out + out.err, str(path), key)


@pytest.mark.parametrize("case", CATALOG_CASES, ids=[c.id for c in CATALOG_CASES])
def test_hostile_catalog_is_refused(case, catalog, tmp_path, capsys):
    case.breaks(catalog)
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False, allow_unicode=True))
    refused_by_both(path, case.key, capsys)


@pytest.mark.parametrize("case", RAW_CATALOGS, ids=[c[0] for c in RAW_CATALOGS])
def test_unreadable_catalog_is_refused(case, tmp_path, capsys):
    _, content, key = case
    path = tmp_path / "services.yaml"
    path.write_bytes(content)
    refused_by_both(path, key, capsys)


def _stack_with(tmp_path, key: str, value: object):
    stack = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    if value is None:
        stack["config"].pop(key, None)
    else:
        stack["config"][key] = value
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack))
    return tmp_path


@pytest.mark.parametrize("case", STACK_CASES, ids=[c[0] for c in STACK_CASES])
def test_hostile_stack_setting_is_refused(case, tmp_path):
    _, key, value, named = case
    folder = _stack_with(tmp_path, key, value)
    # validate-env's check of the stack file
    problems, _ = check_stack("prod", folder=folder)
    assert any(p.file == "Pulumi.prod.yaml" and p.key.startswith(named) and p.fix for p in problems), problems
    # the preview's: read the stack file, then validate every input
    with pytest.raises(InputError) as caught:
        config = read_stack_config("prod", directory=folder)
        load_inputs(config.config, "prod")
    text = caught.value.render()
    assert any(p.key.startswith(named) for p in caught.value.problems), text
    assert len(caught.value.problems) == len(set(caught.value.problems)), text


def test_no_service_problem_is_reported_twice_when_no_service_validates(catalog, tmp_path, capsys):
    for body in catalog["services"].values():
        body["colour"] = "blue"
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    assert main(["preview", "--catalog", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{len(catalog['services'])} problems"), err


def test_one_bad_field_in_a_datastore_adds_no_false_segmentation_problems(catalog, tmp_path, capsys):
    catalog["services"]["redis"]["command"] = "redis-server"
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    assert main(["preview", "--catalog", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("1 problem in the inputs"), err
    assert "services.redis.command" in err


def test_problems_of_the_catalog_and_the_stack_come_in_one_pass(catalog, tmp_path):
    # Fixing the first problems must not reveal new ones: catalog, edge and stack settings together.
    catalog["services"]["cicd"]["colour"] = "blue"
    catalog["services"]["gateway-mcp"]["route"]["path_prefix"] = "/a b"
    catalog["services"]["grafana"]["route"]["rate_limit"] = {"average": 0, "burst": 1}
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    config = {**read_stack_config("prod").config, "devtools:catalog": str(path), "devtools:region": "mars1",
              "devtools:logMaxSize": "huge"}
    with pytest.raises(InputError) as caught:
        load_inputs(config, "prod")
    keys = {p.key for p in caught.value.problems}
    assert {"services.cicd.colour", "services.gateway-mcp.route.path_prefix",
            "services.grafana.route.rate_limit.average", "devtools:region", "devtools:logMaxSize"} <= keys, keys


def _env_with(line: str) -> str:
    key = line.split("=", 1)[0].strip()
    kept = [raw for raw in good_env().splitlines() if not raw.removeprefix("export ").startswith(f"{key}=")]
    return "\n".join([*kept, line]) + "\n"


@pytest.mark.parametrize("case", ENV_CASES, ids=[c[0] for c in ENV_CASES])
def test_hostile_env_file_is_refused_without_printing_the_secret(case, tmp_path, capsys):
    _, line, key = case
    path = tmp_path / ".env"
    path.write_text(_env_with(line))
    assert main(["validate-env", "--env-file", str(path)]) == 2
    out = capsys.readouterr()
    output = out.out + out.err
    assert SECRET not in output
    assert_refused(output, str(path), key)


@pytest.mark.parametrize("content", [b"DOMAIN=caf\xe9.io\n", b"DOMAIN=a\x00b\n"], ids=["not UTF-8", "NUL"])
def test_unreadable_env_file_is_refused(content, tmp_path, capsys):
    path = tmp_path / ".env"
    path.write_bytes(content)
    assert main(["validate-env", "--env-file", str(path)]) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and f"{path}: " in out.out


def test_dotenv_format_as_python_dotenv_documents_it(tmp_path):
    text = ("# comment\nexport A=1\nB = spaced \nC='lit\\n #x'\nD=\"esc\\n\\\"q\\\"\"\nE=bare # comment\n"
            "F=\"multi\nline\"\nG=\n")
    entries, problems = parse_env(text, ".env")
    assert problems == []
    assert {e.key: e.value for e in entries} == {
        "A": "1", "B": "spaced", "C": "lit\\n #x", "D": 'esc\n"q"', "E": "bare", "F": "multi\nline", "G": ""}
    assert [e.key for e in entries if e.inline_comment] == ["E"]


def test_a_second_edge_is_told_while_the_first_has_a_problem_of_its_own(catalog, tmp_path):
    catalog["services"]["edge"]["ports"] = ["443"]
    catalog["services"]["edge2"] = {**catalog["services"]["edge"], "ports": [], "port": 8443,
                                    "metrics": {"path": "/metrics", "port": 8083}}
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    config = {**read_stack_config("prod").config, "devtools:catalog": str(path)}
    with pytest.raises(InputError) as caught:
        load_inputs(config, "prod")
    assert {p.key for p in caught.value.problems} == {"services.edge.ports[0]", "services.edge2.role"}
