"""Stage 3b: the v1.1 views: the market block, the comparables, the catalysts, the price chart.

Composed in reading order so footnote numbers stay in first-cited order: the
market block (page one) before the verdict, the rest after the body sections.
A computed figure carries the marks of its inputs' sources: the market value
and the upside the market block's source, a multiple its row's, the peer
median and the premium every peer's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

from reportgen.brief.catalysts import timeline
from reportgen.brief.data import format_number
from reportgen.brief.market import market_value, upside
from reportgen.brief.models import Brief
from reportgen.brief.validate import Checked
from reportgen.brief.valuation import Comps, compute_comps, format_premium, format_value
from reportgen.render.charts import REDRAW, ChartStore
from reportgen.render.pricechart import PastCall, draw_price_chart, price_points

Cite = Callable[[str], Markup]
ILLUSTRATIVE = "illustrative"
VALUATION_TITLE = "Valuation against peers"
CATALYSTS_TITLE = "Catalysts"
COMPS_TITLE = "Comparables: valuation multiples"


@dataclass(frozen=True)
class Figure:
    """A figure of the market block: its text and footnote marks."""

    label: str
    value: str
    marks: Markup
    note: str = ""  # e.g. the horizon, or how it was computed
    call: bool = False  # part of the call (target, upside) rather than key data


@dataclass(frozen=True)
class MarketView:
    rating: str | None
    figures: list[Figure]
    illustrative: bool  # its source says it is illustrative: the page says so too


@dataclass(frozen=True)
class CompsView:
    entity: str
    headers: list[str]
    rows: list[tuple[str, list[str], bool, Markup]]  # name, cells, is subject, marks
    median: tuple[list[str], Markup]  # cells, marks
    premium: tuple[list[str], Markup] | None  # None when the subject has no row
    subject: str
    illustrative: bool  # a row's source says it is illustrative: the page says so too
    title: str = COMPS_TITLE


@dataclass(frozen=True)
class CatalystView:
    when: str
    event: str
    watch: str | None
    marks: Markup
    past: bool


@dataclass(frozen=True)
class PriceChart:
    title: str
    svg: str
    marks: Markup  # the source's name and footnote mark, for the source line


@dataclass
class SellSide:
    """Everything v1.1 adds to the page; empty lists and None when the brief has none."""

    market: MarketView | None = None
    comps: CompsView | None = None
    price_chart: PriceChart | None = None
    catalysts: list[CatalystView] = field(default_factory=list)

    @property
    def titles(self) -> list[str]:
        """The h2 titles these views add, in page order (for PDF verification)."""
        titles = [VALUATION_TITLE] if self.comps or self.price_chart else []
        return titles + ([CATALYSTS_TITLE] if self.catalysts else [])

    @property
    def next_catalysts(self) -> list[tuple[int, CatalystView]]:
        """The next two catalysts on or after `as_of` with their place in the timeline
        (1-based: the anchor page one links to)."""
        return [(i, c) for i, c in enumerate(self.catalysts, 1) if not c.past][:2]

    @property
    def figures(self) -> list[list[str]]:
        """[kind, title] of the chart and table these views add, each with a source line."""
        chart = [["chart", self.price_chart.title]] if self.price_chart else []
        return chart + ([["table", self.comps.title]] if self.comps else [])


class SellSideComposer:
    """`market()` first (page one), `rest()` after the body sections.
    `cite` gives a source's footnote mark, `credit` its name and mark (a figure's source line);
    `calls`: the delivered editions' ratings and targets, when the caller has them."""

    def __init__(
        self,
        checked: Checked,
        cite: Cite,
        credit: Cite,
        calls: Sequence[PastCall] | None = None,
        charts: ChartStore = REDRAW,
    ):
        self.charts = charts
        self.checked = checked
        self.brief: Brief = checked.spec.brief
        self.cite = cite
        self.credit = credit
        self.calls = calls

    def market(self) -> MarketView | None:
        market = self.brief.market
        if market is None:
            return None
        marks = self.cite(market.source)
        cur = market.currency
        figures = [
            Figure(
                "Price", f"{cur} {format_number(market.price, 2)}", marks, market.date.isoformat()
            )
        ]
        value = market_value(market)
        if value is not None:
            note = f"{format_number(market.shares or 0)}bn shares × price"
            figures.append(
                Figure("Market value", f"{cur} {format_number(value, 1)}bn", marks, note)
            )
        gain = upside(market)
        if market.target is not None and gain is not None:
            figures.append(
                Figure(
                    "Price target",
                    f"{cur} {format_number(market.target, 2)}",
                    marks,
                    market.horizon or "",
                    call=True,
                )
            )
            figures.append(
                Figure("Upside to target", format_premium(gain), marks, "target ÷ price − 1", True)
            )
        return MarketView(market.rating, figures, self.illustrative({market.source}))

    def rest(self, market: MarketView | None) -> SellSide:
        """The views after the body: price chart and comparables, then catalysts."""
        return SellSide(market, self.comps(), self.price_chart(), self.catalysts())

    def price_chart(self) -> PriceChart | None:
        brief = self.brief
        if brief.prices is None or brief.market is None:
            return None
        frame = self.checked.frames[brief.prices]
        title = f"Share price and price target ({brief.market.currency})"
        points, calls = price_points(frame), self.past_calls()
        svg = draw_price_chart(points, calls, brief.market.currency, title, self.charts)
        return PriceChart(title, svg, self.credit(brief.market.source))

    def past_calls(self) -> list[PastCall]:
        """The calls to mark: the editions' when given, else market.history and today's call."""
        if self.calls is not None:
            return sorted(self.calls, key=lambda c: c.date)
        market = self.brief.market
        assert market is not None
        calls = [PastCall(c.date, c.rating, c.target) for c in market.history]
        calls.append(PastCall(market.date, market.rating, market.target))
        return sorted(calls, key=lambda c: c.date)

    def comps(self) -> CompsView | None:
        valuation = self.brief.valuation
        if valuation is None:
            return None
        comps = compute_comps(valuation, self.checked.frames[valuation.data])
        rows = [
            (
                r.name,
                [format_value(v, comps.divisions[j]) for j, v in enumerate(r.values)],
                r.subject,
                Markup().join(self.cite(s) for s in r.sources),
            )
            for r in comps.rows
        ]
        peers = Markup().join(self.cite(s) for s in comps.peer_sources)
        median = ([format_value(v, comps.divisions[j]) for j, v in enumerate(comps.median)], peers)
        ids = {s for r in comps.rows for s in r.sources}
        shown = self.illustrative(ids)
        return CompsView(
            comps.entity, comps.labels, rows, median, self.premium(comps), valuation.subject, shown
        )

    def illustrative(self, source_ids: set[str]) -> bool:
        """Does any of these sources call itself illustrative (in its title)?"""
        sources = self.brief.sources
        return any(ILLUSTRATIVE in sources[s].title.lower() for s in source_ids if s in sources)

    def premium(self, comps: Comps) -> tuple[list[str], Markup] | None:
        """The subject's premium row, marked with the subject's and every peer's sources."""
        subject = comps.subject_row
        if subject is None:
            return None
        ids = dict.fromkeys([*subject.sources, *comps.peer_sources])
        return [format_premium(p) for p in comps.premium], Markup().join(self.cite(s) for s in ids)

    def catalysts(self) -> list[CatalystView]:
        views = []
        for dated in timeline(self.brief.catalysts):
            c = dated.catalyst
            marks = Markup().join(self.cite(s) for s in c.sources)
            past = dated.when.end < self.brief.as_of
            views.append(CatalystView(dated.when.text, c.event, c.watch, marks, past))
        return views
