"""Property-based hostile inputs (hypothesis) over the catalog, the stack settings and .env files.

Bounded (max_examples, no deadline) so the suite stays fast. Every generated input is either
refused (InputError naming the file and the key, each problem once) or, where a value may be
valid, accepted and rendered without an error; nothing crashes, and no .env value is printed.
"""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.errors import InputError
from catalog.inputs import load_inputs
from ops.stackfile import read_stack_config
from ops.validate_env import check_env_file
from render.registry import render
from tests.conftest import shipped_catalog
from tests.test_validate_env import CATALOG, good_env

# The same examples every run (derandomize), so a run on main is repeatable; widen max_examples locally to explore.
BOUNDED = settings(max_examples=25, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
SHIPPED = shipped_catalog()
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
STACK = read_stack_config("prod")

# Any JSON-like value: text with control and rule characters, huge and non-finite numbers, nesting.
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=6)
# Characters no field that reaches a rule, a path, a command line or an API call accepts.
# (`..` only as a whole path segment: `a..b` is a valid file name and image tag.)
HOSTILE = ["`", "'", '"', " ", "\n", "\x00", "/../", "(", ")", "|", "&", ";", "$", "\t", "\r"]


def _with_one_of(characters: list[str]):
    return st.builds(lambda a, bad, b: f"{a}{bad}{b}", st.text(alphabet="abc/-.09", max_size=6),
                     st.sampled_from(characters), st.text(alphabet="abc/-.09", max_size=6))


hostile_text = _with_one_of(HOSTILE)


def _problems(catalog: dict, tmp_path, overrides: dict[str, str] | None = None) -> list | None:
    path = tmp_path / "services.yaml"
    path.write_text(yaml.dump(catalog, Dumper=DUMPER, sort_keys=False, allow_unicode=True))
    config = {**STACK.config, "devtools:catalog": str(path), **(overrides or {})}
    try:
        inputs = load_inputs(config, "prod")
    except InputError as exc:
        return exc.problems
    return inputs


def _assert_refusal(problems: list, key: str, file: str) -> None:
    named = [p for p in problems if p.key.startswith(key)]
    assert named, (key, [str(p) for p in problems])
    assert all(p.file == file and p.fix for p in named)
    assert len(problems) == len(set(problems)), "a problem is reported twice"


SERVICE_FIELDS = sorted({*SHIPPED["services"]["orchestrator"], *SHIPPED["services"]["edge"], "user", "ulimits", "cap_add"})


@BOUNDED
@given(service=st.sampled_from(sorted(SHIPPED["services"])), field=st.sampled_from(SERVICE_FIELDS), value=values)
def test_any_value_in_any_service_field_is_refused_or_renders(service, field, value, tmp_path):
    catalog = copy.deepcopy(SHIPPED)
    catalog["services"][service][field] = value
    # Keep every service, so an accepted catalog still holds the one under test (prod omits one).
    result = _problems(catalog, tmp_path, {"devtools:omitServices": "[]"})
    if isinstance(result, list):
        _assert_refusal(result, f"services.{service}", str(tmp_path / "services.yaml"))
        return
    # Accepted: every file the service receives renders.
    spec = result.catalog.services[service]
    for mount in spec.configs:
        render(result.catalog.configs[mount.source].renderer, result.catalog, spec, result.settings)


# Fields whose text reaches a Traefik rule, a path, a command line or Docker's API.
TEXT_FIELDS = [
    ("gateway-mcp", ("route", "path_prefix"), "services.gateway-mcp.route.path_prefix"),
    ("orchestrator", ("readiness", "path"), "services.orchestrator.readiness.path"),
    ("orchestrator", ("healthcheck", "path"), "services.orchestrator.healthcheck.path"),
    ("orchestrator", ("metrics", "path"), "services.orchestrator.metrics.path"),
    ("orchestrator", ("image",), "services.orchestrator.image"),
    ("edge", ("ports", 0), "services.edge.ports"),
    ("redis", ("volumes", 0), "services.redis.volumes"),
    ("edge", ("configs", 0, "target"), "services.edge.configs[0].target"),
    ("orchestrator", ("user",), "services.orchestrator.user"),
    ("edge", ("cap_add",), "services.edge.cap_add"),
]


@BOUNDED
@given(where=st.sampled_from(TEXT_FIELDS), text=hostile_text)
def test_rule_and_control_characters_are_refused_wherever_text_reaches_a_file(where, text, tmp_path):
    service, path, key = where
    catalog = copy.deepcopy(SHIPPED)
    target = catalog["services"][service]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = [text] if path == ("cap_add",) else text
    result = _problems(catalog, tmp_path)
    assert isinstance(result, list), f"{key} = {text!r} was accepted"
    _assert_refusal(result, key, str(tmp_path / "services.yaml"))


@BOUNDED
@given(name=st.text(min_size=1, max_size=12).filter(lambda k: not k.replace("_", "").isalnum() or k[0].isdigit()),
       value=st.text(max_size=12))
def test_environment_names_outside_posix_are_refused(name, value, tmp_path):
    catalog = copy.deepcopy(SHIPPED)
    catalog["services"]["cicd"]["environment"][name] = value
    result = _problems(catalog, tmp_path)
    assert isinstance(result, list), f"environment name {name!r} was accepted"
    _assert_refusal(result, "services.cicd.environment", str(tmp_path / "services.yaml"))


STACK_KEYS = ["region", "dropletImage", "sshKeys", "tags", "logMaxSize", "logMaxFiles", "hostMemoryReserve",
              "domain", "imageTags", "ssoClientId", "ssoGithubOrg", "volumeSizeGb", "dropletSize"]


@BOUNDED
@given(key=st.sampled_from(STACK_KEYS), text=hostile_text)
def test_hostile_text_in_a_stack_setting_is_refused(key, text, tmp_path):
    value = {"sshKeys": json.dumps([text]), "tags": json.dumps([text]), "imageTags": json.dumps({"cicd": text})}.get(key, text)
    result = _problems(copy.deepcopy(SHIPPED), tmp_path, {f"devtools:{key}": value})
    assert isinstance(result, list), f"devtools:{key} = {text!r} was accepted"
    _assert_refusal(result, f"devtools:{key}", "Pulumi.prod.yaml")


@BOUNDED
@given(key=st.sampled_from(STACK_KEYS), value=values)
def test_any_value_of_any_stack_setting_is_refused_or_accepted_without_a_crash(key, value, tmp_path):
    text = value if isinstance(value, str) else json.dumps(value)
    result = _problems(copy.deepcopy(SHIPPED), tmp_path, {f"devtools:{key}": text})
    if isinstance(result, list):
        _assert_refusal(result, "devtools:", "Pulumi.prod.yaml")


SECRET_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LINE_FORMS = [
    "{key}={secret}", "{key}='{secret}", '{key}="{secret}"{secret}', "{key}={secret} #{secret}", "{key} = {secret}",
    "export {key}={secret}", "{key}=\"{secret}\\\"", "{secret}", "{key}=https://u:{secret}@h", "{key}={secret},{secret}",
    "{key}=<your-{secret}>", "{key}=TODO-{secret}",
]
ENV_KEYS = ["DOMAIN", "ACME_EMAIL", "REGION", "SSH_KEYS", "ADMIN_CIDRS", "LINEAR_OAUTH_TOKEN", "GRADIENT_API_KEY",
            "SSO_CLIENT_SECRET", "EVENTS_URL", "ONCALL_EMAIL", "MY_DOMAIN", "1BAD", "BAD KEY"]


@BOUNDED
@given(key=st.sampled_from(ENV_KEYS), form=st.sampled_from(LINE_FORMS),
       secret=st.text(alphabet=SECRET_ALPHABET, min_size=12, max_size=24))
def test_no_env_value_is_ever_printed(key, form, secret, tmp_path):
    line = form.format(key=key, secret=secret)
    kept = [raw for raw in good_env().splitlines() if not raw.startswith(f"{key}=")]
    path = tmp_path / ".env"
    path.write_text("\n".join([*kept, line]) + "\n")
    problems = check_env_file(path, CATALOG, str(path))
    text = "\n".join(str(p) for p in problems)
    assert secret not in text
    assert all(p.file == str(path) and p.fix for p in problems)


@pytest.mark.parametrize("depth", [65, 500, 20000])
def test_nesting_beyond_the_limit_is_refused_at_any_depth(depth, tmp_path):
    path = tmp_path / "services.yaml"
    path.write_text("version: 1\nx-deep: " + "[" * depth + "]" * depth + "\n")
    config = {**STACK.config, "devtools:catalog": str(path)}
    with pytest.raises(InputError) as caught:
        load_inputs(config, "prod")
    assert [p.key for p in caught.value.problems] == ["(file)"]
