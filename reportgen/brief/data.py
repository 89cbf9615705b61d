"""Stage 3a: read the brief's CSV files and format numbers for reading.

Every CSV is first streamed through `scan_csv`, which holds it to the [limits]
(size, rows, cells per row, text per cell, finite and printable numbers) without
building anything, then parsed once by pandas, as UTF-8 with or without a
byte-order mark, with its header row as column names. Number formatting lives
here so that tables, metrics and charts write a figure the same way.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.brief.bounds import (
    bad_character,
    canonical,
    number_problem,
    raise_hint,
    read_number,
    size_problem,
    text_problem,
)
from reportgen.config import DEFAULT_LIMITS, Limits
from reportgen.errors import Problem

if TYPE_CHECKING:
    import pandas as pd

MINUS = "\u2212"


@dataclass(frozen=True)
class Frame:
    """A CSV file as read, with the data line of each row for error messages."""

    path: Path
    df: pd.DataFrame

    def row_line(self, index: int) -> int:
        return int(index) + 2  # header is line 1


# What pandas's C parser says, dropping the Python error, when reading the file object fails:
# under [build].memory_limit, an allocation that failed (the brief then fails as out of memory).
READ_FAILED = "Calling read(nbytes) on source failed"


def read_csv(path: Path, limits: Limits = DEFAULT_LIMITS) -> Frame | Problem:
    """Read one CSV within the limits; a problem when it cannot be read (MemoryError only
    when memory runs out, which fails the brief naming the memory limit)."""
    import pandas as pd

    if refused := scan_csv(path, limits):
        return refused
    try:
        df = pd.read_csv(
            path,
            encoding="utf-8-sig",
            skipinitialspace=True,
            dtype=str,  # every cell as typed: which are numbers is read_number's to say
            keep_default_na=False,  # `NA` (North America), `None` are text unless in numbers
            na_values=[""],
        )
    except UnicodeDecodeError as exc:
        return Problem(path, None, "data", f"not UTF-8 text ({exc.reason})")
    except pd.errors.EmptyDataError:
        return Problem(path, 1, "data", "the CSV file is empty")
    except pd.errors.ParserError as exc:
        if READ_FAILED in str(exc):  # not the file's content: scan_csv has just read it whole
            raise MemoryError(f"pandas could not read {path.name} into memory") from exc
        line = re.search(r"\bline (\d+)", str(exc))
        message = f"unreadable CSV: {' '.join(str(exc).split())}"
        return Problem(path, int(line.group(1)) if line else None, "data", message)
    if not isinstance(df.index, pd.RangeIndex):  # pandas made the extra leading cells an index
        return Problem(path, _long_row(path), "data", "a row has more cells than the header")
    df.columns = [str(c).strip() for c in df.columns]
    return Frame(path, _typed(df))


NA_WORDS = frozenset(("N/A", "n/a", "NA", "#N/A", "#NA", "<NA>", "NULL", "null", "None"))
"""What pandas reads as a missing value: one only in a column of numbers (`N/A` for a
missing EPS), never in a column of text, where `NA` was shown as a dash."""


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Columns of numbers (by read_number, the rule brief.yaml follows too) as numbers,
    with NA_WORDS as gaps; every other column, and one of NA_WORDS only, as the text written."""
    import pandas as pd

    for column in df.columns:
        cells = [str(v).strip() for v in df[column] if v == v]  # NaN != NaN
        numbers = [c for c in cells if c not in NA_WORDS]
        if (numbers or not cells) and all(number_of(c) is not None for c in numbers):
            df[column] = pd.to_numeric(df[column].mask(df[column].str.strip().isin(NA_WORDS)))
    return df


def number_of(cell: object) -> float | None:
    """A cell of a read frame as a number by the one rule (read_number), or None for a gap
    or text: for checks of a column that must hold numbers (a chart's y, a close)."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return None if cell != cell else float(cell)  # NaN != NaN
    try:
        return read_number(str(cell))
    except ValueError:  # refused at its cell by scan_csv
        return None


def scan_csv(path: Path, limits: Limits) -> Problem | None:
    """The first cell, row or size over the limits, before pandas builds anything.

    The file's size is known from stat before it is opened; rows are counted as they
    stream past, so a million-row file stops at the limit, not after parsing it all."""
    if too_big := size_problem(path, limits.csv_bytes, "csv_bytes"):
        return Problem(path, None, "data", too_big)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = csv.reader(handle)
            for index, row in enumerate(rows):
                found = _row_problem(row, rows.line_num, limits)
                found = found or (_repeated_column(row) if index == 0 else None)
                if found:
                    return Problem(path, rows.line_num, "data", found)
    except UnicodeDecodeError as exc:
        return Problem(path, None, "data", f"not UTF-8 text ({exc.reason})")
    except csv.Error as exc:
        return Problem(path, None, "data", f"unreadable CSV: {exc}")
    except OSError as exc:
        return Problem(path, None, "data", f"cannot be read ({exc.strerror})")
    return None


def _row_problem(row: list[str], line: int, limits: Limits) -> str | None:
    """What is wrong with one row: its place in the file, its width, or one of its cells."""
    if line > limits.csv_rows + 1:  # the header is not a data row
        return f"more than {limits.csv_rows:,} rows ({raise_hint('csv_rows')})"
    if len(row) > limits.csv_columns:
        return f"{len(row):,} cells in a row, more than {limits.csv_columns:,} ({raise_hint('csv_columns')})"
    for cell in row:
        if found := text_problem(cell, limits) or _number_in(cell.strip(), limits):
            return f"cell {_preview(cell)}: {found}"
    return None


def _repeated_column(header: list[str]) -> str | None:
    """Two columns with one name (as read: trimmed, NFKC): pandas renames the second
    `eps.1`, so a table or multiple would use one of them and drop the other unsaid."""
    first: dict[str, int] = {}
    for number, name in enumerate(header, 1):
        key = canonical(name).strip()
        if not key:
            continue  # unnamed columns (a trailing comma) are never referred to
        if key in first:
            return (
                f"column '{key}' appears twice (columns {first[key]} and {number}): "
                "give each column its own name"
            )
        first[key] = number
    return None


def _number_in(cell: str, limits: Limits) -> str | None:
    """A cell pandas would read as a number must be one a page can print, and a cell
    that holds a number must be written so that pandas reads it as one."""
    try:
        value = read_number(cell)
    except ValueError as exc:
        return str(exc)
    if value is not None and math.isnan(value):
        return "'nan' is not a figure: leave the cell empty for a missing value"
    return None if value is None else number_problem(value, limits)


def _preview(cell: str) -> str:
    """A cell as it can be shown in a one-line message: short, and without the bad character."""
    found = bad_character(cell)
    shown = cell[: found[0]] if found else cell
    return repr(shown[:40] + ("..." if len(shown) > 40 else ""))


def _long_row(path: Path) -> int | None:
    """The line of the first row with more cells than the header."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = csv.reader(handle)
        width = len(next(rows, []))
        return next((rows.line_num for row in rows if len(row) > width), None)


def decimals_for(values: list[float], most: int = 2) -> int:
    """The fewest decimals (up to `most`) that show every value as written."""
    for places in range(most + 1):
        if all(math.isclose(v, round(v, places), abs_tol=1e-9) for v in values):
            return places
    return most


WIDE = Context(prec=400)  # every finite float at any shown precision
SNAP_DIGITS = 9  # a computed 200.5 / 200 − 1 is 0.0024999999999999467: by hand it is 0.25%


def rounded(value: float, places: int) -> Decimal:
    """Half away from zero, as research rounds (17.25 at one decimal is 17.3), from the
    shortest decimal that reads back as the float, first snapped to `SNAP_DIGITS` more
    decimals so that float error in a computed figure does not move it off a half."""
    exact = Decimal(repr(float(value)))
    snapped = exact.quantize(Decimal(1).scaleb(-(places + SNAP_DIGITS)), context=WIDE)
    return snapped.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, context=WIDE)


def format_number(value: float, places: int | None = None) -> str:
    """1234.5 -> '1,234.5'; negatives with a true minus sign (none on a figure that rounds to 0)."""
    if places is None:
        places = decimals_for([value])
    if not math.isfinite(value):  # an empty cell read as NaN: shown as it always was
        return f"{value:,.{places}f}"
    number = rounded(value, places)
    text = f"{abs(number):,.{places}f}"
    return f"{MINUS}{text}" if number < 0 else text


CURRENCIES = ("USD", "RMB", "CNY", "HKD", "EUR", "GBP", "JPY", "$", "€", "£", "¥")
SCALES = {"bn": "bn", "m": "m", "mn": "m", "tn": "tn", "k": "k"}


def format_with_unit(value: float, unit: str | None, high: float | None = None) -> str:
    """5.6 'USD bn' -> 'USD 5.6bn'; 35.8 '%' -> '35.8%'; 20..30 '%' -> '20–30%'."""
    places = decimals_for([value] if high is None else [value, high])
    number = format_number(value, places)
    if high is not None:
        number = f"{number}\u2013{format_number(high, places)}"
    if not unit:
        return number
    unit = unit.strip()
    if unit in ("%", "x", "pp", "×"):
        return f"{number}{unit}"
    parts = unit.split()
    if len(parts) == 2 and parts[0] in CURRENCIES and parts[1] in SCALES:
        return f"{parts[0]} {number}{SCALES[parts[1]]}"
    if unit in CURRENCIES:
        return f"{unit} {number}"
    return f"{number} {unit}"
