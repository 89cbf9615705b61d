"""Stage 2b: can the brief's figures be trusted? Provenance, conflicts, freshness, consistency.

Runs inside validation over the loaded spec and its CSV frames. Every finding
is a warning naming the file and line to fix (`--strict` makes them errors);
conflicts are also returned as data for the brief's reconciliation appendix.

- Provenance: a number typed into Markdown prose (`$5.6 billion`, `34%`) is a
  figure with no traceable source. Years, dates, ordinals, list numbers,
  footnote-like `[3]`, identifiers (`Q2`, `5G`, `COVID-19`) and anything
  inside a helper call are not figures.
- Conflicts: metrics with the same label and period whose values differ by
  more than `checks.tolerance_pct` (relative, default 0.5%); and CSV rows for
  the same entity (a table's first shown column, a chart's x) and period from
  different sources (a `source` column) that disagree. Two period texts are
  the same period when they parse to the same period, or when one is a
  whole year marked as not stated ("2025 (period not stated)") and the other
  falls in that year. A row conflict that repeats a metric conflict (same
  values, same sources) is reported once, at the metric.
- Freshness: a metric's period end (Q2 2026 -> 30 June 2026) or a source's
  publication date older than a limit before `as_of`. Defaults per kind are in
  DEFAULT_MAX_AGE; `checks.max_age_days` (one number or one per kind) and a
  metric's or source's own `max_age_days` override them.
- Consistency: share columns summing to over 100% (+ tolerance) per source
  and period; a growth metric that the two levels it relates cannot produce
  (same label without the growth words, this period and a year earlier);
  a percentage outside a plausible range.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import Literal

from reportgen.brief.data import Frame, decimals_for, format_with_unit
from reportgen.brief.models import Brief, Metric
from reportgen.brief.spec import MarkdownDoc, Place, Spec
from reportgen.errors import Problem

log = logging.getLogger(__name__)

PeriodKind = Literal["month", "quarter", "half", "year"]
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
PERIOD_COLUMNS = ("period", "year", "quarter", "month", "date")


# ---------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """A reporting period parsed from free text such as 'Q2 2026', 'H1 2025', 'FY2025'."""

    year: int
    kind: PeriodKind
    index: int = 0  # month 1-12, quarter 1-4, half 1-2; 0 for a year
    unstated: bool = False  # "2025 (period not stated)": somewhere in that year

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.year, self.kind, self.index)

    def end(self) -> date:
        month = {
            "month": self.index,
            "quarter": 3 * self.index,
            "half": 6 * self.index,
            "year": 12,
        }[self.kind]
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    def year_before(self) -> Period:
        return Period(self.year - 1, self.kind, self.index)


_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_PERIOD = re.compile(
    r"^(?:(?P<q>Q[1-4])\s*(?:FY|CY)?'?\s*(?P<qy>\d{4})"
    r"|(?P<qy2>\d{4})\s*(?P<q2>Q[1-4])"
    r"|(?P<h>[H][12])\s*(?:FY|CY)?'?\s*(?P<hy>\d{4})"
    r"|(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<my>\d{4})"
    r"|(?:FY|CY)?\s*(?P<y>\d{4}))"
    r"\s*(?P<note>\(.*\))?$",
    re.IGNORECASE,
)
_UNSTATED = re.compile(r"not stated|unstated|unknown|unspecified", re.IGNORECASE)


def parse_period(text: str | None) -> Period | None:
    """The period a text names, or None when it names no single period ('three years')."""
    m = _PERIOD.match((text or "").strip())
    if not m:
        return None
    unstated = bool(m["note"] and _UNSTATED.search(m["note"]))
    if m["q"] or m["q2"]:
        return Period(int(m["qy"] or m["qy2"]), "quarter", int((m["q"] or m["q2"])[1]), unstated)
    if m["h"]:
        return Period(int(m["hy"]), "half", int(m["h"][1]), unstated)
    if m["mon"]:
        month = _MONTHS.get(m["mon"].lower())
        return Period(int(m["my"]), "month", month, unstated) if month else None
    return Period(int(m["y"]), "year", 0, unstated)


def same_period(a: str, b: str) -> bool:
    """Do two period texts describe the same period? (see the module docstring)"""
    if _norm(a) == _norm(b):
        return True
    pa, pb = parse_period(a), parse_period(b)
    if pa is None or pb is None:
        return False
    if pa.key == pb.key:
        return True
    vague = [p for p in (pa, pb) if p.unstated and p.kind == "year"]
    return bool(vague) and pa.year == pb.year


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split())


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Reported:
    """One value of a disputed figure, as one source reports it."""

    value: float
    high: float | None
    unit: str | None
    source: str
    where: str  # a metric id, or 'file.csv line 6'
    metric_id: str | None = None

    @property
    def text(self) -> str:
        return format_with_unit(self.value, self.unit, self.high)


@dataclass(frozen=True)
class Conflict:
    """A figure the sources disagree on: every value with its source."""

    label: str
    period: str | None
    values: tuple[Reported, ...]
    place: Place
    key: str
    table: str | None = None  # title of the table or chart that shows the disputed rows
    also: tuple[str, ...] = ()  # other places the same disagreement appears

    @property
    def spread(self) -> str:
        """Highest minus lowest, in percentage points for percentages."""
        if len({r.unit for r in self.values}) > 1:
            return "different units"
        unit = self.values[0].unit
        gap = max(r.value if r.high is None else r.high for r in self.values) - min(
            r.value for r in self.values
        )
        return format_with_unit(round(gap, 9), "pp" if (unit or "").strip() == "%" else unit)

    @property
    def signature(self) -> frozenset[tuple[float, str]]:
        return frozenset((round(r.value, 9), r.source) for r in self.values)

    def problem(self) -> Problem:
        period = f" ({self.period})" if self.period else ""
        values = " vs ".join(f"{r.text} ({r.source}, {r.where})" for r in self.values)
        also = f"; also in {', '.join(self.also)}" if self.also else ""
        message = (
            f"conflicting figures for '{self.label}'{period}: {values}, spread {self.spread}{also}"
        )
        return Problem(self.place.path, self.place.line, self.key, message, "warning")


@dataclass
class Integrity:
    """What the figure checks found: warnings to print and conflicts to reconcile."""

    problems: list[Problem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def check_integrity(spec: Spec, frames: dict[str, Frame]) -> Integrity:
    """Every figure check over a brief whose data files were read into `frames`."""
    brief = spec.brief
    tolerance = brief.checks.tolerance_pct
    problems: list[Problem] = []
    for doc in spec.docs.values():
        problems += provenance(doc)
    conflicts = _merge(metric_conflicts(spec, tolerance), _row_conflicts(spec, frames, tolerance))
    problems += [c.problem() for c in conflicts]
    problems += freshness(spec)
    problems += _share_sums(spec, frames, tolerance)
    problems += growth_consistency(spec)
    problems += percent_ranges(spec)
    return Integrity(problems, conflicts)


# ---------------------------------------------------------------- provenance

_MONTH_WORDS = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NOT_PROSE = re.compile(
    r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}"  # helper calls (and any Jinja)
    r"|`[^`\n]*`"  # inline code
    r"|\]\([^)]*\)|<?https?://[^\s)>]+>?"  # link targets and bare URLs
    r"|\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"  # dates
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTH_WORDS})\b"  # 20 November
    rf"|\b(?:{_MONTH_WORDS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?=\s*,?\s*\d{{4}})"  # November 20, 2026
    r"|\[\d+\]"  # footnote-like marks: verification checks those
    r"|^[ \t>]*\d{1,9}[.)](?=\s)"  # ordered-list numbers
    r"|^[ \t]*#{1,6}[ \t]+\d{1,3}(?:\.\d{1,3})*\.?(?=\s)",  # numbered headings: ## 2.1 Outlook
    re.DOTALL | re.IGNORECASE | re.MULTILINE,
)
_NUMBER = re.compile(r"(?<![\w.,'’])\d+(?:[.,]\d+)*")
_UNIT_AFTER = re.compile(
    r"\s?(?:%|per ?cent\b|pp\b|bps?\b|bn\b|billion\b|mn\b|m\b|million\b|tn\b|trillion\b|k\b|x\b|×)",
    re.IGNORECASE,
)
_CURRENCY_BEFORE = re.compile(r"(?:US\$|HK\$|[$€£¥]|\b(?:USD|RMB|CNY|HKD|EUR|GBP|JPY)\s?)[-−]?$")


def provenance(doc: MarkdownDoc) -> list[Problem]:
    """Hand-typed figures in one Markdown text, each with its file and line."""
    prose = _NOT_PROSE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), doc.text)
    problems = []
    for shown, offset in _figures(prose):
        line = (doc.place.line or 1) + doc.text.count("\n", 0, offset)
        problems.append(
            Problem(
                doc.place.path,
                line,
                doc.key,
                f"hand-typed figure '{shown}' is not traced to a source: "
                'make it a metric and write {{ metric("id") }}',
                "warning",
            )
        )
    return problems


def _figures(prose: str) -> Iterator[tuple[str, int]]:
    """(figure as written, offset) for every number in prose that is a figure."""
    for m in _NUMBER.finditer(prose):
        start, end = m.span()
        before, after = prose[:start], prose[end:]
        if re.search(r"[A-Za-z0-9]-$", before):
            continue  # part of an identifier: COVID-19, 2024-25
        unit = _UNIT_AFTER.match(after)
        if not unit and re.match(r"[A-Za-z]", after):
            continue  # ordinal or identifier: 3rd, 5G, 1990s
        digits = m.group()
        if not unit and re.fullmatch(r"(19|20)\d\d", digits):
            continue  # a year
        currency = _CURRENCY_BEFORE.search(before)
        sign = re.search(r"(?<![A-Za-z0-9])[-−+]$", before)
        begin = currency.start() if currency else start - (1 if sign else 0)
        finish = end + (unit.end() if unit else 0)
        yield prose[begin:finish].strip(), begin


# ---------------------------------------------------------------- conflicts


def _disagree(a: float, b: float, tolerance_pct: float) -> bool:
    return abs(a - b) > tolerance_pct / 100 * max(abs(a), abs(b))


def metric_conflicts(spec: Spec, tolerance_pct: float) -> list[Conflict]:
    """Metrics sharing a label and period whose values (or units) disagree."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, metric in enumerate(spec.brief.metrics):
        groups.setdefault((_norm(metric.label), _norm(metric.period)), []).append(i)
    conflicts = []
    for indexes in groups.values():
        group = [spec.brief.metrics[i] for i in indexes]
        if not any(_metrics_disagree(a, b, tolerance_pct) for a, b in combinations(group, 2)):
            continue
        values = tuple(Reported(m.value, m.high, m.unit, m.source, m.id, m.id) for m in group)
        where = spec.place(("metrics", indexes[1], "value"))
        conflicts.append(
            Conflict(group[0].label, group[0].period, values, where, f"metrics[{indexes[1]}].value")
        )
    return conflicts


def _metrics_disagree(a: Metric, b: Metric, tolerance_pct: float) -> bool:
    if _norm(a.unit) != _norm(b.unit):
        return True
    ends = [
        (a.value, b.value),
        (a.high if a.high is not None else a.value, b.high if b.high is not None else b.value),
    ]
    return any(_disagree(x, y, tolerance_pct) for x, y in ends)


@dataclass(frozen=True)
class _Dataset:
    """A CSV as a table or chart shows it: which column names the entity, and column labels."""

    name: str
    frame: Frame
    entity: str
    title: str
    labels: dict[str, str]

    @property
    def period_column(self) -> str | None:
        return next((c for c in PERIOD_COLUMNS if c in self.frame.df.columns), None)

    def numeric(self, column: str) -> list[float | None]:
        import pandas as pd

        values = pd.to_numeric(self.frame.df[column], errors="coerce")
        return [None if v != v else float(v) for v in values]  # NaN != NaN

    def text(self, column: str | None, row: int) -> str:
        if column is None:
            return ""
        value = self.frame.df[column].iloc[row]
        return "" if value != value else str(value).strip()

    def unit(self, column: str) -> str | None:
        label = self.labels.get(column, column)
        return "%" if "%" in label or column.lower().endswith(("_pct", "pct", "percent")) else None

    def value_columns(self) -> list[str]:
        skip = {self.entity, "source", self.period_column}
        return [
            c
            for c in self.frame.df.columns
            if c not in skip and any(v is not None for v in self.numeric(c))
        ]


def _datasets(spec: Spec, frames: dict[str, Frame]) -> list[_Dataset]:
    """Each CSV once, as its first table (or else chart) shows it."""
    found: dict[str, _Dataset] = {}
    for table in spec.brief.tables:
        frame = frames.get(table.data)
        if frame is None or table.data in found or frame.df.columns.empty:
            continue
        entity = next(iter(table.columns)) if table.columns else str(frame.df.columns[0])
        found[table.data] = _Dataset(
            table.data, frame, entity, table.title, dict(table.columns or {})
        )
    for chart in spec.brief.charts:
        frame = frames.get(chart.data)
        if frame is not None and chart.data not in found:
            found[chart.data] = _Dataset(
                chart.data, frame, chart.x, chart.title, dict(chart.labels or {})
            )
    return [d for d in found.values() if d.entity in d.frame.df.columns]


def _row_conflicts(spec: Spec, frames: dict[str, Frame], tolerance_pct: float) -> list[Conflict]:
    conflicts = []
    for data in _datasets(spec, frames):
        if "source" in data.frame.df.columns:
            conflicts += _dataset_conflicts(data, tolerance_pct)
    return conflicts


def _dataset_conflicts(data: _Dataset, tolerance_pct: float) -> list[Conflict]:
    """Pairs of rows: same entity, same period, different sources, values apart."""
    conflicts = []
    pairs = [
        pair
        for rows in _by_entity(data).values()
        for pair in combinations(rows, 2)
        if _same_fact(data, *pair)
    ]
    for column in data.value_columns():
        numbers = data.numeric(column)
        for a, b in pairs:
            x, y = numbers[a], numbers[b]
            if x is not None and y is not None and _disagree(x, y, tolerance_pct):
                conflicts.append(_row_conflict(data, column, (a, x), (b, y)))
    return conflicts


def _by_entity(data: _Dataset) -> dict[str, list[int]]:
    """Row numbers per entity (rows with none left out): pairs are only ever sought within one."""
    groups: dict[str, list[int]] = {}
    for row in range(len(data.frame.df)):
        entity = _norm(data.text(data.entity, row))
        if entity:
            groups.setdefault(entity, []).append(row)
    return groups


def _same_fact(data: _Dataset, a: int, b: int) -> bool:
    """Two rows of one entity about the same period, from different sources."""
    period = data.period_column
    return _norm(data.text("source", a)) != _norm(data.text("source", b)) and same_period(
        data.text(period, a), data.text(period, b)
    )


def _row_conflict(
    data: _Dataset, column: str, first: tuple[int, float], second: tuple[int, float]
) -> Conflict:
    unit = data.unit(column)
    values = tuple(
        Reported(
            value,
            None,
            unit,
            data.text("source", row),
            f"{data.name} line {data.frame.row_line(row)}",
        )
        for row, value in (first, second)
    )
    periods = list(
        dict.fromkeys(
            p for p in (data.text(data.period_column, r) for r, _ in (first, second)) if p
        )
    )
    label = f"{data.text(data.entity, first[0])}: {data.labels.get(column, column)}"
    place = Place(data.frame.path, data.frame.row_line(second[0]))
    return Conflict(label, " / ".join(periods) or None, values, place, column, table=data.title)


def _merge(metric: list[Conflict], rows: list[Conflict]) -> list[Conflict]:
    """Report a disagreement once: a row conflict that repeats a metric conflict joins it."""
    merged = list(metric)
    for row in rows:
        twin = next(
            (i for i, c in enumerate(merged) if c.signature == row.signature and c.table is None),
            None,
        )
        if twin is None:
            merged.append(row)
            continue
        c = merged[twin]
        merged[twin] = Conflict(
            c.label, c.period, c.values, c.place, c.key, row.table, (*c.also, _lines(row))
        )
    return merged


def _lines(row: Conflict) -> str:
    """'china_share.csv lines 2, 6' for the rows of a row conflict."""
    file = row.values[0].where.rsplit(" line ", 1)[0]
    return f"{file} lines " + ", ".join(r.where.rsplit(" ", 1)[-1] for r in row.values)


# ---------------------------------------------------------------- freshness


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


# ---------------------------------------------------------------- consistency

_SHARE = re.compile(
    r"share(?!s|hold)|proportion|penetration", re.IGNORECASE
)  # not 'shares outstanding'
_RATE = re.compile(r"\b(?:growth|cagr|increase|decline|rise|fall)\b", re.IGNORECASE)
_GROWTH = re.compile(
    r"\b(?:growth|cagr|increase|decline|change|rise|fall)\b(?:\s+in\b)?|\b(?:y/y|yoy|q/q|year[- ]on[- ]year)\b",
    re.IGNORECASE,
)


def _share_sums(spec: Spec, frames: dict[str, Frame], tolerance_pct: float) -> list[Problem]:
    """Share columns that add up to more than 100% for one source and period."""
    problems = []
    limit = 100 * (1 + tolerance_pct / 100)
    for data in _datasets(spec, frames):
        groups: dict[tuple[str, str], list[int]] = {}
        for row in range(len(data.frame.df)):
            groups.setdefault(
                (
                    data.text("source", row) if "source" in data.frame.df.columns else "",
                    data.text(data.period_column, row),
                ),
                [],
            ).append(row)
        for column in data.value_columns():
            numbers = data.numeric(column)
            percent = data.unit(column) == "%" or max(n for n in numbers if n is not None) <= 100
            if not percent or not _SHARE.search(f"{column} {data.labels.get(column, '')}"):
                continue
            for (source, period), rows in groups.items():
                total = sum(numbers[r] or 0.0 for r in rows)
                if total > limit:
                    what = ", ".join(p for p in (source, period) if p)
                    problems.append(
                        Problem(
                            data.frame.path,
                            data.frame.row_line(rows[0]),
                            column,
                            f"shares in '{data.title}'{f' ({what})' if what else ''} add up to "
                            f"{format_with_unit(round(total, 6), '%')}, more than 100%",
                            "warning",
                        )
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
            and _norm(m.label) == base
            and (p := parse_period(m.period)) is not None
        }
        new, old = levels.get(period.key), levels.get(period.year_before().key)
        if new is None or old is None or old.value <= 0 or _norm(new.unit) != _norm(old.unit):
            continue
        low, high = _implied_growth(old.value, new.value)
        half = 0.5 * 10 ** -decimals_for([growth.value])
        stated_low, stated_high = (
            growth.value - half,
            (growth.high if growth.high is not None else growth.value) + half,
        )
        if stated_high < low or stated_low > high:
            implied = (new.value / old.value - 1) * 100
            problems.append(
                spec.problem(
                    ("metrics", i, "value"),
                    (
                        f"growth '{growth.label}' of {format_with_unit(growth.value, '%', growth.high)} contradicts its levels: "
                        f"{format_with_unit(old.value, old.unit)} ({old.period}) to {format_with_unit(new.value, new.unit)} "
                        f"({new.period}) is {format_with_unit(round(implied, 1), '%')}"
                    ),
                    "warning",
                )
            )
    return problems


def _base_label(label: str) -> str:
    """'Alibaba Cloud revenue growth, y/y' -> 'alibaba cloud revenue'."""
    return _norm(re.sub(r"[,;:()]+", " ", _GROWTH.sub(" ", label)))


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
            problems.append(
                spec.problem(
                    ("metrics", i, "value"),
                    (
                        f"'{metric.label}' is {format_with_unit(metric.value, '%', metric.high)}, outside the plausible "
                        f"range {low:g}% to {high:g}% for {kind}"
                    ),
                    "warning",
                )
            )
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
