"""Number formatting and CSV reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.brief.data import format_number, format_with_unit, read_csv, scan_csv
from reportgen.config import Limits
from reportgen.errors import Problem


@pytest.mark.parametrize(
    ("value", "unit", "high", "expected"),
    [
        (5.6, "USD bn", None, "USD 5.6bn"),
        (380, "RMB bn", None, "RMB 380bn"),
        (35.8, "%", None, "35.8%"),
        (-71, "%", None, "\u221271%"),
        (20, "%", 30, "20\u201330%"),
        (1234567.891, None, None, "1,234,567.89"),
        (6, "quarters", None, "6 quarters"),
        (1.5, "x", None, "1.5x"),
        (2.25, "pp", None, "2.25pp"),
        (12, "EUR", None, "EUR 12"),
    ],
)
def test_format_with_unit(
    value: float, unit: str | None, high: float | None, expected: str
) -> None:
    assert format_with_unit(value, unit, high) == expected


def test_format_number_fixed_places() -> None:
    assert format_number(-1234.5, 2) == "\u22121,234.50"
    assert format_number(0.0) == "0"


def test_csv_with_bom_and_utf8_names(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes("\ufeffcompany,share\n阿里巴巴,35.8\n".encode())
    frame = read_csv(path)
    assert not isinstance(frame, Problem)
    assert list(frame.df.columns) == ["company", "share"]
    assert frame.df["company"][0] == "阿里巴巴"


def test_csv_not_utf8_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes("company,share\n\xe9t\xe9,1\n".encode("latin-1"))
    problem = read_csv(path)
    assert isinstance(problem, Problem)
    assert "not UTF-8" in str(problem)


def test_empty_csv_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("")
    problem = read_csv(path)
    assert isinstance(problem, Problem) and str(problem).endswith("the CSV file is empty")


def scanned(tmp_path: Path, text: str, **limits: int) -> str | None:
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    problem = scan_csv(path, Limits(**limits))
    return None if problem is None else str(problem).removeprefix(f"{tmp_path}/")


@pytest.mark.parametrize(
    ("text", "limits", "expected"),
    [
        ("a,b\n1,2\n3,4\n", {"csv_rows": 2}, None),
        (
            "a,b\n1,2\n3,4\n5,6\n",
            {"csv_rows": 2},
            "d.csv:4: data: more than 2 rows (raise [limits].csv_rows in reportgen.toml)",
        ),
        (
            "a,b,c\n1,2,3\n",
            {"csv_columns": 2},
            "d.csv:1: data: 3 cells in a row, more than 2 (raise [limits].csv_columns in reportgen.toml)",
        ),
        (
            "a,b\nxxxxxx,1\n",
            {"text_chars": 5},
            "d.csv:2: data: cell 'xxxxxx': text is 6 characters long, over the limit of 5 "
            "(raise [limits].text_chars in reportgen.toml)",
        ),
        (
            "a,b\nAcme\u202egnp,1\n",
            {},
            "d.csv:2: data: cell 'Acme': contains U+202E (RIGHT-TO-LEFT OVERRIDE), an invisible "
            "character that can make the text display differently from what was written: remove it",
        ),
        (
            "a,b\nx,-Infinity\n",
            {},
            "d.csv:2: data: cell '-Infinity': must be a finite number, not -inf",
        ),
        (
            "a,b\nx,NaN\n",
            {},
            "d.csv:2: data: cell 'NaN': 'nan' is not a figure: leave the cell empty for a missing value",
        ),
        ("a,b\nx,\nN/A,999999999999999\n", {}, None),
    ],
)
def test_scan_bounds_every_row_and_cell(
    tmp_path: Path, text: str, limits: dict[str, int], expected: str | None
) -> None:
    assert scanned(tmp_path, text, **limits) == expected


def test_scan_reads_the_size_before_the_file(tmp_path: Path) -> None:
    """A 4 GiB (sparse) CSV is refused by its size: reading it would take seconds and GBs."""
    path = tmp_path / "d.csv"
    with path.open("wb") as handle:
        handle.truncate(4 << 30)
    assert str(read_csv(path)) == (
        f"{path}: data: 'd.csv' is 4 GiB, over the limit of 10 MiB "
        "(raise [limits].csv_bytes in reportgen.toml)"
    )


def test_one_huge_cell_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    text = "a,b\n" + '"' + "x" * 200_000 + '",1\n'
    assert scanned(tmp_path, text, text_chars=10**6) == (
        "d.csv: data: unreadable CSV: field larger than field limit (131072)"
    )
