"""Stage 3b: the v1.1 and v1.2 views (market block, comparables, catalysts, price chart,
target, scenarios, financial summary) the templates show; sellparts.py makes them."""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from reportgen.render.charts import ChartView

RISK_REWARD_TITLE = "Risk and reward: the price against the scenarios"


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
    key_data: list[Figure] = field(default_factory=list)  # 52-week range, 12-month change


@dataclass(frozen=True)
class CaseView:
    """One scenario row: each cell with the marks of its inputs."""

    case: str  # "Bull"
    value: str
    marks: Markup  # the value's sources
    upside: str  # to the price now
    upside_marks: Markup  # the value's sources and the price's
    probability: str
    drivers: str


@dataclass(frozen=True)
class Implied:
    """A verdict level as the scenarios imply it, beside the one the brief states."""

    what: str  # "Reward" or "Risk"
    stated: str
    implied: str
    case: str  # "bull" or "bear"
    upside: str  # the case's upside or downside
    thresholds: str  # 'medium from +20.0%, high from +50.0%, very high from +100.0%'


@dataclass(frozen=True)
class ScenariosView:
    currency: str
    cases: list[CaseView]  # bull, base, bear
    weighted: tuple[str, Markup, str, Markup]  # value, its marks, upside, its marks (+ price's)
    implied: list[Implied]  # reward, then risk
    chart: Markup  # the risk-reward chart's SVG
    chart_marks: Markup  # the source line
    illustrative: bool
    title: str = "Scenarios: value per share"
    chart_title: str = RISK_REWARD_TITLE


@dataclass(frozen=True)
class TargetView:
    """How the target is derived and what could stop the price reaching it (trusted HTML)."""

    target: str
    horizon: str
    method_html: Markup
    risks_html: Markup


@dataclass(frozen=True)
class SummaryView:
    """The financial summary, one column per year: rows of (label, marks, cells)."""

    years: list[tuple[str, Markup]]  # '2026E' and its row's marks
    rows: list[tuple[str, Markup, list[str]]]
    illustrative: bool
    credit: Markup  # the source line: every year's sources and the price's
    title: str = "Financial summary"


@dataclass(frozen=True)
class CompsView:
    entity: str
    headers: list[str]
    rows: list[tuple[str, list[str], bool, Markup]]  # name, cells, is subject, marks
    median: tuple[list[str], Markup]  # cells, marks
    premium: tuple[list[str], Markup] | None  # None when the subject has no row
    subject: str
    illustrative: bool  # a row's source says it is illustrative: the page says so too
    title: str = "Comparables: valuation multiples"


@dataclass(frozen=True)
class CatalystView:
    when: str
    event: str
    watch: str | None
    marks: Markup
    past: bool


@dataclass
class SellSide:
    """Everything v1.1 adds to the page; empty lists and None when the brief has none."""

    market: MarketView | None = None
    comps: CompsView | None = None
    price_chart: ChartView | None = None
    catalysts: list[CatalystView] = field(default_factory=list)
    target: TargetView | None = None  # v1.2: method and risks to the target
    scenarios: ScenariosView | None = None
    summary: SummaryView | None = None

    @property
    def valuation(self) -> bool:
        """Does the page show the valuation section?"""
        parts = (self.comps, self.price_chart, self.target, self.scenarios, self.summary)
        return any(p is not None for p in parts)

    @property
    def titles(self) -> list[str]:
        """The h2 titles these views add, in page order (for PDF verification)."""
        titles = ["Valuation"] if self.valuation else []
        return titles + (["Catalysts"] if self.catalysts else [])

    @property
    def next_catalysts(self) -> list[tuple[int, CatalystView]]:
        """The next two catalysts on or after `as_of` with their place in the timeline
        (1-based: the anchor page one links to)."""
        return [(i, c) for i, c in enumerate(self.catalysts, 1) if not c.past][:2]

    @property
    def figures(self) -> list[list[str]]:
        """[kind, title] of the charts and tables these views add, each with a source line."""
        scenarios = self.scenarios
        figures = [["chart", scenarios.chart_title]] if scenarios else []
        figures += [["table", self.summary.title]] if self.summary else []
        figures += [["chart", self.price_chart.title]] if self.price_chart else []
        return figures + ([["table", self.comps.title]] if self.comps else [])
