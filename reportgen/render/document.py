"""Stage 3: a checked brief -> a render-ready `Document`, the plain values templates read.

Everything the page shows is resolved here, in citation order (verdict, sections with
their tables and charts, risks, key figures), so footnotes number as sources are first
cited. The page contract, the headed sections every page shows, is defined here once:
the template renders the fixed ones from PAGE, the snapshot lists every heading, and PDF
verification looks for those titles; a template that drops one is an error naming its
block, not a PDF verification failure that does not say why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from markupsafe import Markup

from reportgen.brief.data import format_with_unit
from reportgen.brief.integrity import Conflict
from reportgen.brief.integrity.freshness import is_stale
from reportgen.brief.models import Author, Brief, Metric, Source
from reportgen.brief.validate import Checked
from reportgen.render.backmatter import CallRow, call_history
from reportgen.render.changes import Changes, Snapshot, compare, take_snapshot
from reportgen.render.charts import REDRAW, ChartStore, PastCall, build_chart
from reportgen.render.markdown import FOOTNOTE_MARK, render_markdown
from reportgen.render.sellside import SellSide, SellSideComposer
from reportgen.render.tables import build_table


@dataclass(frozen=True)
class Part:
    """A headed section of the page (an <h2> it must show): the template block that renders
    it, its title, its id."""

    block: str
    title: str
    anchor: str = ""


@dataclass(frozen=True)
class PageContract:
    """The fixed sections of brief.html.j2, in page order around the brief's own sections."""

    sections_block: str = "sections"  # renders the brief's sections, one <h2> each
    sellside_block: str = "sellside"  # v1.1: valuation and catalysts, after the sections
    risks: Part = Part("risks", "Risks", "risks")
    reconciliation: Part = Part("appendix", "Source reconciliation", "appendix")
    sources: Part = Part("sources", "Sources", "sources")


PAGE = PageContract()


def page_headings(
    section_titles: Sequence[str], sellside_titles: Sequence[str], appendix: bool
) -> list[Part]:
    """Every <h2> of the page, in order: what the rendered HTML and the PDF must show."""
    headings = [Part(PAGE.sections_block, title) for title in section_titles]
    headings += [Part(PAGE.sellside_block, title) for title in sellside_titles]
    return [*headings, PAGE.risks, *([PAGE.reconciliation] if appendix else []), PAGE.sources]


_H2 = re.compile(r"<h2\b[^>]*>(.*?)</h2\s*>", re.DOTALL | re.IGNORECASE)


def missing_headings(html: str, headings: Sequence[Part]) -> list[Part]:
    """The headings no <h2> of the rendered page contains (as PDF verification compares)."""
    shown = [flat(Markup(m.group(1)).striptags()) for m in _H2.finditer(html)]
    return [h for h in headings if not any(flat(h.title) in text for text in shown)]


def flat(text: str) -> str:
    """Whitespace and case as a PDF may show them (wrapped lines, uppercase headings)."""
    return " ".join(text.split()).lower()


LEVELS = ("low", "medium", "high")
RUNNING_WIDTH = 110
NUMBERED_BLOCKS = (PAGE.sections_block, PAGE.sellside_block, PAGE.risks.block)


@dataclass(frozen=True)
class KeyFigureView:
    label: str
    value: str
    period: str | None
    marks: Markup
    as_of: str | None = None  # the period of a stale figure, tagged "as of" for the reader


@dataclass(frozen=True)
class SectionView:
    title: str
    anchor: str
    html: Markup


@dataclass(frozen=True)
class RiskView:
    number: int
    title: str
    likelihood: str
    impact: str
    html: Markup
    marks: Markup


@dataclass(frozen=True)
class Reconciliation:
    label: str
    period: str | None
    values: list[tuple[str, Markup]]  # (formatted value, marks)
    spread: str
    used: Markup  # which value the brief shows where, with footnote marks
    reason: str | None = None  # the reviewer's, from review.yaml, once accepted


@dataclass
class Document:
    brief: Brief
    brief_id: str
    generated: datetime
    verdict_html: Markup
    sections: list[SectionView]
    risks: list[RiskView]
    key_figures: list[KeyFigureView]
    reconciliations: list[Reconciliation]
    sources: list[tuple[int, str, Source]]
    snapshot: Snapshot  # this build, stored for the next one and for verification
    changes: Changes  # vs the previous build's snapshot; the box shows when changes.any
    headings: list[Part]  # every <h2> of the page, in order (the contract)
    draft: bool = False  # an open finding: marked DRAFT on every page, never emailed
    history: list[CallRow] = field(default_factory=list)  # the back matter's rating history
    stale: dict[str, str] = field(default_factory=dict)  # metric id -> period, tagged "as of"
    sellside: SellSide = field(default_factory=SellSide)  # v1.1: market, comps, catalysts

    @property
    def risk_matrix(self) -> list[tuple[str, list[list[RiskView]]]]:
        """Rows by likelihood (high first), columns by impact (low to high)."""
        risks = self.risks
        return [
            (lik, [[r for r in risks if (r.likelihood, r.impact) == (lik, i)] for i in LEVELS])
            for lik in reversed(LEVELS)
        ]

    @property
    def as_of(self) -> date:
        return self.brief.as_of

    @property
    def analysts(self) -> list[Author]:
        return self.brief.authors

    @property
    def running_head(self) -> str:
        """The running header: subject, ticker, title, on one line. Shortened with "…" past
        RUNNING_WIDTH half-width characters (a CJK character counts two), which 7.5 pt type
        fits across the A4 text block."""
        subject = self.brief.subject
        ticker = f"{subject.exchange}: {subject.ticker}" if subject.exchange else subject.ticker
        text = " · ".join(part for part in (subject.name, ticker or "", self.brief.title) if part)
        width = 0
        for i, char in enumerate(text):
            width += 2 if unicodedata.east_asian_width(char) in "WF" else 1
            if width > RUNNING_WIDTH:
                return text[:i].rstrip(" ·") + "…"
        return text

    @property
    def rated(self) -> bool:
        """A rating on the page: the firm's disclosures apply, never a "not a recommendation"."""
        return bool(self.brief.market and self.brief.market.rating)

    @property
    def top_risks(self) -> list[RiskView]:
        """The three risks that score highest on likelihood × impact (ties: the author's order)."""
        score = {level: i + 1 for i, level in enumerate(LEVELS)}
        ranked = sorted(self.risks, key=lambda r: -score[r.likelihood] * score[r.impact])
        return ranked[:3]

    def number(self, title: str) -> int | None:
        """The number of a numbered section (the brief's own, the sell-side ones, Risks):
        consecutive down the page; the appendix, sources and back matter have none."""
        numbered = [h.title for h in self.headings if h.block in NUMBERED_BLOCKS]
        last = max((i for i, t in enumerate(numbered) if t == title), default=None)
        return None if last is None else last + 1

    def shows(self, part: Part) -> bool:
        """Does the page show this fixed section? (the appendix only when it has something)"""
        return part in self.headings

    def source_number(self, source_id: str) -> int | None:
        """A listed source's footnote number (for marks outside the text: the changes box)."""
        return next((n for n, sid, _ in self.sources if sid == source_id), None)


Partial = Callable[..., Markup]
"""Renders a template partial (table or chart) to HTML: partial(name, **context)."""


class Citations:
    """Numbers sources in the order they are first cited; renders footnote marks."""

    def __init__(self, sources: dict[str, Source]):
        self.sources = sources
        self.order: dict[str, int] = {}  # source id -> its number

    def number(self, source_id: str) -> int:
        return self.order.setdefault(source_id, len(self.order) + 1)

    def mark(self, source_id: str) -> Markup:
        return Markup(FOOTNOTE_MARK).format(n=self.number(source_id))

    def credit(self, source_id: str) -> Markup:
        """A source line's entry: the source's short name (else its title), then its mark."""
        source = self.sources[source_id]
        return Markup("{}{}").format(source.short or source.title, self.mark(source_id))

    def listed(self) -> list[tuple[int, str, Source]]:
        return [(n, sid, self.sources[sid]) for sid, n in self.order.items()]


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
    return _Composer(checked, partial, calls, charts).compose(generated, previous)


class _Composer:
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
        side = SellSideComposer(
            self.checked, self.cite.mark, self.cite.credit, self.markdown, self.calls, self.store
        )
        market = side.market()  # page one, above the verdict: its sources are cited first
        verdict = self.markdown("verdict.summary")
        sections = [self.section(i) for i in range(len(self.brief.sections))]
        sellside = side.rest(market)
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
        value = format_with_unit(metric.value, metric.unit, metric.high)
        mark = self.cite.mark(metric.source)
        as_of = self.as_of(metric)
        tag = Markup(' <span class="as-of">as of {}</span>').format(as_of) if as_of else ""
        return Markup('<span class="metric"><span class="figure">{}</span>{}{}</span>').format(
            value, mark, tag
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
        marks = Markup().join(self.cite.mark(s) for s in risk.sources)
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
        places: dict[str, list[str]] = {}
        for m in self.brief.metrics:
            if m.key:
                places.setdefault(m.id, []).append("key figures")
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
        return f"risk {index + 1}" if kind == "risks" else "verdict"


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
