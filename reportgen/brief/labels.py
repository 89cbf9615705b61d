"""Words for a chart's legend and axes: from the brief's `labels:`, or guessed from a CSV header.

A reader of the PDF must never see a raw identifier such as `leader_pct`. When the
author named a column under `labels:` that name is used as written; otherwise the
header is turned into words with its unit ("leader_pct" -> "Leader (%)",
"amount_rmb_bn" -> "Amount (RMB bn)"), and validation warns that it was a guess.
"""

from __future__ import annotations

import re

from reportgen.brief.models import Chart

# Header tokens that name a unit, and how the unit is written.
UNIT_TOKENS = {"pct": "%", "percent": "%", "bps": "bp", "mm": "mn"}
UNIT_TOKENS |= {unit: unit for unit in ("pp", "bp", "x", "k", "mn", "bn", "tn")}
UNIT_TOKENS |= {code.lower(): code for code in ("USD", "RMB", "CNY", "HKD", "EUR", "GBP", "JPY")}
# Header tokens written in capitals: initialisms a research reader expects that way.
ACRONYMS = {"arpu", "arr", "ebit", "ebitda", "eps", "fcf", "gmv", "roe", "roic"}  # metrics
ACRONYMS |= {"ai", "aws", "gdp", "qoq", "yoy"}
SEPARATOR = re.compile(r"[\s_\-.]+|(?<=[a-z0-9])(?=[A-Z])")


def header_words(column: str, unit: str | None = None) -> str:
    """A CSV header as words with its unit: the header's own unit tokens, else the chart's.
    A header that is already words ("Alibaba Cloud", "GDP growth") keeps its spelling."""
    if " " in column.strip() and "_" not in column:
        return with_unit(column.strip(), unit)
    tokens = [t for t in SEPARATOR.split(column) if t]
    units: list[str] = []
    while len(tokens) > 1 and tokens[-1].lower() in UNIT_TOKENS:
        units.insert(0, UNIT_TOKENS[tokens.pop().lower()])
    if not tokens:
        return column.strip()
    text = " ".join(_word(t) for t in tokens)
    return with_unit(text[0].upper() + text[1:], " ".join(units) or unit)


def _word(token: str) -> str:
    """An initialism in capitals, a word in lower case, a token the author capitalised as is."""
    if token.lower() in ACRONYMS:
        return token.upper()
    return token if token[:1].isupper() else token.lower()


def with_unit(text: str, unit: str | None) -> str:
    """`text (unit)`, unless the unit is already in the text or there is none."""
    if not unit or unit.lower() in text.lower():
        return text
    return f"{text} ({unit})"


def series_name(chart: Chart, column: str) -> str:
    """A y column's legend label: `labels:` as written, else the header in words."""
    return (chart.labels or {}).get(column) or header_words(column, chart.unit)


def guessed_legend(chart: Chart) -> list[tuple[str, str]]:
    """(column, guessed label) for each legend entry the author did not name."""
    if chart.group or len(chart.y_columns) < 2:
        return []  # no legend of y columns: one series, or series named by the group values
    named = chart.labels or {}
    return [
        (c, header_words(c, chart.unit))
        for c in chart.y_columns
        if not named.get(c) and header_words(c) != c.strip()  # an identifier made words
    ]


def axis_title(chart: Chart, column: str, unit: str | None) -> str:
    """An axis title: the author's label with the unit, else the unit alone. No guessing
    here: the chart's title already says what is measured, and categories speak for themselves."""
    given = (chart.labels or {}).get(column)
    return with_unit(given, unit) if given else (unit or "")
