"""Stage 3b: the composer's part that makes the sell-side views (sellside.py).

Composed in reading order, so footnotes stay in first-cited order: the market block (page
one) before the verdict, the rest after the body sections. A computed figure carries the
marks of its inputs' sources (a multiple its row's, the peer median every peer's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup

from reportgen.brief.catalysts import timeline
from reportgen.brief.data import decimals_for, format_number
from reportgen.brief.estimates import Summary, financial_summary, key_data
from reportgen.brief.market import market_value, target_text, upside
from reportgen.brief.models import CASES, Brief
from reportgen.brief.scenarios import Measured, measure, reward_level, risk_level
from reportgen.brief.validate import Checked
from reportgen.brief.valuation import (
    NOT_AVAILABLE,
    Value,
    compute_comps,
    format_premium,
    format_value,
)
from reportgen.config import RewardLevels, RiskLevels
from reportgen.render import sellside as view
from reportgen.render.charts import ChartStore, ChartView
from reportgen.render.markdown import Citations
from reportgen.render.valuecharts import PastCall, draw_price_chart, draw_risk_reward, price_points


class SellSideParts:
    """The composer's sell-side views (compose.Composer): `market()` first (page one),
    `rest()` after the body sections."""

    checked: Checked
    brief: Brief
    cite: Citations
    calls: Sequence[PastCall] | None  # the delivered editions' ratings and targets, if known
    store: ChartStore
    markdown: Callable[[str], Markup]  # a Markdown field's HTML, by key

    def market(self) -> view.MarketView | None:
        market = self.brief.market
        if market is None:
            return None
        marks, cur = self.cite.mark(market.source), market.currency
        price = f"{cur} {format_number(market.price, 2)}"
        figures = [view.Figure("Price", price, marks, market.date.isoformat())]
        if (value := market_value(market)) is not None:
            shares, worth = format_number(market.shares or 0), f"{cur} {format_number(value, 1)}bn"
            figures.append(view.Figure("Market value", worth, marks, f"{shares}bn shares × price"))
        gain = upside(market)
        if market.target is not None and gain is not None:
            horizon, how = market.horizon or "", "target ÷ price − 1"
            figures += [
                view.Figure("Price target", target_text(market), marks, horizon, True),
                view.Figure("Upside to target", format_premium(gain), marks, how, True),
            ]
        shown = self.illustrative({market.source})
        return view.MarketView(market.rating, figures, shown, self.key_data())

    def key_data(self) -> list[view.Figure]:
        """The 52-week high and low and the 12-month change, from the prices CSV."""
        market = self.brief.market
        if self.brief.prices is None or market is None:
            return []
        found = key_data(price_points(self.checked.frames[self.brief.prices]), market)
        if found is None:
            return []
        marks, cur = self.cite.mark(market.source), market.currency
        window = f"closes from {found.since.isoformat()}"
        figures = [
            view.Figure("52-week high", f"{cur} {format_number(found.high, 2)}", marks, window),
            view.Figure("52-week low", f"{cur} {format_number(found.low, 2)}", marks, window),
        ]
        if found.change is not None and found.year_ago is not None:
            how = f"price ÷ close of {found.year_ago.isoformat()} − 1"
            figures.append(view.Figure("12-month change", format_premium(found.change), marks, how))
        return figures

    def rest(self, market: view.MarketView | None) -> view.SellSide:
        """The views after the body: target, scenarios and the financial summary, the price
        chart and comparables (the valuation section), then catalysts."""
        target, scenarios, summary = self.target(), self.scenarios(), self.summary()
        comps, chart = self.comps(), self.price_chart()
        return view.SellSide(market, comps, chart, self.catalysts(), target, scenarios, summary)

    def target(self) -> view.TargetView | None:
        market = self.brief.market
        if market is None or market.target is None:
            return None
        method, risks = self.markdown("market.method"), self.markdown("market.target_risks")
        if not method and not risks:
            return None
        return view.TargetView(target_text(market), market.horizon or "", method, risks)

    def scenarios(self) -> view.ScenariosView | None:
        measured = measure(self.brief)
        market = self.brief.market
        if measured is None or market is None:
            return None
        cases = [self.case(measured, name, market.source) for name in CASES]
        every = [sid for s in self.brief.scenarios for sid in s.sources]
        weighted = (
            format_number(measured.weighted, 2),  # the column heading names the currency
            self.cite.marks(every),
            format_premium(measured.weighted_upside),
            self.cite.marks([market.source, *every]),
        )
        chart = draw_risk_reward(
            measured, market.target, market.currency, view.RISK_REWARD_TITLE, self.store
        )
        # the price's source first: it is cited on page one, so its mark is the lowest
        credit = self.cite.credits([market.source, *every])
        shown = self.illustrative({*every, market.source})
        implied = self.implied(measured)
        return view.ScenariosView(market.currency, cases, weighted, implied, chart, credit, shown)

    def case(self, measured: Measured, name: str, price_source: str) -> view.CaseView:
        scenario = measured.cases[name]
        return view.CaseView(
            name.capitalize(),
            format_number(scenario.value, 2),
            self.cite.marks(scenario.sources),
            format_premium(measured.upside(name)),
            self.cite.marks([price_source, *scenario.sources]),
            f"{format_number(scenario.probability * 100)}%",
            scenario.drivers,
        )

    def implied(self, measured: Measured) -> list[view.Implied]:
        """The reward and risk levels the bull and bear cases imply, beside the stated ones."""
        levels = self.checked.verdict
        verdict = self.brief.verdict
        bull, bear = measured.upside("bull"), measured.upside("bear")
        return [
            view.Implied(
                "Reward", verdict.reward, reward_level(bull, levels.reward), "bull",
                format_premium(bull), _thresholds(levels.reward, "from"),
            ),
            view.Implied(
                "Risk", verdict.risk, risk_level(bear, levels.risk), "bear",
                format_premium(bear), _thresholds(levels.risk, "at"),
            ),
        ]  # fmt: skip

    def summary(self) -> view.SummaryView | None:
        estimates = self.brief.estimates
        if estimates is None:
            return None
        found = financial_summary(estimates, self.checked.frames[estimates.data], self.brief.market)
        years = [(y.label, self.cite.marks(y.sources)) for y in found.years]
        money = f"{estimates.currency} {estimates.unit}"
        rows = [
            self.figure_row(f"Revenue ({money})", found, "revenue"),
            ("Revenue growth", Markup(), [format_premium(v) for v in found.growth]),
            self.figure_row(f"EBITDA ({money})", found, "ebitda"),
            ("EBITDA margin", Markup(), [_share(v) for v in found.margin]),
            self.figure_row(f"EPS ({estimates.currency})", found, "eps", 2),
        ]
        market = self.brief.market
        price_mark = self.cite.mark(market.source) if market else Markup()
        if found.pe is not None:
            pe = [format_value(v, True) for v in found.pe]
            rows.append(("P/E at the current price", price_mark, pe))
        rows.append(self.figure_row(f"FCF ({money})", found, "fcf"))
        if found.fcf_yield is not None:
            fcf_yield = [_share(v) for v in found.fcf_yield]
            rows.append(("FCF yield on market value", price_mark, fcf_yield))
        ids = ([market.source] if market else []) + [s for y in found.years for s in y.sources]
        return view.SummaryView(years, rows, self.illustrative(set(ids)), self.cite.credits(ids))

    def figure_row(
        self, label: str, found: Summary, column: str, places: int | None = None
    ) -> tuple[str, Markup, list[str]]:
        """A row of figures as given, at one precision for the row."""
        values = [y.figures[column] for y in found.years]
        if places is None:
            places = max(1, decimals_for([v for v in values if v is not None], 2))
        cells = [NOT_AVAILABLE if v is None else format_number(v, places) for v in values]
        return label, Markup(), cells

    def price_chart(self) -> ChartView | None:
        market = self.brief.market
        if self.brief.prices is None or market is None:
            return None
        points = price_points(self.checked.frames[self.brief.prices])
        if self.calls is not None:  # the calls to mark: the delivered editions' when known
            calls = list(self.calls)
        else:  # else market.history and today's call
            calls = [PastCall(c.date, c.rating, c.target) for c in market.history]
            calls.append(PastCall(market.date, market.rating, market.target))
        calls.sort(key=lambda c: c.date)
        title = f"Share price and price target ({market.currency})"
        svg = draw_price_chart(points, calls, market.currency, title, self.store)
        return ChartView("price-history", title, svg, self.cite.credit(market.source))

    def comps(self) -> view.CompsView | None:
        valuation = self.brief.valuation
        if valuation is None:
            return None
        comps = compute_comps(valuation, self.checked.frames[valuation.data])

        def cells(values: Sequence[Value]) -> list[str]:
            return [format_value(v, comps.divisions[j]) for j, v in enumerate(values)]

        rows = [
            (r.name, cells(r.values), r.subject, self.cite.marks(r.sources)) for r in comps.rows
        ]
        median = (cells(comps.median), self.cite.marks(comps.peer_sources))
        shown = self.illustrative({s for r in comps.rows for s in r.sources})
        # the subject's row, marked with the subject's and every peer's sources
        premium: tuple[list[str], Markup] | None = None
        if (subject := comps.subject_row) is not None:
            marks = self.cite.marks([*subject.sources, *comps.peer_sources])
            premium = [format_premium(p) for p in comps.premium], marks
        return view.CompsView(
            comps.entity, comps.labels, rows, median, premium, valuation.subject, shown
        )

    def illustrative(self, source_ids: set[str]) -> bool:
        """Does any of these sources call itself illustrative (in its title)?"""
        sources = self.brief.sources
        return any("illustrative" in sources[s].title.lower() for s in source_ids if s in sources)

    def catalysts(self) -> list[view.CatalystView]:
        views = []
        for dated in timeline(self.brief.catalysts):
            c = dated.catalyst
            marks = self.cite.marks(c.sources)
            past = dated.when.end < self.brief.as_of
            views.append(view.CatalystView(dated.when.text, c.event, c.watch, marks, past))
        return views


def _share(value: Value) -> str:
    """A margin or a yield: '23.5%' (a negative one with a minus sign)."""
    return value if isinstance(value, str) else f"{format_number(value * 100, 1)}%"


def _thresholds(levels: RewardLevels | RiskLevels, word: str) -> str:
    """'medium from +20.0%, high from +50.0%, very high from +100.0%'."""
    pairs = (("medium", levels.medium), ("high", levels.high), ("very high", levels.very_high))
    return ", ".join(f"{name} {word} {format_premium(value)}" for name, value in pairs)
