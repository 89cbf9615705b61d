"""Conflicts: the same figure reported with different values by different sources.

Metrics with one label and period whose values differ by more than `checks.tolerance_pct`
(relative, default 0.5%), and CSV rows of one entity (a table's first shown column, a
chart's x) and period that disagree; a row conflict repeating a metric conflict (same
values and sources) is reported once, at the metric. Conflicts are also data for the
reconciliation appendix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from itertools import combinations

from reportgen.brief.data import Frame, format_with_unit
from reportgen.brief.integrity.figures import Dataset, datasets, norm, same_period
from reportgen.brief.models import Metric
from reportgen.brief.spec import Place, Spec
from reportgen.errors import Figure, Problem


@dataclass(frozen=True)
class Reported:
    """One value of a disputed figure, as one source reports it."""

    value: float
    high: float | None
    unit: str | None
    source: str
    where: str  # a metric id, or 'file.csv line 6'
    metric_id: str | None = None
    period: str | None = None  # as this source writes it

    @property
    def figure(self) -> Figure:
        """What the reader sees of this side: a review of the conflict binds to it."""
        return Figure(self.value, self.unit or "", self.period or "", self.source, self.high)

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
    finding: str = ""  # the review key, e.g. conflict:china_share_alibaba (see `_keyed`)

    @property
    def spread(self) -> str:
        """Highest minus lowest, in percentage points for percentages."""
        if len({r.unit for r in self.values}) > 1:
            return "different units"
        unit = self.values[0].unit
        top = max(r.value if r.high is None else r.high for r in self.values)
        gap = top - min(r.value for r in self.values)
        return format_with_unit(round(gap, 9), "pp" if (unit or "").strip() == "%" else unit)

    @property
    def signature(self) -> frozenset[tuple[float, str]]:
        return frozenset((round(r.value, 9), r.source) for r in self.values)

    def problem(self) -> Problem:
        period = f" ({self.period})" if self.period else ""
        values = " vs ".join(f"{r.text} ({r.source}, {r.where})" for r in self.values)
        also = f"; also in {', '.join(self.also)}" if self.also else ""
        message = f"conflicting figures for '{self.label}'{period}: {values}"
        message += f", spread {self.spread}{also}"
        figures = tuple(r.figure for r in self.values)
        where = (self.place.path, self.place.line, self.key)
        return Problem(*where, message, "warning", self.finding, self.numbers, figures)

    @property
    def numbers(self) -> tuple[float, ...]:
        """Every value reported (both ends of a range): what a review accepts."""
        return tuple(v for r in self.values for v in (r.value, r.high) if v is not None)


def find_conflicts(spec: Spec, frames: dict[str, Frame], tolerance_pct: float) -> list[Conflict]:
    """Every disagreement in the brief, each reported once."""
    metrics = metric_conflicts(spec, tolerance_pct)
    return _keyed(_merge(metrics, _row_conflicts(spec, frames, tolerance_pct)))


def _keyed(conflicts: list[Conflict]) -> list[Conflict]:
    """Each conflict's review key: `conflict:` + what its metric ids share
    (china_share_alibaba_ambition, china_share_alibaba_push -> china_share_alibaba), or
    every id when that is ambiguous; for CSV rows, the file and the row's label and period."""
    stems = [_stem(c) for c in conflicts]
    keyed = []
    for c, stem in zip(conflicts, stems, strict=True):
        ids = [r.metric_id for r in c.values if r.metric_id]
        if len(ids) == len(c.values) and (not stem or stems.count(stem) > 1):
            stem = "+".join(ids)
        keyed.append(replace(c, finding=f"conflict:{stem}"))
    return keyed


def _stem(conflict: Conflict) -> str:
    ids = [r.metric_id for r in conflict.values if r.metric_id]
    if len(ids) != len(conflict.values):
        period = f":{_slug(conflict.period)}" if conflict.period else ""
        return f"{conflict.place.path.name}:{_slug(conflict.label)}{period}"
    parts = [i.split("_") for i in ids]
    same = [len(set(words)) == 1 for words in zip(*parts, strict=False)]
    return "_".join(parts[0][: same.index(False) if False in same else len(same)])


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _disagree(a: float, b: float, tolerance_pct: float) -> bool:
    return abs(a - b) > tolerance_pct / 100 * max(abs(a), abs(b))


def metric_conflicts(spec: Spec, tolerance_pct: float) -> list[Conflict]:
    """Metrics sharing a label and period whose values (or units) disagree."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, metric in enumerate(spec.brief.metrics):
        groups.setdefault((norm(metric.label), norm(metric.period)), []).append(i)
    conflicts = []
    for indexes in groups.values():
        group = [spec.brief.metrics[i] for i in indexes]
        if not any(_metrics_disagree(a, b, tolerance_pct) for a, b in combinations(group, 2)):
            continue
        values = tuple(
            Reported(m.value, m.high, m.unit, m.source, m.id, m.id, m.period) for m in group
        )
        where = spec.place(("metrics", indexes[1], "value"))
        conflicts.append(
            Conflict(group[0].label, group[0].period, values, where, f"metrics[{indexes[1]}].value")
        )
    return conflicts


def _metrics_disagree(a: Metric, b: Metric, tolerance_pct: float) -> bool:
    a_top, b_top = (a.value if m.high is None else m.high for m in (a, b))
    ends = [(a.value, b.value), (a_top, b_top)]
    return norm(a.unit) != norm(b.unit) or any(_disagree(x, y, tolerance_pct) for x, y in ends)


def _row_conflicts(spec: Spec, frames: dict[str, Frame], tolerance_pct: float) -> list[Conflict]:
    """Pairs of rows of one entity about the same period, from any sources (one source
    giving two values for one fact disagrees with itself), whose values are apart."""
    conflicts = []
    for data in datasets(spec, frames):
        if "source" not in data.frame.df.columns:
            continue
        rows_of: dict[str, list[int]] = {}  # rows with no entity left out
        for row in range(len(data.frame.df)):
            if entity := norm(data.text(data.entity, row)):
                rows_of.setdefault(entity, []).append(row)
        period = data.period_column
        pairs = [
            (a, b)
            for rows in rows_of.values()
            for a, b in combinations(rows, 2)
            if same_period(data.text(period, a), data.text(period, b))
        ]
        for column in data.value_columns():
            numbers = data.numeric(column)
            for a, b in pairs:
                x, y = numbers[a], numbers[b]
                if x is not None and y is not None and _disagree(x, y, tolerance_pct):
                    conflicts.append(_row_conflict(data, column, (a, x), (b, y)))
    return conflicts


def _row_conflict(
    data: Dataset, column: str, first: tuple[int, float], second: tuple[int, float]
) -> Conflict:
    values = tuple(
        Reported(
            value,
            None,
            data.unit(column),
            data.text("source", row),
            f"{data.name} line {data.frame.row_line(row)}",
            period=data.text(data.period_column, row) or None,
        )
        for row, value in (first, second)
    )
    periods = " / ".join(dict.fromkeys(r.period for r in values if r.period)) or None
    label = f"{data.text(data.entity, first[0])}: {data.labels.get(column, column)}"
    place = Place(data.frame.path, data.frame.row_line(second[0]))
    return Conflict(label, periods, values, place, column, table=data.title)


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
        merged[twin] = replace(c, table=row.table, also=(*c.also, _lines(row)))
    return merged


def _lines(row: Conflict) -> str:
    """'china_share.csv lines 2, 6' for the rows of a row conflict."""
    file = row.values[0].where.rsplit(" line ", 1)[0]
    return f"{file} lines " + ", ".join(r.where.rsplit(" ", 1)[-1] for r in row.values)
