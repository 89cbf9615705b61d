"""Sample data left from `reportgen new`: findings that no review can accept.

The scaffold's numbers are invented (a price, a target, market shares, peers'
multiples, a price history) so that a new brief builds at once. They stay
samples when the word PLACEHOLDER around them is deleted, so they are found by
what they are, not by a word:

- its sources carry an address at `sample.invalid` (a reserved name that no
  real report has): a sample source, and every figure that cites it;
- its market block (price, shares and target together) and the rows of its
  CSV files, compared with what the scaffold wrote.

Each place that still holds sample data is a finding `sample:<file>:<line>`
naming the values, and a brief with one is a draft that is never emailed.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from reportgen.brief.data import Frame, format_number
from reportgen.brief.placeholders import unacceptable
from reportgen.brief.spec import Place, Spec
from reportgen.errors import Problem

KIND = "sample"
SAMPLE_HOST = "sample.invalid"
SAMPLE_MARKET = (45.0, 1.2, 56.0)  # price, shares (bn), target
SAMPLE_CLOSES = (38.0, 40.5, 39.2, 42.8, 44.1, 45.0)  # prices.csv, one a month

MARKET_SHARE_CSV = """\
company,share_pct
Example Co,31
Rival One,27
Rival Two,22
Others,20
"""

COMPS_CSV = """\
company,price,eps_fy2026,ev,ebitda_fy2026
Example Co,45.00,3.10,60,6.5
Rival One,80.00,4.00,120,10.0
Rival Two,22.00,-0.50,30,2.0
Rival Three,35.00,2.50,48,4.0
"""

REVENUE_CSV = """\
year,cloud,commerce
FY2022,3.1,5.2
FY2023,3.9,5.6
FY2024,4.8,5.9
FY2025,6.1,6.4
"""

SAMPLE_CSV = {
    "market_share.csv": MARKET_SHARE_CSV,
    "comps.csv": COMPS_CSV,
    "revenue.csv": REVENUE_CSV,
}


def sample_url(name: str) -> str:
    """The address of a sample source: what marks it (and what cites it) as sample data."""
    return f"https://{SAMPLE_HOST}/{name}"


def samples(spec: Spec, frames: dict[str, Frame]) -> list[Problem]:
    """Every place where the brief still cites or shows the scaffold's sample data."""
    found = [*_sources(spec), *_market(spec), *_metrics(spec)]
    for frame in frames.values():
        found += _rows(frame)
    return [_problem(place, key, what) for place, key, what in found]


def is_sample_source(url: str | None) -> bool:
    return bool(url) and (urlsplit(str(url)).hostname or "").lower() == SAMPLE_HOST


def _sample_ids(spec: Spec) -> set[str]:
    return {sid for sid, s in spec.brief.sources.items() if is_sample_source(s.url)}


def _sources(spec: Spec) -> Iterator[tuple[Place, str, str]]:
    for sid in sorted(_sample_ids(spec)):
        yield spec.place(("sources", sid)), f"sources.{sid}", f"source '{sid}'"


def _market(spec: Spec) -> Iterator[tuple[Place, str, str]]:
    market = spec.brief.market
    if market is None:
        return
    shown = (market.price, market.shares, market.target)
    if market.source in _sample_ids(spec) or shown == SAMPLE_MARKET:
        values = f"price {format_number(market.price)}"
        values += f", target {format_number(market.target)}" if market.target is not None else ""
        yield spec.place(("market", "price")), "market", f"the market block ({values})"


def _metrics(spec: Spec) -> Iterator[tuple[Place, str, str]]:
    ids = _sample_ids(spec)
    for i, m in enumerate(spec.brief.metrics):
        if m.source in ids:
            key = f"metrics[{i}]"
            yield spec.place(("metrics", i, "value")), key, f"'{m.label}' {format_number(m.value)}"


def _rows(frame: Frame) -> Iterator[tuple[Place, str, str]]:
    """A data file's rows that are the scaffold's, line by line (one finding per file)."""
    header = [str(c).strip() for c in frame.df.columns]
    rows = [[_cell(v) for v in frame.df.iloc[r]] for r in range(len(frame.df))]
    if header == ["date", "close"]:
        closes = tuple(float(r[1]) for r in rows if _is_number(r[1]))
        if closes == SAMPLE_CLOSES:
            yield Place(frame.path, 2), "prices", f"{frame.path.name}: the sample price history"
        return
    sample = SAMPLE_CSV.get(frame.path.name)
    if sample is None or sample.splitlines()[0].split(",") != header:
        return
    wanted = [[_cell(v) for v in line.split(",")] for line in sample.splitlines()[1:]]
    lines = [frame.row_line(r) for r, row in enumerate(rows) if row in wanted]
    if lines:
        where = f"{frame.path.name} line{'s' if len(lines) > 1 else ''} "
        yield Place(frame.path, lines[0]), "row", where + ", ".join(map(str, lines))


def _cell(value: object) -> str:
    """A cell as compared: '45.00', 45.0 and 45 are one value."""
    text = str(value).strip()
    return format_number(float(text)) if _is_number(text) else text


def _is_number(text: object) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def _problem(place: Place, key: str, what: str) -> Problem:
    message = (
        f"sample data of `reportgen new` still in the brief: {what}: "
        "replace it with real, sourced values"
    )
    return unacceptable(place, key, KIND, message, (what,))
