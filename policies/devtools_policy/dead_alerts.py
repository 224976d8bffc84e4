"""No dead alert: every metric and every `job` an expression uses must come from a scrape job.

A pure function over the rendered Prometheus configuration and rule files (as parsed
YAML), so the tests, the offline preview and the policy pack share one definition.
An alert on a metric that nothing collects can never fire; this is what went wrong
in the audited setup, whose Postgres, Redis and container alerts watched nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import promql_parser
import yaml

from .metric_sources import matches, produced_by


@dataclass(frozen=True)
class DeadReference:
    where: str      # "alert HighErrorRate" or "panel ..."
    problem: str    # what the expression refers to that no job produces

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def scrape_jobs(prometheus_config: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """job name -> the metric names and prefixes it yields, from a parsed prometheus.yml."""
    jobs: dict[str, tuple[str, ...]] = {}
    for job in prometheus_config.get("scrape_configs") or []:
        name = job["job_name"]
        roles = {
            (static.get("labels") or {}).get("role")
            for static in job.get("static_configs") or [{}]
        }
        produced: tuple[str, ...] = ()
        for role in roles:
            produced += produced_by(name, role)
        jobs[name] = produced
    return jobs


def _selectors(expr: str) -> list[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)

    promql_parser.walk(promql_parser.parse(expr), pre_visit=visit)
    return found


def _metric_name(selector: promql_parser.VectorSelector) -> str | None:
    if selector.name:
        return selector.name
    for matcher in selector.matchers.matchers:
        if matcher.name == "__name__" and matcher.op == promql_parser.MatchOp.Equal:
            return matcher.value
    return None


def dead_references(where: str, expr: str, jobs: Mapping[str, tuple[str, ...]]) -> list[DeadReference]:
    """What in one PromQL expression no configured scrape job produces."""
    try:
        selectors = _selectors(expr)
    except ValueError as exc:
        return [DeadReference(where, f"expression does not parse: {exc}")]
    dead: list[DeadReference] = []
    for selector in selectors:
        job_names = [m.value for m in selector.matchers.matchers
                     if m.name == "job" and m.op == promql_parser.MatchOp.Equal]
        for job in job_names:
            if job not in jobs:
                dead.append(DeadReference(where, f"job {job!r} is not scraped (jobs: {', '.join(sorted(jobs))})"))
        metric = _metric_name(selector)
        if metric is None:
            continue
        candidates = [jobs[j] for j in job_names if j in jobs] if job_names else list(jobs.values())
        if not any(matches(metric, produced) for produced in candidates):
            scope = f"job {job_names[0]!r}" if job_names else "any scrape job"
            dead.append(DeadReference(where, f"metric {metric!r} is not produced by {scope}"))
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


def _parse_yaml(text: object) -> Any:
    if not isinstance(text, str):
        return None  # a secret or an unknown value: not a config file
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def dead_alerts_in_uploads(uploads: Iterable[Mapping[str, Any]]) -> list[DeadReference] | None:
    """The check over one container's uploaded files (`file`, `content`), as a stack policy sees them.

    Returns None when the container carries no Prometheus configuration.
    """
    files = {u.get("file"): u.get("content") for u in uploads}
    for content in files.values():
        config = _parse_yaml(content)
        if isinstance(config, dict) and "scrape_configs" in config:
            rule_paths = config.get("rule_files") or []
            missing = [p for p in rule_paths if p not in files]
            dead = [DeadReference("prometheus.yml", f"rule file {p} is not uploaded") for p in missing]
            rules = [_parse_yaml(files[p]) or {} for p in rule_paths if p in files]
            return dead + dead_alerts(config, rules)
    return None
