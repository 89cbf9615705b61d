"""Consistency: figures that cannot all be true together.

Share columns over 100% (+ tolerance) per source and period; a growth metric its two
levels cannot produce (its label without the growth words, this period and a year
earlier); a percentage outside a plausible range.
"""

from __future__ import annotations

import re

from reportgen.brief.data import Frame, decimals_for, format_with_unit
from reportgen.brief.integrity.figures import datasets, figure_of, norm, parse_period
from reportgen.brief.spec import Spec
from reportgen.errors import Problem

_SHARE = re.compile(r"share(?!s|hold)|proportion|penetration", re.IGNORECASE)  # not 'shares'
_RATE = re.compile(r"\b(?:growth|cagr|increase|decline|rise|fall)\b", re.IGNORECASE)
_GROWTH = re.compile(
    r"\b(?:growth|cagr|increase|decline|change|rise|fall)\b(?:\s+in\b)?|\b(?:y/y|yoy|q/q|year[- ]on[- ]year)\b",
    re.IGNORECASE,
)


def share_sums(spec: Spec, frames: dict[str, Frame], tolerance_pct: float) -> list[Problem]:
    """Share columns that add up to more than 100% for one source and period."""
    problems = []
    limit = 100 * (1 + tolerance_pct / 100)
    for data in datasets(spec, frames):
        source = "source" if "source" in data.frame.df.columns else None
        groups: dict[tuple[str, str], list[int]] = {}
        for row in range(len(data.frame.df)):
            key = (data.text(source, row), data.text(data.period_column, row))
            groups.setdefault(key, []).append(row)
        for column in data.value_columns():
            numbers = data.numeric(column)
            percent = data.unit(column) == "%" or max(n for n in numbers if n is not None) <= 100
            if not percent or not _SHARE.search(f"{column} {data.labels.get(column, '')}"):
                continue
            for group, rows in groups.items():
                total = sum(numbers[r] or 0.0 for r in rows)
                if total <= limit:
                    continue
                total = round(total, 6)
                what = ", ".join(p for p in group if p)
                message = (
                    f"shares in '{data.title}'{f' ({what})' if what else ''} add up to "
                    f"{format_with_unit(total, '%')}, more than 100%"
                )
                mark = f"share-sum:{data.name}:{column}" + "".join(f":{p}" for p in group if p)
                line = data.frame.row_line(rows[0])
                problems.append(
                    Problem(data.frame.path, line, column, message, "warning", mark, (total,))
                )
    return problems


def growth_consistency(spec: Spec) -> list[Problem]:
    """A growth metric whose two levels (this period and a year before) imply another rate."""
    metrics = spec.brief.metrics
    problems = []
    for i, growth in enumerate(metrics):
        period = parse_period(growth.period)
        if (growth.unit or "").strip() != "%" or not _GROWTH.search(growth.label) or period is None:
            continue
        base = _base_label(growth.label)
        levels = {
            p.key: m
            for m in metrics
            if m is not growth
            and norm(m.label) == base
            and (p := parse_period(m.period)) is not None
        }
        new, old = levels.get(period.key), levels.get(period.year_before().key)
        if new is None or old is None or old.value <= 0 or norm(new.unit) != norm(old.unit):
            continue
        low, high = _implied_growth(old.value, new.value)
        half = 0.5 * 10 ** -decimals_for([growth.value])
        top = growth.high if growth.high is not None else growth.value
        if top + half >= low and growth.value - half <= high:
            continue
        implied = format_with_unit(round((new.value / old.value - 1) * 100, 1), "%")
        message = (
            f"growth '{growth.label}' of {format_with_unit(growth.value, '%', growth.high)} "
            f"contradicts its levels: {format_with_unit(old.value, old.unit)} ({old.period}) "
            f"to {format_with_unit(new.value, new.unit)} ({new.period}) is {implied}"
        )
        values = (growth.value, old.value, new.value)
        figures = (figure_of(growth), figure_of(old), figure_of(new))
        loc = ("metrics", i, "value")
        problems.append(spec.finding(loc, message, f"growth:{growth.id}", values, figures))
    return problems


def _base_label(label: str) -> str:
    """'Alibaba Cloud revenue growth, y/y' -> 'alibaba cloud revenue'."""
    return norm(re.sub(r"[,;:()]+", " ", _GROWTH.sub(" ", label)))


def _implied_growth(old: float, new: float) -> tuple[float, float]:
    """The growth, in percent, that levels as rounded could hide: lowest and highest."""
    h_old = 0.5 * 10 ** -decimals_for([old])
    h_new = 0.5 * 10 ** -decimals_for([new])
    low = ((new - h_new) / (old + h_old) - 1) * 100
    high = ((new + h_new) / max(old - h_old, 1e-12) - 1) * 100
    return low, high


def percent_ranges(spec: Spec) -> list[Problem]:
    """Percentages no source could mean: a share outside 0-100, a fall beyond -100%."""
    problems = []
    for i, metric in enumerate(spec.brief.metrics):
        if (metric.unit or "").strip() != "%":
            continue
        low, high, kind = _plausible(metric.label)
        top = metric.high if metric.high is not None else metric.value
        if metric.value < low or top > high:
            shown = format_with_unit(metric.value, "%", metric.high)
            message = f"'{metric.label}' is {shown}, outside the plausible range "
            message += f"{low:g}% to {high:g}% for {kind}"
            key, figures = f"range:{metric.id}", (figure_of(metric),)
            loc = ("metrics", i, "value")
            problems.append(spec.finding(loc, message, key, (metric.value, top), figures))
    return problems


def _plausible(label: str) -> tuple[float, float, str]:
    """(lowest, highest, what) for a percentage, by what its label says it measures.
    A growth rate cannot fall below -100%; a 'change' can (earnings turning to losses)."""
    if _RATE.search(label):
        return -100.0, 1000.0, "a growth rate"
    if _GROWTH.search(label):
        return -1000.0, 1000.0, "a change"
    if _SHARE.search(label):
        return 0.0, 100.0, "a share"
    return -1000.0, 1000.0, "a percentage"
