"""The brief's figures as a reader sees them, for the checks: CSVs through the table
(or else chart) that shows them, which column names the entity and what its columns are
labelled; a metric as the Figure a finding about it binds to.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.brief.data import Frame, number_of
from reportgen.brief.models import Metric
from reportgen.brief.spec import Spec
from reportgen.errors import Figure

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
    found: dict[str, Dataset] = {}
    for table in spec.brief.tables:
        frame = frames.get(table.data)
        if frame is None or table.data in found or frame.df.columns.empty:
            continue
        entity = next(iter(table.columns)) if table.columns else str(frame.df.columns[0])
        found[table.data] = Dataset(
            table.data, frame, entity, table.title, dict(table.columns or {})
        )
    for chart in spec.brief.charts:
        frame = frames.get(chart.data)
        if frame is not None and chart.data not in found:
            found[chart.data] = Dataset(
                chart.data, frame, chart.x, chart.title, dict(chart.labels or {})
            )
    return [d for d in found.values() if d.entity in d.frame.df.columns]


def figure_of(metric: Metric) -> Figure:
    """Value, unit, period, source and range end: what an acceptance of a finding binds to."""
    return Figure(metric.value, metric.unit or "", metric.period or "", metric.source, metric.high)
