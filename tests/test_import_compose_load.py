"""Reading compose files: interpolation as the spec says, .env through python-dotenv, anchors
and merges, the Compose Specification's schema; every problem at once with file, key and fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ops.compose.interpolate import InterpolationError, Interpolator
from ops.compose.load import ComposeError, load_compose


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


@pytest.mark.parametrize(("template", "expected"), [
    ("$SET", "value"),
    ("${SET}", "value"),
    ("${UNSET:-fallback}", "fallback"),
    ("${EMPTY:-fallback}", "fallback"),      # `:-` treats empty as unset
    ("${EMPTY-fallback}", ""),               # `-` only falls back when unset
    ("${UNSET-fallback}", "fallback"),
    ("${SET:+alt}", "alt"),
    ("${EMPTY:+alt}", ""),
    ("${EMPTY+alt}", "alt"),
    ("${UNSET:-${SET}}", "value"),           # defaults interpolate too
    ("$$SET", "$SET"),                       # `$$` is a literal dollar
    ("cost $ 5", "cost $ 5"),
    ("a${SET}b$SET.c", "avalueb" + "value.c"),
])
def test_interpolation_follows_the_spec(template, expected):
    assert Interpolator({"SET": "value", "EMPTY": ""}).text(template) == expected


def test_unset_variable_without_default_is_empty_and_remembered():
    interpolator = Interpolator({})
    assert interpolator.text("x${GONE}y") == "xy"
    assert interpolator.missing == {"GONE"}


@pytest.mark.parametrize(("template", "needle"), [
    ("${NEED:?give NEED}", "unset or empty: give NEED"),
    ("${EMPTY:?}", "unset or empty"),
    ("${NEED?must}", "unset: must"),
    ("${oops", "no closing brace"),
    ("${1BAD}", "not a variable"),
    ("${SET/x/y}", "unknown operator"),
])
def test_required_and_malformed_interpolations_are_refused(template, needle):
    with pytest.raises(InterpolationError, match=needle):
        Interpolator({"EMPTY": "", "SET": "v"}).text(template)


def test_required_empty_is_fine_with_plain_question_mark():
    assert Interpolator({"EMPTY": ""}).text("${EMPTY?must}") == ""


def test_dotenv_quotes_comments_and_export(tmp_path):
    write(tmp_path, ".env", """
        # a comment line
        export PLAIN=one
        QUOTED="two words # not a comment"
        SINGLE='three $PLAIN'
        TRAILING=four # a trailing comment
        EXPANDED="${PLAIN}-x"
    """)
    compose = write(tmp_path, "docker-compose.yml", """
        services:
          app:
            image: busybox:1.36
            environment:
              A: ${PLAIN}
              B: ${QUOTED}
              C: ${SINGLE}
              D: ${TRAILING}
              E: ${EXPANDED}
    """)
    env = load_compose(compose, environ={}).services["app"]["environment"]
    assert env == {"A": "one", "B": "two words # not a comment", "C": "three $PLAIN", "D": "four", "E": "one-x"}


def test_process_environment_wins_over_dotenv(tmp_path):
    write(tmp_path, ".env", "TAG=1.0\n")
    compose = write(tmp_path, "docker-compose.yml", "services:\n  app:\n    image: busybox:${TAG}\n")
    assert load_compose(compose, environ={"TAG": "2.0"}).services["app"]["image"] == "busybox:2.0"
    assert load_compose(compose, environ={}).services["app"]["image"] == "busybox:1.0"


def test_anchors_merges_and_extensions(tmp_path):
    compose = write(tmp_path, "docker-compose.yml", """
        x-defaults: &defaults
          restart: unless-stopped
          environment: &env
            LOG_LEVEL: info
            REGION: eu
        services:
          one:
            <<: *defaults
            image: busybox:1.36
            x-owner: team-a
          two:
            <<: *defaults
            image: busybox:1.36
            restart: "no"
            environment:
              <<: *env
              REGION: us
    """)
    services = load_compose(compose, environ={}).services
    assert services["one"]["restart"] == "unless-stopped"
    assert services["one"]["environment"] == {"LOG_LEVEL": "info", "REGION": "eu"}
    assert services["two"]["restart"] == "no"
    assert services["two"]["environment"] == {"LOG_LEVEL": "info", "REGION": "us"}


def test_every_problem_at_once_with_file_key_and_fix(tmp_path):
    write(tmp_path, ".env", "GOOD=1\nthis is not a binding\n")
    compose = write(tmp_path, "docker-compose.yml", """
        services:
          app:
            image: busybox:1.36
            environment:
              - TOKEN=${TOKEN:?set TOKEN to the API token}
            colour: blue
          db:
            image: postgres:16.6
            depends_on: 42
    """)
    with pytest.raises(ComposeError) as caught:
        load_compose(compose, environ={})
    found = {(p.file, p.key) for p in caught.value.problems}
    assert found == {
        (str(tmp_path / ".env"), "line 2"),
        (str(compose), "services.app.environment[0]"),
        (str(compose), "services.app.colour"),
        (str(compose), "services.db.depends_on"),
    }
    assert len(caught.value.problems) == len(found)  # each once
    assert all(p.fix for p in caught.value.problems)
    assert "set TOKEN to the API token" in caught.value.render()


def test_duplicate_keys_and_bad_yaml_are_refused(tmp_path):
    compose = write(tmp_path, "docker-compose.yml", "services:\n  app:\n    image: a:1\n    image: b:2\n")
    with pytest.raises(ComposeError, match="appears twice"):
        load_compose(compose, environ={})
    compose.write_text("services: [\n")
    with pytest.raises(ComposeError, match="not valid YAML"):
        load_compose(compose, environ={})


def test_missing_file_and_missing_env_file(tmp_path):
    with pytest.raises(ComposeError, match="file not found"):
        load_compose(tmp_path / "nope.yml", environ={})
    compose = write(tmp_path, "docker-compose.yml", "services:\n  app:\n    image: a:1\n")
    with pytest.raises(ComposeError, match="file not found"):
        load_compose(compose, env_file=tmp_path / "missing.env", environ={})


def test_key_lines_point_at_the_compose_source(tmp_path):
    compose = write(tmp_path, "docker-compose.yml", "services:\n  app:\n    image: a:1\n\n    ports: ['80:80']\n")
    loaded = load_compose(compose, environ={})
    assert loaded.line("services", "app") == 2
    assert loaded.line("services", "app", "ports") == 5
    assert loaded.line("services", "app", "user") == 2  # falls back to the service


@pytest.mark.parametrize(("entry", "container", "host"), [
    ("80", 80, None),
    ("8080:80", 80, 8080),
    ("127.0.0.1:8080:80", 80, 8080),
    ("127.0.0.1::80", 80, None),
    ("[::1]:8443:443/tcp", 443, 8443),
    ("9000-9002:9000-9002", 9000, 9000),
    (8080, 8080, None),
    ({"target": 80, "published": "8080"}, 80, 8080),
    ({"target": 80}, 80, None),
])
def test_port_forms(entry, container, host):
    from ops.compose.ports import PortMapping, port_mappings

    assert port_mappings([entry]) == [PortMapping(container, host)]


@pytest.mark.parametrize("entry", ["eighty:80", "a:b:c", "80:", "http"])
def test_unreadable_port_forms(entry):
    from ops.compose.ports import port_mappings

    with pytest.raises(ValueError, match="is not"):
        port_mappings([entry])
