"""Placeholder text and sample data left in a brief: findings that no review can accept.

`reportgen new` writes a brief full of PLACEHOLDER values and invented numbers so that
it builds at once; nothing of either may reach a reader. Every YAML value, Markdown
text and CSV cell (and header) the brief uses is scanned for:

- PLACEHOLDER, TODO, TBD, XXX, FIXME: in capitals, as whole words (an `s` plural too):
  lower case they are ordinary English ("a placeholder for growth") or identifiers
  (`placeholder-report`, `todo_count`); "TBDX" and "TODO_LIST" are not flagged;
- lorem ipsum, in any case.

Text is read as the reader sees it (NFKC: full-width `ＴＯＤＯ` is TODO); YAML comments are
not scanned (the scaffold's say what to replace). Each line is reported once.

Sample data stays sample data when the word PLACEHOLDER around it is deleted, so it is found
by what it is: a source at `sample.invalid` (a reserved name no real report has) and every
figure citing it; the scaffold's market block; the rows of its CSV files. Each place is a
finding `sample:<file>:<line>`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from reportgen.brief.bounds import canonical
from reportgen.brief.data import Frame, format_number, number_of
from reportgen.brief.spec import Loc, Place, Spec, format_loc
from reportgen.brief.yamlfile import is_markdown
from reportgen.errors import Problem

MARKERS = re.compile(
    r"(?<!\w)(?:PLACEHOLDER|TODO|TBD|XXX|FIXME)S?(?!\w)|\blorem\s+ipsum\b", re.IGNORECASE
)
SAMPLE_HOST = "sample.invalid"
SAMPLE_MARKET = (45.0, 1.2, 56.0)  # price, shares (bn), target
SAMPLE_CLOSES = (38.0, 40.5, 39.2, 42.8, 44.1, 45.0)  # prices.csv, one a month

SAMPLE_CSV = {  # the scaffold's data files, in the order it writes them
    "market_share.csv": """\
company,share_pct
Example Co,31
Rival One,27
Rival Two,22
Others,20
""",
    "revenue.csv": """\
year,cloud,commerce
FY2022,3.1,5.2
FY2023,3.9,5.6
FY2024,4.8,5.9
FY2025,6.1,6.4
""",
    "comps.csv": """\
company,price,eps_fy2026,ev,ebitda_fy2026
Example Co,45.00,3.10,60,6.5
Rival One,80.00,4.00,120,10.0
Rival Two,22.00,-0.50,30,2.0
Rival Three,35.00,2.50,48,4.0
""",
}


def markers(text: str) -> list[str]:
    """The placeholder markers in a text, each once, in order of appearance."""
    found = [m.group() for m in MARKERS.finditer(canonical(text)) if _counts(m.group())]
    return list(dict.fromkeys(found))


def _counts(word: str) -> bool:
    """Capitals only for the marker words; 'lorem ipsum' in any case."""
    return word.lower().startswith("lorem") or word.removesuffix("s").isupper()


def placeholders(spec: Spec, frames: dict[str, Frame]) -> list[Problem]:
    """Every line of the brief, its Markdown and its CSV data that still holds placeholder text."""
    problems = [_placeholder(place, key, words) for place, key, words in _yaml_values(spec)]
    for doc in spec.docs.values():
        for offset, line in enumerate(doc.text.splitlines()):
            if words := markers(html.unescape(line)):  # Markdown prints &#84;ODO as TODO
                place = Place(doc.place.path, (doc.place.line or 1) + offset)
                problems.append(_placeholder(place, doc.key, words))
    for frame in frames.values():
        problems += _csv_cells(frame)
    return sorted(dict.fromkeys(problems), key=lambda p: (str(p.path), p.line or 0))


def _yaml_values(spec: Spec) -> Iterator[tuple[Place, str, list[str]]]:
    """(place, key, markers) of every scalar value in brief.yaml (Markdown fields aside:
    scanned line by line as Markdown, wherever their text lives)."""
    raw = spec.brief.model_dump(mode="json", exclude_defaults=True)
    for loc, value in _scalars(raw, ()):
        if not is_markdown(loc) and (words := markers(value)):
            yield spec.place((*loc, "#text")), format_loc(loc), words


def _scalars(node: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _scalars(value, (*loc, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _scalars(value, (*loc, index))
    elif isinstance(node, str):
        yield loc, node


def _csv_cells(frame: Frame) -> list[Problem]:
    """Header and cells of one data file, a problem per line that holds a marker."""
    df = frame.df
    problems = []
    if words := markers(" ".join(map(str, df.columns))):
        problems.append(_placeholder(Place(frame.path, 1), "columns", words))
    for row in range(len(df)):
        cells = " | ".join(str(v) for v in df.iloc[row] if v == v)  # NaN != NaN
        if words := markers(cells):
            problems.append(_placeholder(Place(frame.path, frame.row_line(row)), "row", words))
    return problems


def _placeholder(place: Place, key: str, words: list[str]) -> Problem:
    shown = ", ".join(words)
    message = f"placeholder text left in the brief ({shown}): replace it with the real content"
    return _unacceptable(place, key, "placeholder", message, tuple(words))


def _unacceptable(
    place: Place, key: str, kind: str, message: str, values: tuple[str, ...]
) -> Problem:
    """A finding no review can accept, keyed by file and line."""
    finding = f"{kind}:{place.path.name}:{place.line or 0}"
    return Problem(place.path, place.line, key, message, "warning", finding, values)


def is_placeholder(finding: str | None) -> bool:
    """Placeholder text and sample data cannot be accepted by a review."""
    return bool(finding) and str(finding).startswith(("placeholder:", "sample:"))


def sample_url(name: str) -> str:
    """The address of a sample source: what marks it (and what cites it) as sample data."""
    return f"https://{SAMPLE_HOST}/{name}"


def samples(spec: Spec, frames: dict[str, Frame]) -> list[Problem]:
    """Every place where the brief still cites or shows the scaffold's sample data."""
    found = list(_in_brief(spec))
    for frame in frames.values():
        found += _rows(frame)
    return [_sample(place, key, what) for place, key, what in found]


def _in_brief(spec: Spec) -> Iterator[tuple[Place, str, str]]:
    """Sample sources, every metric citing one, and the market block when it cites one or
    holds the scaffold's figures."""
    sources = spec.brief.sources.items()
    ids = {sid for sid, s in sources if (urlsplit(s.url or "").hostname or "") == SAMPLE_HOST}
    for sid in sorted(ids):
        yield spec.place(("sources", sid)), f"sources.{sid}", f"source '{sid}'"
    market = spec.brief.market
    if market and (
        market.source in ids or (market.price, market.shares, market.target) == SAMPLE_MARKET
    ):
        values = f"price {format_number(market.price)}"
        values += f", target {format_number(market.target)}" if market.target is not None else ""
        yield spec.place(("market", "price")), "market", f"the market block ({values})"
    for i, m in enumerate(spec.brief.metrics):
        if m.source in ids:
            key = f"metrics[{i}]"
            yield spec.place(("metrics", i, "value")), key, f"'{m.label}' {format_number(m.value)}"


def _rows(frame: Frame) -> Iterator[tuple[Place, str, str]]:
    """A data file's rows that are the scaffold's, line by line (one finding per file)."""
    header = [str(c).strip() for c in frame.df.columns]
    rows = [[_cell(v) for v in frame.df.iloc[r]] for r in range(len(frame.df))]
    if header == ["date", "close"]:
        closes = tuple(n for r in rows if (n := number_of(r[1])) is not None)
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
    number = number_of(value)
    return str(value).strip() if number is None else format_number(number)


def _sample(place: Place, key: str, what: str) -> Problem:
    message = (
        f"sample data of `reportgen new` still in the brief: {what}: "
        "replace it with real, sourced values"
    )
    return _unacceptable(place, key, "sample", message, (what,))
