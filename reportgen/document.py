"""Stage 3: a checked brief -> a render-ready `Document`.

Everything the page shows is resolved here, in the contract's citation order
(verdict, sections with their tables and charts, risks, key figures), so that
footnote numbers follow the order in which sources are first cited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from .charts import ChartView, build_chart
from .data import format_with_unit
from .markdown import render_markdown
from .models import Brief, Metric, Source
from .tables import TableView, build_table
from .validate import Checked

Partial = Callable[..., str]
"""Renders a template partial (table or chart) to trusted HTML: partial(name, **context)."""

LEVELS = ("low", "medium", "high")


class Citations:
    """Numbers sources in the order they are first cited; renders footnote marks."""

    def __init__(self, sources: dict[str, Source]):
        self.sources = sources
        self.order: list[str] = []

    def number(self, source_id: str) -> int:
        if source_id not in self.order:
            self.order.append(source_id)
        return self.order.index(source_id) + 1

    def mark(self, source_id: str) -> str:
        n = self.number(source_id)
        return f'<sup class="fn"><a href="#source-{n}">[{n}]</a></sup>'

    def listed(self) -> list[tuple[int, str, Source]]:
        return [(i + 1, sid, self.sources[sid]) for i, sid in enumerate(self.order)]


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: str
    period: str | None
    marks: str


@dataclass(frozen=True)
class SectionView:
    title: str
    anchor: str
    html: str


@dataclass(frozen=True)
class RiskView:
    number: int
    title: str
    likelihood: str
    impact: str
    html: str
    marks: str


@dataclass(frozen=True)
class Reconciliation:
    label: str
    period: str | None
    values: list[tuple[str, str]]  # (formatted value, trusted marks)
    spread: str
    used: str


@dataclass
class Document:
    brief: Brief
    brief_id: str
    generated: datetime
    verdict_html: str
    sections: list[SectionView]
    risks: list[RiskView]
    key_figures: list[KeyFigure]
    reconciliations: list[Reconciliation]
    sources: list[tuple[int, str, Source]]
    notes: list[str] = field(default_factory=list)

    @property
    def risk_matrix(self) -> list[tuple[str, list[list[RiskView]]]]:
        """Rows by likelihood (high first), columns by impact (low to high)."""
        return [
            (lik, [[r for r in self.risks if r.likelihood == lik and r.impact == imp] for imp in LEVELS])
            for lik in reversed(LEVELS)
        ]

    @property
    def as_of(self) -> date:
        return self.brief.as_of


def compose(checked: Checked, partial: Partial, generated: datetime) -> Document:
    """Resolve every helper, table, chart and footnote of a checked brief."""
    return _Composer(checked, partial).compose(generated)


class _Composer:
    def __init__(self, checked: Checked, partial: Partial):
        self.checked = checked
        self.spec = checked.spec
        self.brief = checked.spec.brief
        self.partial = partial
        self.cite = Citations(self.brief.sources)
        self.metrics = {m.id: m for m in self.brief.metrics}
        self.tables = {t.id: t for t in self.brief.tables}
        self.charts = {c.id: c for c in self.brief.charts}

    def compose(self, generated: datetime) -> Document:
        verdict = self.markdown("verdict.summary")
        sections = [self.section(i) for i in range(len(self.brief.sections))]
        risks = [self.risk(i) for i in range(len(self.brief.risks))]
        key_figures = [self.key_figure(m) for m in self.brief.metrics if m.key]
        return Document(
            brief=self.brief,
            brief_id=self.spec.brief_id,
            generated=generated,
            verdict_html=verdict,
            sections=sections,
            risks=risks,
            key_figures=key_figures,
            reconciliations=self.reconciliations(),
            sources=self.cite.listed(),
            notes=[p.message for p in self.checked.warnings if "conflicting figures" not in p.message],
        )

    def markdown(self, key: str) -> str:
        doc = self.spec.docs.get(key)
        if doc is None or not doc.text.strip():
            return ""
        return render_markdown(doc, self.helper, self.spec.root)

    def helper(self, name: str, arg: str) -> str:
        if name == "metric":
            return self.metric_html(self.metrics[arg])
        if name == "cite":
            return self.cite.mark(arg)
        if name == "table":
            return self.table_html(arg)
        return self.chart_html(arg)

    def metric_html(self, metric: Metric) -> str:
        value = format_with_unit(metric.value, metric.unit, metric.high)
        mark = self.cite.mark(metric.source)
        return f'<span class="metric"><span class="figure">{_escape(value)}</span>{mark}</span>'

    def table_html(self, table_id: str) -> str:
        table = self.tables[table_id]
        view: TableView = build_table(table, self.checked.frames[table.data], self.cite.mark)
        return self.partial("table.html.j2", table=view)

    def chart_html(self, chart_id: str) -> str:
        chart = self.charts[chart_id]
        view: ChartView = build_chart(chart, self.checked.frames[chart.data], self.cite.mark, self.series_label)
        return self.partial("chart.html.j2", chart=view)

    def series_label(self, value: str) -> str:
        source = self.brief.sources.get(value)
        if source is None:
            return value
        return f"{source.short or value} [{self.cite.number(value)}]"

    def section(self, index: int) -> SectionView:
        section = self.brief.sections[index]
        html = self.markdown(f"sections[{index}].body")
        html += "".join(self.table_html(t) for t in section.tables)
        html += "".join(self.chart_html(c) for c in section.charts)
        return SectionView(section.title, f"section-{index + 1}", html)

    def risk(self, index: int) -> RiskView:
        risk = self.brief.risks[index]
        html = self.markdown(f"risks[{index}].body")
        marks = "".join(self.cite.mark(s) for s in risk.sources)
        return RiskView(index + 1, risk.title, risk.likelihood, risk.impact, html, marks)

    def key_figure(self, metric: Metric) -> KeyFigure:
        value = format_with_unit(metric.value, metric.unit, metric.high)
        return KeyFigure(metric.label, value, metric.period, self.cite.mark(metric.source))

    def reconciliations(self) -> list[Reconciliation]:
        """Metrics that share a label and period but not a value: every value, with its source."""
        groups: dict[tuple[str, str], list[Metric]] = {}
        for metric in self.brief.metrics:
            key = (metric.label.strip().lower(), (metric.period or "").strip().lower())
            groups.setdefault(key, []).append(metric)
        out = []
        for group in groups.values():
            if len({(m.value, m.high, m.unit) for m in group}) < 2:
                continue
            values = [(format_with_unit(m.value, m.unit, m.high), self.cite.mark(m.source)) for m in group]
            spread = max(m.value for m in group) - min(m.value for m in group)
            unit = group[0].unit
            spread_text = format_with_unit(spread, "pp" if unit == "%" else unit)
            used = f"{values[0][0]} (first listed) where a single figure is needed; both shown in the text"
            out.append(Reconciliation(group[0].label, group[0].period, values, spread_text, used))
        return out


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
