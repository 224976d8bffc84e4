"""No dead alert: every metric and every `job` an expression uses must come from a scrape job.

A pure function over the rendered Prometheus configuration and rule files (as parsed
YAML), so the tests and the policy pack (stack policy `no-dead-alert`, see
monitoring_rules.py) share one definition.
An alert on a metric that nothing collects can never fire; this is what went wrong
in the audited setup, whose Postgres, Redis and container alerts watched nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import promql_parser

from .metric_sources import YIELDS_LABEL, families_of_label, matches, produced_by
from .prometheus_files import PrometheusFiles, configuration, is_yaml, parse_yaml, uploaded_files
from .values import is_hashable


@dataclass(frozen=True)
class DeadReference:
    where: str      # "alert HighErrorRate" or "panel ..."
    problem: str    # what the expression refers to that no job produces

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def scrape_jobs(prometheus_config: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """job name -> the metric names and prefixes it yields, from a parsed prometheus.yml.

    What a job yields is what its targets' `__devtools_yields` label declares (the catalog's
    `metrics.yields`); a target without it yields only the synthetic series.
    """
    jobs: dict[str, tuple[str, ...]] = {}
    for job in prometheus_config.get("scrape_configs") or []:
        name = job["job_name"]
        produced: tuple[str, ...] = ()
        for static in job.get("static_configs") or [{}]:
            produced += produced_by(families_of_label((static.get("labels") or {}).get(YIELDS_LABEL)))
        # A discovered job (the cluster's) sets the label by relabelling, as a fixed value.
        for relabel in job.get("relabel_configs") or []:
            if isinstance(relabel, Mapping) and relabel.get("target_label") == YIELDS_LABEL and not relabel.get("source_labels"):
                produced += produced_by(families_of_label(relabel.get("replacement")))
        jobs[name] = produced
    return jobs


@dataclass(frozen=True)
class _Selector:
    jobs: tuple[str, ...]   # values of `job="..."` matchers
    metric: str | None      # the metric name, None for a selector on labels only


def _metric_name(selector: promql_parser.VectorSelector) -> str | None:
    if selector.name:
        return selector.name
    for matcher in selector.matchers.matchers:
        if matcher.name == "__name__" and matcher.op == promql_parser.MatchOp.Equal:
            return matcher.value
    return None


# PromQL's string literals: double- or single-quoted with backslash escapes, or raw between backticks.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
# What stands in for a matcher's value in an expression's shape (see _selectors).
_PLACEHOLDER = "devtools-literal-"


def _shape(expr: str) -> tuple[str, dict[str, str]] | None:
    """The expression with each equality matcher's value (`job="x"`, `job!="x"`) replaced by a
    placeholder, and what each placeholder stands for; None when that could change what parses.

    Left as they are: regular expressions (`=~`, which the parser compiles), empty values (a selector
    needs one matcher that an empty label fails), values with escapes or line breaks, and every
    other string; and a whole expression with a comment (which may hold quotes) or a placeholder.
    """
    if "#" in expr or _PLACEHOLDER in expr:
        return None
    values: dict[str, str] = {}
    parts: list[str] = []
    last = 0
    for literal in _STRING.finditer(expr):
        text, before = literal.group(), expr[last:literal.start()].rstrip()
        parts.append(expr[last:literal.start()])
        equality = before.endswith("!=") or (before.endswith("=") and not before.endswith(("==", "<=", ">=")))
        value = text[1:-1]
        if equality and value and "\\" not in value and "\n" not in value:
            placeholder = f"{_PLACEHOLDER}{len(values)}"
            values[placeholder] = value
            text = f'"{placeholder}"'
        parts.append(text)
        last = literal.end()
    parts.append(expr[last:])
    return "".join(parts), values


@lru_cache(maxsize=1024)
def _parsed_selectors(expr: str) -> tuple[_Selector, ...]:
    """The vector selectors of an expression, as parsed (ValueError if it does not parse)."""
    found: list[_Selector] = []

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            jobs = tuple(m.value for m in node.matchers.matchers if m.name == "job" and m.op == promql_parser.MatchOp.Equal)
            found.append(_Selector(jobs, _metric_name(node)))

    promql_parser.walk(promql_parser.parse(expr), pre_visit=visit)
    return tuple(found)


def _selectors(expr: str) -> tuple[_Selector, ...]:
    """The vector selectors of an expression (ValueError if it does not parse).

    Rule files repeat a few expressions per service, differing only in matcher values (`job="..."`),
    so an expression is parsed by its shape, once per shape, and the values are put back: at 2000
    services, 27 parses instead of 14,000 (a second of the pack's AnalyzeStack). A shape that does
    not parse means the expression is parsed as it is, for its own error.
    """
    shaped = _shape(expr)
    if shaped is None:
        return _parsed_selectors(expr)
    shape, values = shaped
    try:
        selectors = _parsed_selectors(shape)
    except ValueError:
        return _parsed_selectors(expr)
    return tuple(_Selector(tuple(values.get(job, job) for job in s.jobs),
                           values.get(s.metric, s.metric) if s.metric is not None else None) for s in selectors)


def dead_references(where: str, expr: str, jobs: Mapping[str, tuple[str, ...]]) -> list[DeadReference]:
    """What in one PromQL expression no configured scrape job produces."""
    try:
        selectors = _selectors(expr)
    except ValueError as exc:
        return [DeadReference(where, f"expression does not parse: {exc}")]
    dead: list[DeadReference] = []
    for selector in selectors:
        for job in selector.jobs:
            if job not in jobs:
                dead.append(DeadReference(where, f"job {job!r} is not scraped (jobs: {', '.join(sorted(jobs))})"))
        if selector.metric is None:
            continue
        candidates = [jobs[j] for j in selector.jobs if j in jobs] if selector.jobs else list(jobs.values())
        if not any(matches(selector.metric, produced) for produced in candidates):
            scope = f"job {selector.jobs[0]!r}" if selector.jobs else "any scrape job"
            dead.append(DeadReference(where, f"metric {selector.metric!r} is not produced by {scope}"))
    return dead


def dead_alerts(prometheus_config: Mapping[str, Any], rule_files: Iterable[Mapping[str, Any]]) -> list[DeadReference]:
    """Every alert (and recording rule) expression checked against the configured scrape jobs."""
    jobs = scrape_jobs(prometheus_config)
    dead: list[DeadReference] = []
    for rule_file in rule_files:
        for group in rule_file.get("groups") or []:
            for rule in group.get("rules") or []:
                name = rule.get("alert") or rule.get("record") or "?"
                kind = "alert" if "alert" in rule else "rule"
                dead.extend(dead_references(f"{kind} {name} (group {group.get('name')})", rule["expr"], jobs))
    return dead


def dead_alerts_in_uploads(uploads: Iterable[Any]) -> list[DeadReference] | None:
    """The check over one container's uploaded files (`file`, `content`), as a stack policy sees them.

    Returns None when the container carries no Prometheus configuration. A rule file whose content
    is not known yet is not judged; a rule file counts as missing only when every path is known. A
    rule file that is text but no rules (not YAML, or YAML other than a mapping) is reported: its
    alerts cannot be judged, and Prometheus refuses to load it.

    The same files are judged once: the pack meets them in the Analyze call that prepares the
    check and again in AnalyzeStack (2000 services: 14 000 rules, 0.3 s each time).
    """
    files, all_paths_known = uploaded_files(uploads)
    found = configuration(files, all_paths_known)
    if found is None:
        return None
    key = (tuple(files.items()), all_paths_known)
    return list(_judged(key) if is_hashable(key) else _judge(found))


@lru_cache(maxsize=16)
def _judged(files: tuple[tuple[tuple[str, Any], ...], bool]) -> tuple[DeadReference, ...]:
    """The files of one Prometheus (uploaded_files, as items), judged; kept by their paths and contents."""
    items, all_paths_known = files
    found = configuration(dict(items), all_paths_known)
    assert found is not None  # the caller found its configuration among the same files
    return _judge(found)


def _judge(found: PrometheusFiles) -> tuple[DeadReference, ...]:
    rule_paths = [p for p in found.config.get("rule_files") or [] if isinstance(p, str)]
    missing = [p for p in rule_paths if p not in found.files] if found.all_paths_known else []
    dead = [DeadReference("prometheus.yml", f"rule file {p} is not uploaded") for p in missing]
    rules = []
    for path in (p for p in rule_paths if p in found.files):
        content = found.files[path]
        parsed = parse_yaml(content)
        if isinstance(parsed, dict):
            rules.append(parsed)
        elif isinstance(content, str) and not is_yaml(content):
            dead.append(DeadReference(f"rule file {path}", "does not parse as YAML"))
        elif parsed is not None:
            dead.append(DeadReference(f"rule file {path}", f"holds {type(parsed).__name__}, not a mapping of rule `groups:`"))
    return tuple(dead + dead_alerts(found.config, rules))
