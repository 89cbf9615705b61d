"""Freshness: figures and sources too old for the brief's `as_of` date.

A metric's period end (Q2 2026 -> 30 June 2026) or a source's publication date older
than a limit before `as_of`: its own `max_age_days`, else `checks.max_age_days` (one
number or one per kind), else DEFAULT_MAX_AGE.
"""

from __future__ import annotations

from datetime import date

from reportgen.brief.integrity.figures import figure_of, parse_period
from reportgen.brief.models import Brief, Metric
from reportgen.brief.spec import Spec
from reportgen.errors import Problem, Value

DEFAULT_MAX_AGE: dict[str, int] = {
    "month": 75,
    "quarter": 240,
    "half": 365,
    "year": 550,
    "source": 365,
    "price": 7,  # a week covers a weekend and a holiday; a PM reading an older price is told
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
        message = _stale(spec, name, period.end(), period.kind, metric.max_age_days)
        high = [] if metric.high is None else [metric.high]
        values: tuple[Value, ...] = (metric.value, *high, metric.period or "")
        loc, key = ("metrics", i, "period"), f"stale:{metric.id}"
        problems.append(spec.finding(loc, message, key, values, (figure_of(metric),)))
    for sid, source in brief.sources.items():
        published = source.published
        if published is None or published > brief.as_of:
            continue
        if (brief.as_of - published).days > max_age(brief, "source", source.max_age_days):
            name = f"source '{sid}' ({source.title})"
            message = _stale(spec, name, published, "source", source.max_age_days)
            where, key = ("sources", sid, "published"), f"stale-source:{sid}"
            problems.append(spec.finding(where, message, key, (published.isoformat(),)))
    return problems


def _stale(spec: Spec, name: str, when: date, kind: str, own: int | None) -> str:
    """The author's message for a stale figure or source: its age and the limit to change."""
    age = (spec.brief.as_of - when).days
    return (
        f"stale {name}: {age} days old on {spec.brief.as_of.isoformat()}, "
        f"limit {max_age(spec.brief, kind, own)} days for {KIND_NAMES[kind]} (max_age_days)"
    )
