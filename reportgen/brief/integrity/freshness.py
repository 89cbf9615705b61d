"""Freshness: figures and sources too old for the brief's `as_of` date.

A metric's period end (Q2 2026 -> 30 June 2026) or a source's publication date
older than a limit before `as_of`. Defaults per kind are in DEFAULT_MAX_AGE;
`checks.max_age_days` (one number or one per kind) and a metric's or source's
own `max_age_days` override them.
"""

from __future__ import annotations

from datetime import date

from reportgen.brief.integrity.periods import parse_period
from reportgen.brief.models import Brief
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


def freshness(spec: Spec) -> list[Problem]:
    """Metrics whose period ended, and sources published, too long before `as_of`."""
    brief = spec.brief
    problems = []
    for i, metric in enumerate(brief.metrics):
        period = parse_period(metric.period)
        if period is None or period.end() > brief.as_of:
            continue
        name = f"figure '{metric.label}' ({metric.period})"
        problems += _stale(
            spec, ("metrics", i, "period"), name, period.end(), period.kind, metric.max_age_days
        )
    for sid, source in brief.sources.items():
        if source.published is not None and source.published <= brief.as_of:
            name = f"source '{sid}' ({source.title})"
            problems += _stale(
                spec,
                ("sources", sid, "published"),
                name,
                source.published,
                "source",
                source.max_age_days,
            )
    return problems


def _stale(
    spec: Spec, loc: tuple[str | int, ...], name: str, when: date, kind: str, own: int | None
) -> list[Problem]:
    age = (spec.brief.as_of - when).days
    limit = max_age(spec.brief, kind, own)
    if age <= limit:
        return []
    message = (
        f"stale {name}: {age} days old on {spec.brief.as_of.isoformat()}, "
        f"limit {limit} days for {KIND_NAMES[kind]} (max_age_days)"
    )
    return [spec.problem(loc, message, "warning")]
