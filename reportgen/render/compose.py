"""Stage 3: a checked brief -> a render-ready `Document` (document.py), every view resolved.

Everything the page shows is resolved in citation order (the market block, verdict,
sections with their tables and charts, the sell-side views, risks, key figures), so
footnotes number as sources are first cited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from markupsafe import Markup

from reportgen.brief.data import format_with_unit
from reportgen.brief.integrity import Conflict
from reportgen.brief.integrity.freshness import is_stale
from reportgen.brief.models import Metric
from reportgen.brief.validate import Checked
from reportgen.render.backmatter import call_history
from reportgen.render.changes import Snapshot, compare, take_snapshot
from reportgen.render.charts import REDRAW, ChartStore, build_chart
from reportgen.render.document import (
    Document,
    KeyFigureView,
    Reconciliation,
    RiskView,
    SectionView,
    page_headings,
)
from reportgen.render.markdown import Citations, render_markdown
from reportgen.render.sellparts import SellSideParts
from reportgen.render.tables import build_table
from reportgen.render.valuecharts import PastCall

Partial = Callable[..., Markup]
"""Renders a template partial (table or chart) to HTML: partial(name, **context)."""

# Where the valuation section shows the target's Markdown, by the names its headings give.
MARKET_PLACES = {
    "market.method": "the target's method",
    "market.target_risks": "the target's risks",
}


def compose(
    checked: Checked,
    partial: Partial,
    generated: datetime,
    previous: Snapshot | None = None,
    calls: Sequence[PastCall] | None = None,
    charts: ChartStore = REDRAW,
) -> Document:
    """Resolve every helper, table, chart and footnote of a checked brief; compare with the
    previous build's snapshot, if any, for the changes box. `calls`: the delivered editions'
    ratings and targets for the price chart (default: the brief's market.history);
    `charts`: where drawn charts are kept (the project's chart cache)."""
    return Composer(checked, partial, calls, charts).compose(generated, previous)


class Composer(SellSideParts):
    """One brief's composition: every view in citation order (sellparts.py: the sell-side ones)."""

    def __init__(
        self,
        checked: Checked,
        partial: Partial,
        calls: Sequence[PastCall] | None = None,
        store: ChartStore = REDRAW,
    ):
        self.store = store
        self.calls = calls
        self.checked = checked
        self.spec = checked.spec
        self.brief = checked.spec.brief
        self.partial = partial
        self.cite = Citations(self.brief.sources)
        self.metrics = {m.id: m for m in self.brief.metrics}
        self.tables = {t.id: t for t in self.brief.tables}
        self.charts = {c.id: c for c in self.brief.charts}
        self.figures: list[list[str]] = []  # [kind, title] of each table and chart shown

    def compose(self, generated: datetime, previous: Snapshot | None) -> Document:
        market = self.market()  # page one, above the verdict: its sources are cited first
        verdict = self.markdown("verdict.summary")
        sections = [self.section(i) for i in range(len(self.brief.sections))]
        sellside = self.rest(market)
        risks = [self.risk(i) for i in range(len(self.brief.risks))]
        key_figures = [self.key_figure(m) for m in self.brief.metrics if m.key]
        reconciliations = self.reconciliations()
        # every h2 the page shows, in order: what PDF verification looks for. Check
        # messages are for the author (check, build output, findings.json), never the page.
        headings = page_headings(
            [s.title for s in sections], sellside.titles, bool(reconciliations)
        )
        snapshot = take_snapshot(
            self.spec.brief_id,
            self.brief,
            generated.isoformat(),
            [h.title for h in headings],  # what PDF verification looks for
            [(n, source.title) for n, _, source in self.cite.listed()],
            self.figures + sellside.figures,  # each must carry its source line
            previous.calls_delivered() if previous else [],
        )
        return Document(
            brief=self.brief,
            brief_id=self.spec.brief_id,
            generated=generated,
            verdict_html=verdict,
            sections=sections,
            risks=risks,
            key_figures=key_figures,
            reconciliations=reconciliations,
            sources=self.cite.listed(),
            snapshot=snapshot,
            changes=compare(previous, snapshot),
            headings=headings,
            draft=not self.checked.publishable,
            history=call_history(self.brief, snapshot.delivered_calls),
            stale={m.id: period for m in self.brief.metrics if (period := self.as_of(m))},
            sellside=sellside,
        )

    def markdown(self, key: str) -> Markup:
        doc = self.spec.docs.get(key)
        if doc is None or not doc.text.strip():
            return Markup()
        return render_markdown(doc, self.helper, self.spec.root, self.spec.limits)

    def helper(self, name: str, arg: str) -> Markup:
        if name == "metric":
            return self.metric_html(self.metrics[arg])
        if name == "cite":
            return self.cite.mark(arg)
        if name == "table":
            return self.table_html(arg)
        return self.chart_html(arg)

    def metric_html(self, metric: Metric) -> Markup:
        view = self.key_figure(metric)  # the figure as key figures show it, in the text
        tag = Markup(' <span class="as-of">as of {}</span>').format(view.as_of)
        return Markup('<span class="metric"><span class="figure">{}</span>{}{}</span>').format(
            view.value, view.marks, tag if view.as_of else ""
        )

    def as_of(self, metric: Metric) -> str | None:
        """The period of a figure older than the brief's limits: readers see how old it is."""
        return metric.period if metric.period and is_stale(self.brief, metric) else None

    def table_html(self, table_id: str) -> Markup:
        table = self.tables[table_id]
        view = build_table(table, self.checked.frames[table.data], self.cite.mark, self.cite.credit)
        self.figures.append(["table", view.title])
        return self.partial("table.html.j2", table=view)

    def chart_html(self, chart_id: str) -> Markup:
        chart = self.charts[chart_id]
        frame = self.checked.frames[chart.data]
        view = build_chart(chart, frame, self.cite.credit, self.series_label, self.store)
        self.figures.append(["chart", view.title])
        return self.partial("chart.html.j2", chart=view)

    def series_label(self, value: str) -> str:
        source = self.brief.sources.get(value)
        if source is None:
            return value
        return f"{source.short or value} [{self.cite.number(value)}]"

    def section(self, index: int) -> SectionView:
        section = self.brief.sections[index]
        key = f"sections[{index}].body"
        html = self.markdown(key)
        inline = {(call.name, call.arg) for call in self.checked.helpers.get(key, [])}
        # a table or chart placed in the body stands there "instead of after the body"
        html += Markup().join(
            [self.table_html(t) for t in section.tables if ("table", t) not in inline]
            + [self.chart_html(c) for c in section.charts if ("chart", c) not in inline]
        )
        return SectionView(section.title, f"section-{index + 1}", html)

    def risk(self, index: int) -> RiskView:
        risk = self.brief.risks[index]
        html = self.markdown(f"risks[{index}].body")
        marks = self.cite.marks(risk.sources)
        return RiskView(index + 1, risk.title, risk.likelihood, risk.impact, html, marks)

    def key_figure(self, metric: Metric) -> KeyFigureView:
        value = format_with_unit(metric.value, metric.unit, metric.high)
        marks = self.cite.mark(metric.source)
        return KeyFigureView(metric.label, value, metric.period, marks, self.as_of(metric))

    def reconciliations(self) -> list[Reconciliation]:
        """Every figure the sources disagree on: each value with its source, and which is used."""
        usage, mark = self.metric_usage(), self.cite.mark
        return [
            Reconciliation(
                c.label,
                c.period,
                [(r.text, mark(r.source)) for r in c.values],
                c.spread,
                _used(c, usage, mark),
                self.checked.review.reason_for(c.finding),
            )
            for c in self.checked.conflicts
        ]

    def metric_usage(self) -> dict[str, list[str]]:
        """metric id -> where the brief shows it: key figures, verdict, section and risk titles."""
        places = {m.id: ["key figures"] for m in self.brief.metrics if m.key}
        for doc_key, calls in self.checked.helpers.items():
            where = self.place_name(doc_key)
            for call in calls:
                if call.name == "metric" and where not in places.setdefault(call.arg, []):
                    places[call.arg].append(where)
        return places

    def place_name(self, doc_key: str) -> str:
        """'sections[2].body' -> the section's title, as a reader finds it."""
        kind, _, rest = doc_key.partition("[")
        index = int(rest.partition("]")[0] or 0)
        if kind == "sections":
            return f"'{self.brief.sections[index].title}'"
        if kind == "risks":
            return f"risk {index + 1}"
        return MARKET_PLACES.get(doc_key, "verdict")


def _used(conflict: Conflict, usage: dict[str, list[str]], mark: Callable[[str], Markup]) -> Markup:
    """Which value the brief uses where, as HTML, e.g. '35.8%[3] in key figures,
    verdict; 36%[2] in 'China'': each value with its source's footnote mark, as a reader
    knows it (a source id is the author's name for it, not the reader's)."""
    parts = []
    for r in conflict.values:
        if r.metric_id is not None:
            where = usage.get(r.metric_id)
            shown = f"in {', '.join(where)}" if where else "not shown"
            parts.append(Markup("{}{} {}").format(r.text, mark(r.source), shown))
    if conflict.table is not None:
        parts.append(Markup("every value shown in &#39;{}&#39;").format(conflict.table))
    return Markup("; ").join(parts)
