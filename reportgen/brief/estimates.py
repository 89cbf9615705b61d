"""The financial summary and key data (brief-format v1.2), computed from the brief's inputs.

`estimates:` names a CSV, a row per fiscal year: year, basis (A actual, E estimate),
revenue, ebitda, eps, fcf (in `unit` of `currency`, eps per share), optionally a source.
Computed per year: revenue growth, EBITDA margin, P/E at the current price (price / eps)
and FCF yield (fcf / (price × shares)); a division by zero or a negative is "n.m.", a
missing input "n.a.", as in the comparables.

Key data come from the `prices` CSV: the 52-week high and low (closes in the 365 days up
to `market.date`, whose close is market.price) and the 12-month change (market.price over
the close on or before the same day a year earlier, minus one).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from reportgen.brief.data import Frame, number_of
from reportgen.brief.models import Brief, Estimates, Market
from reportgen.brief.spec import Loc, Spec
from reportgen.brief.valuation import NOT_AVAILABLE, NOT_MEANINGFUL, Value, cell_text
from reportgen.errors import Problem

COLUMNS = ("year", "basis", "revenue", "ebitda", "eps", "fcf")
FIGURES = ("revenue", "ebitda", "eps", "fcf")
SCALE = {"bn": 1.0, "m": 1e-3, "tn": 1e3}  # to billions, the unit of the market value
YEAR_DAYS = 365

FrameOf = Callable[[Loc, str], Frame | None]
KnownSource = Callable[[Loc, str], None]


@dataclass(frozen=True)
class Year:
    """One row of the estimates CSV, as read."""

    year: int
    basis: str  # "A" or "E"
    figures: dict[str, float | None]  # revenue, ebitda, eps, fcf; None when empty
    sources: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.year}{self.basis}"


@dataclass(frozen=True)
class Summary:
    """The financial summary, computed: per year its growth, margin, P/E and FCF yield."""

    years: list[Year]
    growth: list[Value]  # revenue / the year before's − 1
    margin: list[Value]  # ebitda / revenue
    pe: list[Value] | None  # price / eps; None without a market block
    fcf_yield: list[Value] | None  # fcf / market value; None without shares


def ratio(top: float | None, bottom: float | None) -> Value:
    """top / bottom: n.a. for a missing input, n.m. for a denominator ≤ 0."""
    if top is None or bottom is None:
        return NOT_AVAILABLE
    return NOT_MEANINGFUL if bottom <= 0 else top / bottom


def financial_summary(estimates: Estimates, frame: Frame, market: Market | None) -> Summary:
    """Every computed column of a checked estimates CSV."""
    years = []
    for cell in frame.df.to_dict("records"):
        source = cell_text(cell.get("source")) or estimates.source
        figures = {c: number_of(cell[c]) for c in FIGURES}
        basis = cell_text(cell["basis"]).upper()
        years.append(Year(_year(cell["year"]), basis, figures, (source,) if source else ()))
    years.sort(key=lambda y: y.year)
    by_year = {y.year: y for y in years}
    growth: list[Value] = []
    for y in years:
        before = by_year.get(y.year - 1)
        change = ratio(y.figures["revenue"], before.figures["revenue"] if before else None)
        growth.append(change - 1 if isinstance(change, float) else change)
    margin = [ratio(y.figures["ebitda"], y.figures["revenue"]) for y in years]
    pe = fcf_yield = None
    if market is not None:
        pe = [ratio(market.price, y.figures["eps"]) for y in years]
        if market.shares is not None:
            value = market.price * market.shares / SCALE[estimates.unit]  # in `unit`
            fcf_yield = [ratio(y.figures["fcf"], value) for y in years]
    return Summary(years, growth, margin, pe, fcf_yield)


def check_estimates(spec: Spec, frame_of: FrameOf, known_source: KnownSource) -> list[Problem]:
    """Columns, cells, years against `as_of`, currency and sources."""
    brief = spec.brief
    estimates = brief.estimates
    if estimates is None:
        return []
    problems = _currency(spec, estimates, brief.market)
    frame = frame_of(("estimates", "data"), estimates.data)
    if frame is None:
        return problems
    found = _frame(spec, estimates, frame) or _sources(spec, estimates, frame, known_source)
    return problems + (found or _years(brief, frame))


def _currency(spec: Spec, estimates: Estimates, market: Market | None) -> list[Problem]:
    """P/E and FCF yield divide the estimates by the price: one currency for both."""
    if market is None or estimates.currency == market.currency:
        return []
    message = (
        f"currency {estimates.currency} is not the market's {market.currency}: P/E and FCF "
        "yield divide these figures by the price, so give them in one currency"
    )
    return [spec.problem(("estimates", "currency"), message)]


def _frame(spec: Spec, estimates: Estimates, frame: Frame) -> list[Problem]:
    """Every column there; each cell a year, A or E, or a number (empty is n.a.)."""
    if missing := no_column(frame, COLUMNS):
        return [spec.problem(("estimates", "data"), missing)]
    if frame.df.empty:  # a summary of labels and no year
        message = f"{Path(frame.path).name} has no rows: give one row per fiscal year"
        return [spec.problem(("estimates", "data"), message)]
    for row, cell in enumerate(frame.df.to_dict("records")):
        if why := _row_problem(cell):
            return [Problem(frame.path, frame.row_line(row), "estimates.data", why)]
    return []


def no_column(frame: Frame, columns: Iterable[str]) -> str | None:
    """'no column ...' naming the first of `columns` the CSV lacks, or None."""
    missing = next((c for c in columns if c not in frame.df.columns), None)
    if missing is None:
        return None
    have = ", ".join(map(str, frame.df.columns))
    return f"no column '{missing}' in {Path(frame.path).name} (columns: {have})"


def _row_problem(cell: Mapping[Hashable, object]) -> str | None:
    year = number_of(cell["year"])
    if year is None or year != int(year) or not 1900 <= year <= 2200:
        return f"year must be a year such as 2026, not {cell_text(cell['year'])!r}"
    if cell_text(cell["basis"]).upper() not in ("A", "E"):
        return f"basis must be A (actual) or E (estimate), not {cell_text(cell['basis'])!r}"
    for column in FIGURES:
        value = cell[column]
        if cell_text(value) and number_of(value) is None:
            return f"{column} {value!r} is not a number (leave it empty for n.a.)"
    return None


def _sources(
    spec: Spec, estimates: Estimates, frame: Frame, known_source: KnownSource
) -> list[Problem]:
    if estimates.source is not None:
        known_source(("estimates", "source"), estimates.source)
        return []
    if "source" not in frame.df.columns:
        name = Path(frame.path).name
        return [spec.problem(("estimates",), f"needs a source (or a 'source' column in {name})")]
    for row, value in enumerate(frame.df["source"]):  # a bad cell is reported at its row
        sid = cell_text(value)
        if sid not in spec.brief.sources:
            known = ", ".join(spec.brief.sources)
            why = f"unknown source '{sid}' (known: {known})" if sid else "no source in this row"
            return [Problem(frame.path, frame.row_line(row), "estimates.data", why)]
        known_source(("estimates", "data"), sid)
    return []


def _years(brief: Brief, frame: Frame) -> list[Problem]:
    """Each year once; actual years up to `as_of`; no estimate before the last actual year."""
    df = frame.df
    rows = [(_year(y), cell_text(b).upper()) for y, b in zip(df["year"], df["basis"], strict=True)]
    last_actual = max((y for y, b in rows if b == "A"), default=None)
    seen: dict[int, int] = {}
    for row, (year, basis) in enumerate(rows):
        if year in seen:
            lines = f"lines {frame.row_line(seen[year])} and {frame.row_line(row)}"
            why = f"year {year} is given twice ({lines})"
        elif basis == "A" and year > brief.as_of.year:
            why = f"{year}A is an actual year after as_of {brief.as_of.isoformat()}: mark it E"
        else:
            seen[year] = row
            continue
        return [Problem(frame.path, frame.row_line(row), "estimates.data", why)]
    late = [row for row, (y, b) in enumerate(rows) if b == "E" and last_actual and y < last_actual]
    if late:
        why = f"{rows[late[0]][0]}E comes before the last actual year, {last_actual}A"
        return [Problem(frame.path, frame.row_line(late[0]), "estimates.data", why)]
    return []


# ---------------------------------------------------------------- key data from `prices`


@dataclass(frozen=True)
class KeyData:
    """The 52-week range and 12-month change, from the prices CSV and the market block."""

    high: float  # the highest close in the 365 days up to market.date
    low: float
    change: float | None  # market.price / the close a year earlier − 1; None without one
    year_ago: date | None  # the date of that close
    since: date  # the first day of the 52-week window (the close a year earlier falls before it)


def key_data(points: list[tuple[date, float]], market: Market) -> KeyData | None:
    """None when no close falls in the 365 days up to market.date."""
    start = market.date - timedelta(days=YEAR_DAYS - 1)
    window = [close for day, close in points if start <= day <= market.date]
    if not window:
        return None
    if all(day != market.date for day, _ in points):  # the price is that day's close
        window.append(market.price)
    before = [(day, close) for day, close in points if day <= year_earlier(market.date)]
    base = max(before) if before else None
    change = market.price / base[1] - 1 if base else None
    return KeyData(max(window), min(window), change, base[0] if base else None, start)


def year_earlier(day: date) -> date:
    """The same day a year earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _year(value: object) -> int:
    """A year cell that `_row_problem` passed (so a number by the one rule)."""
    return int(number_of(value) or 0)
