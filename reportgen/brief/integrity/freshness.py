"""Freshness: figures and sources too old for the brief's `as_of` date.

A metric's period end (Q2 2026 -> 30 June 2026) or a source's publication date
older than a limit before `as_of`. Defaults per kind are in DEFAULT_MAX_AGE;
`checks.max_age_days` (one number or one per kind) and a metric's or source's
own `max_age_days` override them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from reportgen.brief.integrity.figures import figure_of
from reportgen.brief.integrity.periods import parse_period
from reportgen.brief.models import Brief, Metric
from reportgen.brief.spec import Spec
from reportgen.errors import Problem

DEFAULT_MAX_AGE: dict[str, int] = {
    "month": 75,
    "quarter": 240,
    "half": 365,
    "year": 550,
    "source": 365,
}
"""Days before a figure is stale: a quarter's figure has been superseded twice after ~240 days."""
KIND_NAMES = {
    "month": "monthly figures",
    "quarter": "quarterly figures",
    "half": "half-year figures",
    "year": "annual figures",
    "source": "sources",
}


def max_age(brief: Brief, kind: str, own: int | None = None) -> int:
    """The age limit in days for a kind of figure: its own, the brief's, or the default."""
    if own is not None:
        return own
    limit = brief.checks.max_age_days
    if isinstance(limit, int):
        return limit
    return (limit or {}).get(kind, DEFAULT_MAX_AGE[kind])  # type: ignore[call-overload]


def is_stale(brief: Brief, metric: Metric) -> bool:
    """Is this figure's period too old for the brief? (the reader sees 'as of <period>')"""
    period = parse_period(metric.period)
    if period is None or period.end() > brief.as_of:
        return False
    return (brief.as_of - period.end()).days > max_age(brief, period.kind, metric.max_age_days)


def freshness(spec: Spec) -> list[Problem]:
    """Metrics whose period ended, and sources published, too long before `as_of`."""
    brief = spec.brief
    problems = []
    for i, metric in enumerate(brief.metrics):
        period = parse_period(metric.period)
        if period is None or not is_stale(brief, metric):
            continue
        name = f"figure '{metric.label}' ({metric.period})"
        problem = _stale(
            spec, ("metrics", i, "period"), name, period.end(), period.kind, metric.max_age_days
        )
        values = (metric.value, *([metric.high] if metric.high is not None else []))
        problems.append(
            replace(
                problem,
                finding=f"stale:{metric.id}",
                values=(*values, metric.period or ""),
                figures=(figure_of(metric),),
            )
        )
    for sid, source in brief.sources.items():
        if source.published is None or source.published > brief.as_of:
            continue
        age = (brief.as_of - source.published).days
        if age > max_age(brief, "source", source.max_age_days):
            name = f"source '{sid}' ({source.title})"
            problem = _stale(
                spec,
                ("sources", sid, "published"),
                name,
                source.published,
                "source",
                source.max_age_days,
            )
            published = (source.published.isoformat(),)
            problems.append(replace(problem, finding=f"stale-source:{sid}", values=published))
    return problems


def _stale(
    spec: Spec, loc: tuple[str | int, ...], name: str, when: date, kind: str, own: int | None
) -> Problem:
    """The author's message for a stale figure or source: its age and the limit to change."""
    age = (spec.brief.as_of - when).days
    limit = max_age(spec.brief, kind, own)
    message = (
        f"stale {name}: {age} days old on {spec.brief.as_of.isoformat()}, "
        f"limit {limit} days for {KIND_NAMES[kind]} (max_age_days)"
    )
    return spec.problem(loc, message, "warning")
