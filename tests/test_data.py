"""Number formatting and CSV reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.brief.data import format_number, format_with_unit, read_csv
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
