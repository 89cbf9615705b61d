"""Stage 2c: the sell-side keys (market, prices, valuation, catalysts, scenarios, estimates)
checked, and their numbers cross-checked against each other and the brief's metrics.

Errors stop the build (an unknown source or rating, a target without a horizon, a bad
formula or CSV, an impossible date); warnings are findings (a stale price, a past
catalyst, a rating its upside does not earn, a metric stating a computed figure
differently: brief/market.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from reportgen.brief.catalysts import check_catalysts
from reportgen.brief.data import NA_WORDS, Frame, format_number, number_of
from reportgen.brief.estimates import FrameOf, KnownSource, check_estimates, no_column
from reportgen.brief.market import (
    Rating,
    ratings_for,
    stale_price,
    stated_figures,
    target_argued,
    upside,
)
from reportgen.brief.models import Market, Valuation
from reportgen.brief.scenarios import check_scenarios
from reportgen.brief.spec import Loc, Spec
from reportgen.brief.valuation import Comps, cell_text, compute_comps, parse_formula
from reportgen.config import DEFAULT_VERDICT, VerdictConfig
from reportgen.errors import FormulaError, Problem


def check_sellside(
    spec: Spec,
    frame_of: FrameOf,
    known_source: KnownSource,
    ratings: Sequence[Rating] | None = None,
    verdict: VerdictConfig = DEFAULT_VERDICT,
) -> list[Problem]:
    """Every v1.1 and v1.2 check; `ratings` is the [compliance] scale when the project has
    one, `verdict` the [verdict] thresholds."""
    brief = spec.brief
    problems: list[Problem] = []
    if brief.market is not None:
        problems += _market(spec, brief.market, known_source, ratings)
    if brief.prices is not None and brief.market is None:
        message = "a price chart needs a market block (its currency and source)"
        problems.append(spec.problem(("prices",), message))
    elif brief.prices is not None:
        problems += _prices(spec, frame_of(("prices",), brief.prices))
    comps = None
    if brief.valuation is not None:
        found, comps = _valuation(spec, brief.valuation, frame_of, known_source)
        problems += found
    for i, catalyst in enumerate(brief.catalysts):
        for j, sid in enumerate(catalyst.sources):
            known_source(("catalysts", i, "sources", j), sid)
    problems += check_catalysts(spec)
    problems += target_argued(spec)
    problems += check_scenarios(spec, known_source, verdict)
    problems += check_estimates(spec, frame_of, known_source)
    problems += stated_figures(spec, comps)
    return problems


def _market(
    spec: Spec, market: Market, known_source: KnownSource, ratings: Sequence[Rating] | None
) -> list[Problem]:
    known_source(("market", "source"), market.source)
    problems = stale_price(spec) + _after_as_of(spec, market) + _one_call_a_day(spec, market)
    if market.target is not None and not (market.horizon or "").strip():
        message = f"price target {market.target:g} has no horizon: add `horizon:` (e.g. 12 months)"
        problems.append(spec.problem(("market", "target"), message))
    if ratings is None:
        return problems
    names = [r.name for r in ratings]
    calls: list[tuple[Loc, str | None]] = [(("market", "rating"), market.rating)]
    calls += [(("market", "history", i, "rating"), c.rating) for i, c in enumerate(market.history)]
    for loc, rating in calls:
        if rating is not None and rating not in names:
            message = f"unknown rating '{rating}' (the [compliance] scale: {', '.join(names)})"
            problems.append(spec.problem(loc, message))
    value = upside(market)
    if market.rating in names and value is not None:
        problems += _rating_fits(spec, market, value, ratings)
    return problems


def _after_as_of(spec: Spec, market: Market) -> list[Problem]:
    """The price's date, or a past call's, after the data cut-off: an error at its line."""
    as_of = spec.brief.as_of
    dated: list[tuple[Loc, date, str]] = [(("market", "date"), market.date, "the price")]
    dated += [
        (("market", "history", i, "date"), call.date, "a past call")
        for i, call in enumerate(market.history)
    ]
    return [
        spec.problem(
            loc,
            f"{day.isoformat()} is after as_of ({as_of.isoformat()}): "
            f"{what} cannot be newer than the data cut-off",
        )
        for loc, day, what in dated
        if day > as_of
    ]


def _one_call_a_day(spec: Spec, market: Market) -> list[Problem]:
    """Two past calls on one day: the history table and the chart would show both, and
    neither says which stood (like a day with two closes)."""
    first: dict[date, int] = {}
    problems = []
    for i, call in enumerate(market.history):
        if (at := first.setdefault(call.date, i)) != i:
            message = f"{call.date.isoformat()} has two calls (history[{at}] and [{i}])"
            message += ": give each day one call"
            problems.append(spec.problem(("market", "history", i, "date"), message))
    return problems


def _rating_fits(
    spec: Spec, market: Market, value: float, ratings: Sequence[Rating]
) -> list[Problem]:
    fitting = ratings_for(ratings, value)
    if market.rating in fitting:
        return []
    rule = next(r for r in ratings if r.name == market.rating)
    message = (
        f"rating '{market.rating}' does not fit the computed upside of {value * 100:.1f}% "
        f"(target {market.target:g} / price {market.price:g} − 1): the scale defines "
        f"{rule.name} as {describe_rule(rule)}"
        + (f"; this upside is {' or '.join(fitting)}" if fitting else "")
    )
    values = (market.rating or "", round(value * 100, 1))
    return [spec.finding(("market", "rating"), message, "rating-fit", values)]


def describe_rule(rating: Rating) -> str:
    """'upside ≥ 15%', 'upside from −10% to below 15%', 'upside below −10%'."""
    low, high = rating.upside_min, rating.upside_max
    if low is not None and high is not None:
        return f"upside from {_pct(low)} to below {_pct(high)}"
    if low is not None:
        return f"upside ≥ {_pct(low)}"
    if high is not None:
        return f"upside below {_pct(high)}"
    return "any upside"


def _pct(fraction: float) -> str:
    return f"{format_number(fraction * 100)}%"


def _prices(spec: Spec, frame: Frame | None) -> list[Problem]:
    """`prices:` needs a real date and a positive number on every row."""
    import pandas as pd

    if frame is None:
        return []
    if missing := no_column(frame, ("date", "close")):
        return [spec.problem(("prices",), missing)]
    written = frame.df["date"].astype(str)  # digits 0-9 only: strptime reads `２０２５` as 2025
    written = written.where(written.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"))
    dates = pd.to_datetime(written, errors="coerce", format="%Y-%m-%d")
    closes = frame.df["close"].map(lambda v: number_of(v) or float("nan"))  # 0 is not a price
    for row in range(len(frame.df)):
        bad = "date" if pd.isna(dates.iloc[row]) else None if closes.iloc[row] > 0 else "close"
        if bad:
            value = frame.df[bad].iloc[row]
            what = "a date (YYYY-MM-DD)" if bad == "date" else "a positive number"
            message = f"column '{bad}' must be {what}, not {value!r}"
            return [Problem(frame.path, frame.row_line(row), "prices", message)]
    days = [d.date() for d in dates]
    return _one_close_a_day(spec, frame, days) or _close_is_the_price(
        spec, frame, days, list(closes)
    )


def _close_is_the_price(
    spec: Spec, frame: Frame, days: list[date], closes: list[float]
) -> list[Problem]:
    """The close on market.date is market.price: the 52-week range and the 12-month change
    beside the price are read from the file, so two prices that day disagree on the page."""
    market = spec.brief.market
    assert market is not None  # prices are only checked with a market block
    if market.date not in days:
        return []
    row = days.index(market.date)
    close = closes[row]
    if math.isclose(close, market.price, rel_tol=1e-9):
        return []
    name, line = Path(frame.path).name, frame.row_line(row)
    message = (
        f"price {format_number(market.price)} on {market.date.isoformat()} is not the close "
        f"that day in {name} (line {line}: {format_number(close)}): the 52-week range and "
        "12-month change are read from that file; give one price"
    )
    return [spec.finding(("market", "price"), message, "market:close", (market.price, close))]


def _one_close_a_day(spec: Spec, frame: Frame, days: list[date]) -> list[Problem]:
    """A day with two closes, or a close after `as_of`, is an error at its row: the chart,
    the 52-week range and the change would pick one without saying which (issue 21)."""
    as_of = spec.brief.as_of
    first: dict[date, int] = {}
    for row, day in enumerate(days):
        if day > as_of:
            message = (
                f"{day.isoformat()} is after as_of ({as_of.isoformat()}): "
                "a brief shows no price after its data cut-off"
            )
        elif day in first:
            lines = f"lines {frame.row_line(first[day])} and {frame.row_line(row)}"
            message = f"{day.isoformat()} has two closes ({lines}): give each day one row"
        else:
            first[day] = row
            continue
        return [Problem(frame.path, frame.row_line(row), "prices", message)]
    return []


def _valuation(
    spec: Spec,
    valuation: Valuation,
    frame_of: FrameOf,
    known_source: KnownSource,
) -> tuple[list[Problem], Comps | None]:
    """Formulas, columns, sources and the subject's row; the comps when all are usable."""
    problems = []
    for i, multiple in enumerate(valuation.multiples):
        try:
            parse_formula(multiple.of)
        except FormulaError as exc:
            problems.append(spec.problem(("valuation", "multiples", i, "of"), str(exc)))
    frame = frame_of(("valuation", "data"), valuation.data)
    if frame is None or problems:
        return problems, None
    problems = _valuation_frame(spec, valuation, frame, known_source)
    return problems, None if problems else compute_comps(valuation, frame)


def _valuation_frame(
    spec: Spec, valuation: Valuation, frame: Frame, known_source: KnownSource
) -> list[Problem]:
    df = frame.df
    name = Path(frame.path).name
    for i, multiple in enumerate(valuation.multiples):
        for column in parse_formula(multiple.of).columns:
            if missing := no_column(frame, (column,)):
                return [spec.problem(("valuation", "multiples", i, "of"), missing)]
            # text in an input ('8.6O', or `price / company`) would show as "n.a." unsaid
            texts = [
                (row, v)
                for row, v in enumerate(df[column])
                if isinstance(v, str) and v.strip() and number_of(v) is None
            ]
            if texts:
                row, value = texts[0]
                message = f"cell {value!r} in column '{column}' is not a number (empty is n.a.)"
                return [Problem(frame.path, frame.row_line(row), "valuation.data", message)]
    if valuation.source is not None:
        known_source(("valuation", "source"), valuation.source)
    elif "source" in df.columns:
        for value in df["source"]:
            known_source(("valuation", "data"), cell_text(value))
    else:
        return [spec.problem(("valuation",), f"needs a source (or a 'source' column in {name})")]
    entity = str(df.columns[0])
    names = [cell_text(v) for v in df[entity]]
    if valuation.subject not in names:
        listed = ", ".join(n for n in names if n) or "none"
        message = f"no row where {entity} is '{valuation.subject}' in {name} (rows: {listed})"
        return [spec.problem(("valuation", "subject"), message)]
    return _repeated_row(frame, entity, names)


def _repeated_row(frame: Frame, entity: str, names: list[str]) -> list[Problem]:
    """A company with two rows (in any case or spacing), or a row with no name: the premium
    would use one row and the median count a peer twice, or a nameless row, with nothing
    said, so each is an error at its row."""
    first: dict[str, int] = {}
    for row, company in enumerate(names):
        key = " ".join(company.split()).casefold()
        if not company or company in NA_WORDS:  # N/A: no name either
            message = f"a row with no {entity}: name the company each row is about"
        elif key in first:
            lines = f"lines {frame.row_line(first[key])} and {frame.row_line(row)}"
            message = f"{entity} '{company}' has two rows ({lines}): give each company one row"
        else:
            first[key] = row
            continue
        return [Problem(frame.path, frame.row_line(row), "valuation.data", message)]
    return []
