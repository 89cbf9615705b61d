"""The brief's figures as the checks read them: a reporting period named in free text
('Q2 2026', 'H1 2025', 'FY2025', '2025 (period not stated)'), a CSV through the table (or
else chart) that shows it, and a metric as the Figure a finding about it binds to.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from reportgen.brief.bounds import canonical
from reportgen.brief.data import Frame, number_of
from reportgen.brief.models import Metric
from reportgen.brief.spec import Spec
from reportgen.errors import Figure

PeriodKind = Literal["month", "quarter", "half", "year"]


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
        month = {"month": 1, "quarter": 3, "half": 6, "year": 12}[self.kind] * (self.index or 1)
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    def year_before(self) -> Period:
        return Period(self.year - 1, self.kind, self.index)


MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
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
    m = _PERIOD.match(canonical(text or "").strip())
    if not m:
        return None
    unstated = bool(m["note"] and _UNSTATED.search(m["note"]))
    if m["q"] or m["q2"]:
        return Period(int(m["qy"] or m["qy2"]), "quarter", int((m["q"] or m["q2"])[1]), unstated)
    if m["h"]:
        return Period(int(m["hy"]), "half", int(m["h"][1]), unstated)
    if m["mon"]:
        month = MONTHS.get(m["mon"].lower())
        return Period(int(m["my"]), "month", month, unstated) if month else None
    return Period(int(m["y"]), "year", 0, unstated)


def same_period(a: str, b: str) -> bool:
    """Do two period texts name the same period? They do when they parse to one, or when
    one is a whole year not stated ('2025 (period not stated)') and the other is in it."""
    if norm(a) == norm(b):
        return True
    pa, pb = parse_period(a), parse_period(b)
    if pa is None or pb is None:
        return False
    if pa.key == pb.key:
        return True
    vague = [p for p in (pa, pb) if p.unstated and p.kind == "year"]
    return bool(vague) and pa.year == pb.year


def norm(text: str | None) -> str:
    """As read (NFKC), lower case, single spaces: how labels and periods are compared."""
    return " ".join(canonical(text or "").lower().split())


PERIOD_COLUMNS = ("period", "year", "quarter", "month", "date")


@dataclass(frozen=True)
class Dataset:
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
        """Each cell as a number by the one rule (a `0700` code is none), else None."""
        return [number_of(v) for v in self.frame.df[column]]

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


def datasets(spec: Spec, frames: dict[str, Frame]) -> list[Dataset]:
    """Each CSV once, as its first table (or else chart) shows it."""
    shown: list[tuple[str, str | None, str, dict[str, str] | None]] = [
        (t.data, next(iter(t.columns)) if t.columns else None, t.title, t.columns)
        for t in spec.brief.tables
    ]
    shown += [(c.data, c.x, c.title, c.labels) for c in spec.brief.charts]
    found: dict[str, Dataset] = {}
    for name, entity, title, labels in shown:  # a table's entity: its first shown column
        frame = frames.get(name)
        if frame is None or name in found or frame.df.columns.empty:
            continue
        column = str(frame.df.columns[0]) if entity is None else entity
        found[name] = Dataset(name, frame, column, title, dict(labels or {}))
    return [d for d in found.values() if d.entity in d.frame.df.columns]


def figure_of(metric: Metric) -> Figure:
    """Value, unit, period, source and range end: what an acceptance of a finding binds to."""
    return Figure(metric.value, metric.unit or "", metric.period or "", metric.source, metric.high)
