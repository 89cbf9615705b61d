"""Stage 4b: a table spec and its DataFrame -> a view model the template lays out.

Numbers are right-aligned, with thousands separators and a true minus sign. A
column with a unit (its `format`, or the unit in its label or name) reads like the
same figure in the prose ("36%", not "36.0"); any other column has one number of
decimals. A `source` column is shown as footnote marks. A table without a source
of its own is footed "as marked per row": each row then carries its source's mark,
on its first cell when `columns` leaves `source` out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from markupsafe import Markup

from reportgen.brief.data import Frame, decimals_for, format_number, format_with_unit
from reportgen.brief.models import Table

if TYPE_CHECKING:
    import pandas as pd

PLAIN = "plain"
Cite = Callable[[str], Markup]
_LABEL_UNIT = re.compile(r"\s*\((%|x|pp)\)\s*$")
_NAME_UNIT = {"_pct": "%", "_percent": "%", "_pp": "pp"}


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool = False
    negative: bool = False
    html: Markup | None = None  # footnote marks instead of text
    marks: Markup = field(default_factory=Markup)  # after the text: a row's source mark


@dataclass(frozen=True)
class TableView:
    id: str
    title: str
    headers: list[tuple[str, bool]]  # (label, numeric)
    rows: list[tuple[list[Cell], bool]]  # (cells, highlighted)
    source_marks: Markup  # the table's source, named, with its mark (the source line)


def build_table(table: Table, frame: Frame, cite: Cite, credit: Cite) -> TableView:
    """Select, rename, sort and format; `cite` turns a source id into its footnote mark (a
    row's), `credit` into its name and mark (the source line, as a chart's reads)."""
    # lazy: heavy, and `reportgen --help` or a check-only run never needs it
    from pandas.api.types import is_numeric_dtype

    df = frame.df
    if table.sort:
        column = table.sort.lstrip("-")
        df = df.sort_values(column, ascending=not table.sort.startswith("-"), kind="stable")
    columns = list(table.columns) if table.columns else list(df.columns)
    headers, specs = [], []
    for c in columns:
        label = table.columns[c] if table.columns else str(c)
        numeric = c != "source" and is_numeric_dtype(df[c]) and not _is_year_column(df[c])
        unit = column_unit(str(c), label, table.format) if numeric else None
        places = decimals_for([float(v) for v in df[c].dropna()]) if numeric else 0
        headers.append((label.removesuffix(f"({unit})").rstrip() if unit else label, numeric))
        specs.append((c, numeric, places, unit))
    # "as marked per row" must hold even when the source column is not shown
    per_row = not table.source and "source" in df.columns and "source" not in columns
    rows = []
    for _, record in df.iterrows():
        cells = [
            _cell(record[c], c, numeric, places, cite, unit) for c, numeric, places, unit in specs
        ]
        if per_row and cells:
            cells[0] = replace(cells[0], marks=_row_marks(record["source"], cite))
        highlighted = table.highlight is not None and str(record[columns[0]]) == table.highlight
        rows.append((cells, highlighted))
    marks = credit(table.source) if table.source else Markup()
    return TableView(table.id, table.title, headers, rows, marks)


def column_unit(column: str, label: str, formats: dict[str, str] | None) -> str | None:
    """The unit a numeric column's cells show: its `format`, else a suffix unit read from
    the label ("Share (%)") or the name (share_pct); None for plain numbers."""
    chosen = (formats or {}).get(column)
    if chosen is not None:
        return None if chosen.strip().lower() == PLAIN else chosen
    found = _LABEL_UNIT.search(label)
    if found:
        return found.group(1)
    return next((unit for end, unit in _NAME_UNIT.items() if column.lower().endswith(end)), None)


def _is_year_column(values: pd.Series) -> bool:
    """Whole numbers from 1800 to 2200 read as years: shown as 2024, never 2,024."""
    present = values.dropna()
    whole = bool((present % 1 == 0).all()) and bool(present.between(1800, 2200).all())
    return not present.empty and whole


def _row_marks(value: object, cite: Cite) -> Markup:
    """The mark of a row's source; none for a blank cell (validation reports it)."""
    if value is None or value != value or not str(value).strip():
        return Markup()
    return cite(str(value).strip())


def _cell(
    value: object, column: str, numeric: bool, places: int, cite: Cite, unit: str | None
) -> Cell:
    if value is None or value != value:  # None or NaN
        return Cell("\u2014", numeric=numeric)
    if column == "source":
        return Cell(str(value), html=cite(str(value).strip()))
    if numeric:
        number = float(value)  # type: ignore[arg-type]
        text = format_with_unit(number, unit) if unit else format_number(number, places)
        return Cell(text, numeric=True, negative=number < 0)
    if isinstance(value, float) and value.is_integer():
        return Cell(str(int(value)))  # a year column with a gap is read as floats
    return Cell(str(value))
