"""No dead alert: every metric and job an alert uses is produced by a configured scrape job."""

from __future__ import annotations

import copy
import dataclasses
import subprocess

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ops.engine import Recorded
from ops.preview import EXIT_OK, EXIT_VIOLATION, evaluate, exit_code
from policies.devtools_policy import dead_alerts as dead_alerts_module
from policies.devtools_policy.dead_alerts import dead_alerts, dead_alerts_in_uploads, dead_references, scrape_jobs
from policies.devtools_policy.values import UNKNOWN
from render.observability.scrape import unreachable_jobs
from tests.conftest import run_plan, shipped_catalog
from tests.observability_support import catalog_from, render_all, shipped_settings
from tests.policy_helpers import check_stack, stack_form

BOUNDED_HOSTILE = settings(max_examples=300, deadline=None, database=None, derandomize=True)


def _rendered(tmp_path, data=None):
    return render_all(catalog_from(data or shipped_catalog()), shipped_settings(), tmp_path)


def _config_and_rules(rendered):
    return rendered.yaml("prometheus", "prometheus_yml"), rendered.yaml("prometheus", "prometheus_rules")


def test_the_shipped_rules_have_no_dead_alert(tmp_path):
    config, rules = _config_and_rules(_rendered(tmp_path))
    assert sum(len(g["rules"]) for g in rules["groups"]) > 50
    assert dead_alerts(config, [rules]) == []


def test_rules_for_the_edge_and_backup_are_alive_once_they_are_scraped(tmp_path):
    rendered = _rendered(tmp_path)
    config, rules = _config_and_rules(rendered)
    names = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert {"BackupNotRun", "TLSCertificateExpiring", "TLSCertificateExpiryImminent"} <= names
    assert dead_alerts(config, [rules]) == []
    # Scraped for real: both are jobs, on a network Prometheus shares.
    assert {"edge", "backup"} <= {job["job_name"] for job in config["scrape_configs"]}
    assert unreachable_jobs(rendered.catalog) == []


def test_a_rule_on_an_unscraped_job_is_reported(tmp_path):
    config, rules = _config_and_rules(_rendered(tmp_path))
    rules["groups"].append({"name": "extra", "rules": [
        {"alert": "MysqlDown", "expr": 'mysql_up{job="mysql-exporter"} == 0'},
    ]})
    dead = [str(d) for d in dead_alerts(config, [rules])]
    assert any("job 'mysql-exporter' is not scraped" in d and "MysqlDown" in d for d in dead), dead
    assert any("metric 'mysql_up' is not produced" in d for d in dead), dead


def test_a_metric_no_job_produces_is_reported_even_without_a_job_matcher(tmp_path):
    config, _ = _config_and_rules(_rendered(tmp_path))
    jobs = scrape_jobs(config)
    assert [str(d) for d in dead_references("alert X", "rate(nginx_http_requests_total[5m]) > 1", jobs)] == [
        "alert X: metric 'nginx_http_requests_total' is not produced by any scrape job"]
    # A real metric asked of the wrong job is dead too: pg_up comes from the Postgres exporter only.
    assert dead_references("alert Y", 'pg_up{job="redis-exporter"} == 0', jobs)
    assert dead_references("alert Z", 'pg_up{job="postgres-exporter"} == 0', jobs) == []


def test_an_expression_that_does_not_parse_is_reported(tmp_path):
    config, _ = _config_and_rules(_rendered(tmp_path))
    (dead,) = dead_references("alert Broken", "sum(up", scrape_jobs(config))
    assert "does not parse" in dead.problem


def _as_parsed(expr: str):
    """What parsing the expression itself gives: its selectors, or the parser's refusal."""
    try:
        return dead_alerts_module._parsed_selectors.__wrapped__(expr)
    except ValueError:
        return ValueError


def _by_shape(expr: str):
    try:
        return dead_alerts_module._selectors(expr)
    except ValueError:
        return ValueError


TRICKY_EXPRESSIONS = [
    'up{job="agent-1"} == 0',
    'up{job!="agent-1", job="x"}',
    'up{job=""}', '{job=""}',                       # the second refused: no matcher that an empty label fails
    '{job!=""}',                                    # accepted: job!="" fails an empty label
    '{job!="a"}', 'up{job!="a"}',                   # the first refused: job!="a" matches an empty label
    '{__name__="pg_up", job="postgres-exporter"}',
    'up{job=~"agent-.*"}', 'up{job=~"("}',          # a regular expression the parser compiles (and refuses)
    "up{job='single'}", "up{job=`raw`}", 'up{job="with \\"escape\\""}', 'up{job=`back\\slash`}',
    'up{job="a"} # a comment with a " quote',
    'label_replace(up{job="a"}, "dst", "$1", "src", "(.*)")',
    'up{job="devtools-literal-0"}', 'up{job="a", instance="devtools-literal-0"}',
    'sum(rate(http_requests_total{job="a",status=~"5.."}[5m])) / sum(rate(http_requests_total{job="a"}[5m])) > 0.05',
    'up == "x"', 'up{job="a"', 'sum(up{job="a"}',
]


@pytest.mark.parametrize("expr", TRICKY_EXPRESSIONS)
def test_selectors_read_by_shape_are_those_of_the_expression_itself(expr):
    assert _by_shape(expr) == _as_parsed(expr)


def test_shapes_serve_every_rendered_rule_of_a_grown_catalog(tmp_path):
    data = shipped_catalog()
    template = data["services"]["documentation"]
    for i in range(40):
        data["services"][f"agent-{i}"] = {**copy.deepcopy(template), "port": 20000 + i,
                                         "environment": {**template["environment"], "AGENT_NAME": f"agent-{i}"}}
    _, rules = _config_and_rules(_rendered(tmp_path, data))
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    shapes = {dead_alerts_module._shape(e)[0] for e in exprs}
    assert len(shapes) < len(exprs) / 10, "per-service rules share their shapes"
    assert [_by_shape(e) for e in exprs] == [_as_parsed(e) for e in exprs]


@BOUNDED_HOSTILE
@given(values=st.lists(st.text(alphabet=' ab"\'\\`#{}()=!~,\n0$-', max_size=8), min_size=3, max_size=3),
       layout=st.sampled_from(['up{job="%s"}', 'up{job!="%s", a="%s"} or b{c=~"%s"}', 'x{job=\'%s\'} + y{job="%s"}',
                               'f(up{__name__="%s"}, "%s") # "%s"', 'up{job=`%s`} > up{job="%s"} == "%s"']))
def test_hostile_values_read_by_shape_as_the_expression_itself(values, layout):
    expr = layout % tuple(values[:layout.count("%s")])
    assert _by_shape(expr) == _as_parsed(expr)


def test_the_check_works_on_a_containers_uploads_as_a_stack_policy_sees_them(tmp_path):
    rendered = _rendered(tmp_path)
    config_text = rendered.file("prometheus", "prometheus_yml").read_text()
    rules = rendered.yaml("prometheus", "prometheus_rules")
    (rule_path,) = yaml.safe_load(config_text)["rule_files"]
    uploads = [{"file": "/etc/prometheus/prometheus.yml", "content": config_text},
               {"file": rule_path, "content": yaml.safe_dump(rules)}]
    assert dead_alerts_in_uploads(uploads) == []
    rules["groups"][0]["rules"].append({"alert": "Dead", "expr": 'up{job="nowhere"} == 0'})
    uploads[1]["content"] = yaml.safe_dump(rules)
    assert [d.where for d in dead_alerts_in_uploads(uploads)] == ["alert Dead (group platform)"] * 2
    assert dead_alerts_in_uploads(uploads[:1])[0].problem == f"rule file {rule_path} is not uploaded"
    # While some upload's path is not known yet (first preview), the rule file may be that one.
    assert dead_alerts_in_uploads([uploads[0], {"file": UNKNOWN, "content": UNKNOWN}]) == []
    assert dead_alerts_in_uploads([{"file": "/etc/redis.conf", "content": "port 6379\n"}]) is None


@pytest.mark.parametrize("content,problem", [
    ("groups: [\n", "does not parse as YAML"),
    ("- alert: X\n  expr: up == 0\n", "holds list, not a mapping of rule `groups:`"),
    ("just text\n", "holds str, not a mapping of rule `groups:`"),
])
def test_a_rule_file_that_holds_no_rules_is_reported_not_skipped(tmp_path, content, problem):
    rendered = _rendered(tmp_path)
    config_text = rendered.file("prometheus", "prometheus_yml").read_text()
    (rule_path,) = yaml.safe_load(config_text)["rule_files"]
    uploads = [{"file": "/etc/prometheus/prometheus.yml", "content": config_text}, {"file": rule_path, "content": content}]
    assert [(d.where, d.problem) for d in dead_alerts_in_uploads(uploads)] == [(f"rule file {rule_path}", problem)]
    assert not _promtool_accepts(content, tmp_path), "Prometheus refuses it too"


def _promtool_accepts(content: str, tmp_path) -> bool:
    (tmp_path / "checked.rules.yml").write_text(content)
    return subprocess.run(["promtool", "check", "rules", str(tmp_path / "checked.rules.yml")], capture_output=True).returncode == 0


@pytest.mark.parametrize("content", ["", "# no rules yet\n", UNKNOWN])
def test_an_empty_rule_file_or_one_not_known_yet_is_no_finding(tmp_path, content):
    rendered = _rendered(tmp_path)
    config_text = rendered.file("prometheus", "prometheus_yml").read_text()
    (rule_path,) = yaml.safe_load(config_text)["rule_files"]
    uploads = [{"file": "/etc/prometheus/prometheus.yml", "content": config_text}, {"file": rule_path, "content": content}]
    assert dead_alerts_in_uploads(uploads) == []
    if isinstance(content, str):
        assert _promtool_accepts(content, tmp_path), "Prometheus loads it: no rules"


def _with_rule(plan, alert: str, expr: str) -> list[Recorded]:
    """The plan with one more alert in the rule file uploaded into the Prometheus container."""
    prometheus = plan.containers()["prometheus"]
    uploads = copy.deepcopy(prometheus.inputs["uploads"])
    rules_upload = next(u for u in uploads if u["file"].endswith(".rules.yml"))
    rules = yaml.safe_load(rules_upload["content"])
    rules["groups"][0]["rules"].append({"alert": alert, "expr": expr})
    rules_upload["content"] = yaml.safe_dump(rules)
    changed = dataclasses.replace(prometheus, inputs={**prometheus.inputs, "uploads": uploads})
    return [changed if r.urn == prometheus.urn else r for r in plan]


def test_no_dead_alert_fires_on_the_prometheus_container_that_loads_the_rule(shipped_plan):
    assert check_stack("no-dead-alert", stack_form(shipped_plan)) == []
    changed = _with_rule(shipped_plan, "GhostDown", 'up{job="ghost"} == 0')
    findings = check_stack("no-dead-alert", stack_form(changed))
    prometheus = shipped_plan.containers()["prometheus"].urn
    # Two dead references in one expression: the unscraped job, and `up` asked of it.
    assert [urn for urn, _ in findings] == [prometheus, prometheus]
    assert all(m.startswith("alert GhostDown (group platform): ") for _, m in findings)
    assert "job 'ghost' is not scraped" in findings[0][1] and "metric 'up' is not produced by job 'ghost'" in findings[1][1]
    # A metric the job exists for but does not produce is as dead as a missing job.
    changed = _with_rule(shipped_plan, "WrongSource", 'pg_up{job="redis-exporter"} == 0')
    assert [m for _, m in check_stack("no-dead-alert", stack_form(changed))] == [
        "alert WrongSource (group platform): metric 'pg_up' is not produced by job 'redis-exporter' "
        "(an alert on a metric nothing collects can never fire)"]


def test_no_dead_alert_fails_the_preview_over_grpc(policy_pack, shipped_plan):
    _, shipped = evaluate(policy_pack, list(shipped_plan))
    assert not [v for v in shipped if v.policy == "no-dead-alert"]
    _, violations = evaluate(policy_pack, _with_rule(shipped_plan, "GhostDown", 'up{job="ghost"} == 0'))
    dead = [v for v in violations if v.policy == "no-dead-alert"]
    assert {(v.enforcement, v.severity, v.urn) for v in dead} == {
        ("mandatory", "high", shipped_plan.containers()["prometheus"].urn)}
    assert len(dead) == 2 and all("GhostDown" in v.message for v in dead)
    assert exit_code(violations) == EXIT_VIOLATION


@pytest.fixture(scope="module")
def exporter_cut_off(tmp_path_factory):
    """The Redis exporter on the data network only: Prometheus (observability, app, edge) cannot reach it."""
    data = shipped_catalog()
    data["services"]["redis-exporter"]["networks"] = ["data"]
    return run_plan(data, tmp_path_factory.mktemp("cut-off"))


def test_scrape_target_reachable_flags_a_target_on_no_common_network(shipped_plan, exporter_cut_off):
    assert check_stack("scrape-target-reachable", stack_form(shipped_plan)) == []
    assert check_stack("scrape-target-reachable", stack_form(exporter_cut_off)) == [(
        exporter_cut_off.containers()["redis-exporter"].urn,
        "scrape job 'redis-exporter' (redis-exporter:9121) shares no network with prometheus, so it is always down")]


def test_scrape_target_reachable_flags_a_target_no_container_answers_to(shipped_plan):
    prometheus = shipped_plan.containers()["prometheus"]
    uploads = copy.deepcopy(prometheus.inputs["uploads"])
    config_upload = next(u for u in uploads if u["file"].endswith("prometheus.yml"))
    config = yaml.safe_load(config_upload["content"])
    config["scrape_configs"].append({"job_name": "ghost", "static_configs": [{"targets": ["ghost:9999"]}]})
    config_upload["content"] = yaml.safe_dump(config)
    changed = dataclasses.replace(prometheus, inputs={**prometheus.inputs, "uploads": uploads})
    resources = [changed if r.urn == prometheus.urn else r for r in shipped_plan]
    assert check_stack("scrape-target-reachable", stack_form(resources)) == [
        (prometheus.urn, "scrape job 'ghost' (ghost:9999): no container answers to 'ghost', so the target is always down")]


def test_the_preview_flags_a_scrape_target_prometheus_cannot_reach(policy_pack, shipped_plan, exporter_cut_off):
    _, shipped = evaluate(policy_pack, list(shipped_plan))
    assert not [v for v in shipped if v.policy == "scrape-target-reachable"]
    _, violations = evaluate(policy_pack, list(exporter_cut_off))
    flagged = [v for v in violations if v.policy == "scrape-target-reachable"]
    assert [(v.enforcement, v.severity, v.urn) for v in flagged] == [
        ("advisory", "medium", exporter_cut_off.containers()["redis-exporter"].urn)]
    assert "'redis-exporter'" in flagged[0].message
    assert exit_code(violations) == EXIT_OK  # advisory: reported, the preview still passes


def test_what_a_job_yields_comes_from_its_declared_families_not_its_name(tmp_path):
    config, rules = _config_and_rules(_rendered(tmp_path))
    jobs = scrape_jobs(config)
    # An agent yields the instrumentator's and the event bus's metrics, and no LLM metric.
    assert dead_references("alert A", 'rate(event_bus_events_emitted_total{job="cicd"}[5m]) > 1', jobs) == []
    assert [str(d) for d in dead_references("alert L", 'rate(llm_tokens_total{job="cicd"}[5m]) > 1', jobs)] == [
        "alert L: metric 'llm_tokens_total' is not produced by job 'cicd'"]
    # Without the label a job yields only the synthetic series: an alert on it is dead, never assumed alive.
    for job in config["scrape_configs"]:
        if job["job_name"] == "orchestrator":
            del job["static_configs"][0]["labels"]["__devtools_yields"]
    dead = [str(d) for d in dead_alerts(config, [rules])]
    assert any("HighErrorRate" in d and "'http_requests_total' is not produced by job 'orchestrator'" in d for d in dead), dead
    assert not any("AgentDown" in d and "orchestrator" in d for d in dead)  # `up` is synthetic


def test_an_unknown_metric_family_is_refused_with_the_known_ones(catalog, tmp_path):
    from catalog.errors import InputError
    from catalog.services import load_catalog

    catalog["services"]["cicd"]["metrics"] = {"path": "/metrics", "yields": ["http", "llm"]}
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    with pytest.raises(InputError) as caught:
        load_catalog(path)
    (problem,) = caught.value.problems
    assert problem.key == "services.cicd.metrics.yields" and "llm" in problem.message and "event_bus" in problem.fix
