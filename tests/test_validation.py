"""Bad inputs: every problem reported at once, naming file, key and fix; nothing declared; exit 2."""

from __future__ import annotations

import pytest
import yaml

from catalog.errors import InputError
from catalog.inputs import load_inputs
from ops.__main__ import main
from ops.engine import ProgramFailed, run_program
from ops.preview import EXIT_BAD_INPUT
from ops.stackfile import read_stack_config
from ops.validate_env import check_stack
from tests.conftest import ROOT


def _svc(catalog: dict, name: str) -> dict:
    return catalog["services"][name]


# (what is broken, how to break it, key the message names, words the message or fix holds)
BAD_CATALOGS = [
    ("unknown key", lambda c: _svc(c, "redis").update(memory_limit="1G"), "services.redis.memory_limit", "not a known key"),
    ("bad memory unit", lambda c: _svc(c, "redis")["deploy"]["resources"]["limits"].update(memory="1.5 gigs"),
     "services.redis.deploy.resources.limits.memory", "512M or 1.5G"),
    ("bad cpu count", lambda c: _svc(c, "cicd")["deploy"]["resources"]["limits"].update(cpus="lots"),
     "services.cicd.deploy.resources.limits.cpus", "not a CPU count"),
    ("reservation above limit", lambda c: _svc(c, "cicd")["deploy"]["resources"]["reservations"].update(memory="4G"),
     "services.cicd.deploy.resources", "exceeds limits.memory"),
    ("duplicate port", lambda c: _svc(c, "cicd").update(port=8001), "services.cicd.port", "already used by orchestrator"),
    ("missing dependency", lambda c: _svc(c, "cicd")["depends_on"].update({"vault": {"condition": "service_healthy"}}),
     "services.cicd.depends_on.vault", "not in the catalog"),
    ("undeclared network", lambda c: _svc(c, "cicd").update(networks=["app", "backoffice"]),
     "services.cicd.networks", "'backoffice' is not declared"),
    ("undeclared secret", lambda c: _svc(c, "cicd").update(secrets=["github_token"]),
     "services.cicd.secrets[0]", "'github_token' is not declared"),
    ("undeclared volume", lambda c: _svc(c, "cicd").update(volumes=["cache:/cache"]),
     "services.cicd.volumes[0]", "'cache' is not declared"),
    ("placeholder env value", lambda c: _svc(c, "cicd")["environment"].update(LOG_LEVEL="changeme"),
     "services.cicd.environment.LOG_LEVEL", "changeme"),
    ("your-... stand-in", lambda c: _svc(c, "cicd")["environment"].update(GITHUB_ORG="your-org-here"),
     "services.cicd.environment.GITHUB_ORG", "your-"),
    ("credential in plain text", lambda c: _svc(c, "cicd")["environment"].update(DB_PASSWORD="s3cr3t-Value-x1"),
     "services.cicd.environment.DB_PASSWORD", "DB_PASSWORD_FILE"),
    ("password in a URL", lambda c: _svc(c, "cicd")["environment"].update(CACHE_URL="redis://:s3cr3t-Value-x1@redis:6379/0"),
     "services.cicd.environment.CACHE_URL", "CACHE_URL_FILE"),
    ("unpinned image", lambda c: _svc(c, "grafana").update(image="grafana/grafana:latest"),
     "services.grafana.image", "moving tag 'latest'"),
    ("untagged image", lambda c: _svc(c, "grafana").update(image="grafana/grafana"),
     "services.grafana.image", "has no tag"),
    ("no health check", lambda c: _svc(c, "cicd").pop("healthcheck"), "services.cicd.healthcheck", "no health check"),
    ("route without readiness", lambda c: _svc(c, "gateway-mcp").pop("readiness"),
     "services.gateway-mcp.readiness", "readiness"),
    ("dependency cycle", lambda c: _svc(c, "redis").update(depends_on=["orchestrator"]), "services.redis.depends_on", "cycle"),
    ("unknown renderer", lambda c: c["configs"]["redis_conf"].update(renderer="nginx_conf"),
     "configs.redis_conf.renderer", "does not exist"),
    ("secret with two sources", lambda c: c["secrets"]["db_password"].update(config="dbPassword"),
     "secrets.db_password", "exactly one of generate, config or derive"),
    ("missing limits", lambda c: _svc(c, "cicd")["deploy"]["resources"].pop("limits"),
     "services.cicd.deploy.resources.limits", "required"),
]


@pytest.mark.parametrize("case", BAD_CATALOGS, ids=[c[0] for c in BAD_CATALOGS])
def test_bad_catalog_exits_2_naming_file_key_and_fix(case, catalog, tmp_path, capsys):
    _, breaks, key, words = case
    breaks(catalog)
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))

    assert main(["preview", "--catalog", str(path)]) == 2
    err = capsys.readouterr()
    assert err.out == "", "nothing is planned for bad input"
    problem_lines = [line for line in err.err.splitlines() if f": {key}" in line]
    assert problem_lines, f"no problem names {key}:\n{err.err}"
    block = err.err[err.err.index(problem_lines[0]):]
    assert words in block.split("\n  - ")[0]
    assert "fix:" in block.split("\n  - ")[0]
    assert str(path) in problem_lines[0]
    assert "Traceback" not in err.err


def test_every_problem_is_reported_at_once(catalog, tmp_path, capsys):
    _svc(catalog, "cicd").update(port=8001)
    _svc(catalog, "redis")["environment"] = {"MODE": "placeholder"}
    _svc(catalog, "documentation").update(colour="blue")
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    assert main(["preview", "--catalog", str(path)]) == 2
    err = capsys.readouterr().err
    # The moved port also breaks the address the orchestrator calls cicd by: told in the same pass.
    assert err.startswith("4 problems")
    for key in ("services.documentation.colour", "services.cicd.port", "services.redis.environment.MODE",
                "services.orchestrator.environment.CICD_URL"):
        assert f"{key}:" in err


@pytest.mark.parametrize("text, where", [
    ("services: [\n", "line"),
    ("version: 1\nversion: 1\n", "appears twice"),
])
def test_unreadable_catalog_yaml(tmp_path, capsys, text, where):
    path = tmp_path / "services.yaml"
    path.write_text(text)
    assert main(["preview", "--catalog", str(path)]) == 2
    assert where in capsys.readouterr().err


def test_missing_catalog_file(tmp_path, capsys):
    assert main(["preview", "--catalog", str(tmp_path / "nope.yaml")]) == 2
    assert "file not found" in capsys.readouterr().err


def _prod_config() -> dict[str, str]:
    return dict(read_stack_config("prod").config)


# (setting, bad value or None to remove it, key named, words in message or fix)
BAD_SETTINGS = [
    ("devtools:region", None, "devtools:region", "pulumi config set devtools:region"),
    ("devtools:dropletSize", "s-64vcpu-huge", "devtools:dropletSize", "pick one of"),
    ("devtools:domain", "not a domain", "devtools:domain", "not a domain name"),
    ("devtools:acmeEmail", "ops-at-example", "devtools:acmeEmail", "not an e-mail"),
    ("devtools:adminCidrs", '["0.0.0.0/0"]', "devtools:adminCidrs[0]", "whole internet"),
    ("devtools:adminCidrs", '["10.1.2.3/8"]', "devtools:adminCidrs[0]", "not a CIDR"),
    ("devtools:sshKeys", "[]", "devtools:sshKeys", "at least 1"),
    ("devtools:vpcIpRange", "8.8.8.0/24", "devtools:vpcIpRange", "not a private range"),
    ("devtools:domain", "<your-domain>", "devtools:domain", "pulumi config set devtools:domain"),
    ("devtools:imageTags", '{"grafana": "latest"}', "devtools:imageTags.grafana", "not pinned"),
    ("devtools:imageTags", '{"vault": "1.0"}', "devtools:imageTags.vault", "names no service"),
    ("devtools:dropletSise", "s-8vcpu-16gb", "devtools:dropletSise", "not a known key"),
    ("devtools:linearOauthToken", None, "devtools:linearOauthToken", "pulumi config set --secret devtools:linearOauthToken"),
    ("devtools:gradientApiKey", "changeme", "devtools:gradientApiKey", "pulumi config set --secret devtools:gradientApiKey"),
]


@pytest.mark.parametrize("case", BAD_SETTINGS, ids=[f"{c[0]}={c[1]}" for c in BAD_SETTINGS])
def test_bad_settings_name_file_key_and_fix(case):
    key, value, named, words = case
    config = _prod_config()
    if value is None:
        config.pop(key)
    else:
        config[key] = value
    with pytest.raises(InputError) as caught:
        load_inputs(config, "prod")
    text = caught.value.render()
    lines = [p for p in caught.value.problems if p.key == named]
    assert lines, text
    assert lines[0].file == "Pulumi.prod.yaml"
    assert words in f"{lines[0].message} {lines[0].fix}", text


def test_secret_values_never_appear_in_errors():
    config = _prod_config()
    config["devtools:gradientApiKey"] = "TODO-sk-9f8e7d6c5b4a"
    with pytest.raises(InputError) as caught:
        load_inputs(config, "prod")
    assert "sk-9f8e7d6c5b4a" not in caught.value.render()


def test_the_program_declares_nothing_on_bad_input():
    # The real `pulumi preview` path: __main__.py validates first and raises RunError.
    stack = read_stack_config("prod")
    config = {**stack.config, "devtools:dropletSize": "s-64vcpu-huge"}
    with pytest.raises(ProgramFailed) as caught:
        run_program(config, stack.secret_keys, "prod")
    assert caught.value.recorded == []
    assert "devtools:dropletSize" in str(caught.value) and "Traceback" not in str(caught.value)


def test_config_keys_and_values_that_are_not_text_are_refused_by_preview_and_validate_env(tmp_path, capsys):
    """YAML reads `1:` and `2024-01-01:` as a number and a date, and `!!binary` as bytes: none is a
    setting the runtime can hold. Each is named, by both readers of the stack file and on the command line."""
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  1: x\n  2024-01-01: y\n  devtools:when: 2024-01-01\n"
                                               "  devtools:blob: !!binary aGVsbG8=\n  devtools:dropletSize: s-2vcpu-4gb\n")
    with pytest.raises(InputError) as caught:
        read_stack_config("prod", directory=tmp_path)
    problems, _ = check_stack("prod", folder=tmp_path)
    assert main(["preview", "--stack-dir", str(tmp_path)]) == EXIT_BAD_INPUT
    for text in (caught.value.render(), "\n".join(str(p) for p in problems), capsys.readouterr().err):
        assert "config.1: is not a setting's name" in text and "config.2024-01-01: is not a setting's name" in text
        assert "devtools:when: holds a value that is neither text nor JSON" in text
        assert "devtools:blob: holds a value that is neither text nor JSON" in text
        assert "Traceback" not in text


@pytest.mark.parametrize("value", ["2024-13-45", "2023-02-29", "!!int x", "!!bool maybe", "!!float x", "!!timestamp noon"])
def test_a_value_that_looks_like_a_type_it_does_not_hold_is_refused_not_a_traceback(value, tmp_path, capsys):
    """PyYAML raises ValueError or KeyError, not a YAML error, for a scalar of a type it cannot hold:
    both input files are refused with the line, the column and the fix, before anything runs."""
    stack = (ROOT / "Pulumi.prod.yaml").read_text()
    assert "  devtools:region: nyc3\n" in stack
    (tmp_path / "Pulumi.prod.yaml").write_text(stack.replace("  devtools:region: nyc3\n", f"  devtools:region: {value}\n"))
    catalog = tmp_path / "services.yaml"
    catalog.write_text(f"x-when: {value}\n" + (ROOT / "config" / "services.yaml").read_text())
    for arguments, where in ((["--stack-dir", str(tmp_path)], "Pulumi.prod.yaml: line "),
                             (["--catalog", str(catalog)], "services.yaml: line 1, column 9")):
        assert main(["preview", *arguments]) == EXIT_BAD_INPUT
        err = capsys.readouterr().err
        assert where in err and "quote it to keep it as text" in err and "Traceback" not in err, err


@pytest.mark.parametrize("key", ["devtools:langsmithApiKey", "langsmithApiKey"])
def test_a_secret_in_plain_text_in_the_stack_file_is_refused(tmp_path, key):
    """Written with the project's namespace or without it (the runtime reads both as devtools:...)."""
    stack_file = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    stack_file["config"][key] = "lsv2_pt_0123456789abcdef"
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack_file))
    with pytest.raises(InputError) as caught:
        read_stack_config("prod", directory=tmp_path)
    problems, _ = check_stack("prod", folder=tmp_path)
    for text in (caught.value.render(), "\n".join(str(p) for p in problems)):
        assert "devtools:langsmithApiKey: " in text and "secret" in text and "plain text" in text
        assert "pulumi config set --secret devtools:langsmithApiKey" in text
        assert "lsv2_pt_0123456789abcdef" not in text


def test_a_setting_written_with_and_without_its_namespace_is_refused(tmp_path):
    stack_file = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    stack_file["config"]["region"] = "ams3"
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack_file))
    with pytest.raises(InputError) as caught:
        read_stack_config("prod", directory=tmp_path)
    problems, _ = check_stack("prod", folder=tmp_path)
    for text in (caught.value.render(), "\n".join(str(p) for p in problems)):
        assert "region: is the same setting as devtools:region, which the file also sets" in text


def test_a_secure_setting_without_its_namespace_and_without_ciphertext_is_refused(tmp_path):
    stack_file = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    stack_file["config"]["linearApiKey"] = {"secure": ""}
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack_file))
    with pytest.raises(InputError) as caught:
        read_stack_config("prod", directory=tmp_path)
    assert "devtools:linearApiKey: is marked secure but holds no ciphertext" in caught.value.render()


def test_encrypted_secrets_in_the_stack_file_get_offline_stand_ins(tmp_path):
    stack_file = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    stack_file["config"]["devtools:langsmithApiKey"] = {"secure": "v1:AAAABBBBCCCC"}
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack_file))
    config = read_stack_config("prod", directory=tmp_path)
    assert "langsmithApiKey" in config.stand_ins
    assert "devtools:langsmithApiKey" in config.secret_keys
    assert "v1:AAAA" not in config.config["devtools:langsmithApiKey"]
