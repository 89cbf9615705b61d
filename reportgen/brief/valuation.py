"""Comparables: the multiples of `valuation:`, computed by reportgen from the CSV's inputs.

A multiple's `of` is one operation, `column op column` or `column op number` (either
order), op one of + - * /, read by its own tokenizer (never eval), so an author's text
can only name columns and numbers. A division by zero or a negative is "n.m." (not
meaningful), a missing input "n.a."; neither stops the build. The peer median leaves
the subject out and uses the peers' meaningful values; the subject's premium (a discount
when negative) is its multiple over that median, minus one.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from typing import Literal

from reportgen.brief.data import MINUS, Frame, format_number, number_of, rounded
from reportgen.brief.models import Valuation
from reportgen.errors import FormulaError

Value = float | Literal["n.m.", "n.a."]
NOT_MEANINGFUL: Literal["n.m."] = "n.m."
NOT_AVAILABLE: Literal["n.a."] = "n.a."
Operand = str | float

_TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)|(?P<op>[-+*/])|(?P<bad>\S))"
)


@dataclass(frozen=True)
class Formula:
    left: Operand
    op: str
    right: Operand

    @property
    def columns(self) -> list[str]:
        return [x for x in (self.left, self.right) if isinstance(x, str)]

    def apply(self, row: dict[str, float | None]) -> Value:
        """The formula on one row: n.a. for a missing input, n.m. for a denominator ≤ 0."""
        a, b = (x if isinstance(x, float) else row.get(x) for x in (self.left, self.right))
        if a is None or b is None:
            return NOT_AVAILABLE
        if self.op == "/":
            return NOT_MEANINGFUL if b <= 0 else a / b
        return {"+": a + b, "-": a - b, "*": a * b}[self.op]


def parse_formula(text: str) -> Formula:
    """'price / eps_fy2026' -> Formula; FormulaError (a message for the author) otherwise."""
    written = text.rstrip()
    tokens = []
    for match in _TOKEN.finditer(written):  # each character is in a token: `bad` takes any other
        kind = match.lastgroup or "bad"
        if kind == "bad":
            allowed = "only column names, numbers and one of + - * /"
            raise FormulaError(f"'{written}': unexpected '{match['bad']}' ({allowed})")
        tokens.append((kind, match[kind]))
    kinds = [kind for kind, _ in tokens]
    if kinds not in (["name", "op", "name"], ["name", "op", "number"], ["number", "op", "name"]):
        raise FormulaError(
            f"'{text}' is not one operation: write column op column or column op number "
            "(op: + - * /), e.g. 'price / eps'"
        )
    (k1, v1), (_, op), (k2, v2) = tokens
    return Formula(float(v1) if k1 == "number" else v1, op, float(v2) if k2 == "number" else v2)


@dataclass(frozen=True)
class CompRow:
    name: str
    values: list[Value]
    subject: bool
    sources: list[str]  # source ids of this row's inputs


@dataclass(frozen=True)
class Comps:
    """The comparables table, computed: rows, the peer median and the subject's premium."""

    entity: str  # the first column's name
    labels: list[str]
    divisions: list[bool]  # True where the multiple is a ratio (shown as 12.3x)
    rows: list[CompRow]
    median: list[Value]
    premium: list[Value]  # subject / median - 1

    @property
    def peer_sources(self) -> list[str]:
        return list(dict.fromkeys(s for r in self.rows if not r.subject for s in r.sources))

    @property
    def subject_row(self) -> CompRow | None:
        return next((r for r in self.rows if r.subject), None)


def compute_comps(valuation: Valuation, frame: Frame) -> Comps:
    """Every multiple for every row; the formulas and their input cells were checked by
    the validator (each a number by the one rule, or empty)."""
    entity = str(frame.df.columns[0])
    formulas = [parse_formula(m.of) for m in valuation.multiples]
    rows = []
    for cell in frame.df.to_dict("records"):
        name = cell_text(cell[entity])
        inputs = {c: number_of(cell[c]) for f in formulas for c in f.columns}
        values = [_as_shown(f.apply(inputs)) for f in formulas]
        source = cell_text(cell.get("source")) or valuation.source
        rows.append(CompRow(name, values, name == valuation.subject, [source] if source else []))
    peers = [r.values for r in rows if not r.subject]
    median = [peer_median([values[j] for values in peers]) for j in range(len(formulas))]
    subject = next((r.values for r in rows if r.subject), None)
    premium = [
        premium_to(subject[j] if subject else NOT_AVAILABLE, m) for j, m in enumerate(median)
    ]
    labels = [m.label for m in valuation.multiples]
    return Comps(entity, labels, [f.op == "/" for f in formulas], rows, median, premium)


def _as_shown(value: Value) -> Value:
    """A multiple at the one decimal the table shows it with: the median and the premium are
    computed from the figures a reader sees, so that they can be recomputed by hand."""
    return float(rounded(value, 1)) if isinstance(value, float) else value


def peer_median(values: list[Value]) -> Value:
    """The median of the meaningful values; n.a. when no peer has one."""
    numbers = [v for v in values if isinstance(v, float)]
    return statistics.median(numbers) if numbers else NOT_AVAILABLE


def premium_to(subject: Value, median: Value) -> Value:
    """subject / median - 1; n.a. or n.m. when either is, or the median is not positive."""
    if not isinstance(subject, float) or not isinstance(median, float):
        return NOT_AVAILABLE if NOT_AVAILABLE in (subject, median) else NOT_MEANINGFUL
    return NOT_MEANINGFUL if median <= 0 else subject / median - 1


def format_value(value: Value, ratio: bool) -> str:
    """12.345 -> '12.3x' for a ratio, '12.3' otherwise; n.m. and n.a. as they are."""
    if isinstance(value, str):
        return value
    return format_number(value, 1) + ("x" if ratio else "")


def format_premium(value: Value) -> str:
    """0.123 -> '+12.3%', -0.05 -> '−5.0%'."""
    if isinstance(value, str):
        return value
    text = format_number(round(value * 100, 9), 1)  # 0.1725 * 100 is 17.2499...
    return f"{text}%" if text.startswith(MINUS) else f"+{text}%"


def cell_text(value: object) -> str:
    """A CSV cell as text: a gap (NaN, which is not equal to itself) is ''."""
    return "" if value is None or value != value else str(value).strip()
