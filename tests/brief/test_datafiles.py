"""Data files have one meaning (issue 21.3): a repeated column, a day with two closes, a
price after `as_of` and a `market.date` after `as_of` are errors at their line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reportgen.build import check_brief
from reportgen.cli import main
from reportgen.errors import Problem
from tests.sellside_briefs import FILES, PRICES_CSV, market_spec


def errors(folder: Path) -> list[str]:
    checked, problems = check_brief(folder)
    assert checked is None
    return [str(p).replace(f"{folder}/", "") for p in problems if p.severity == "error"]


@pytest.mark.parametrize(
    ("name", "header", "expected"),
    [
        (
            "comps.csv",
            "company,price,eps,ev,eps",
            "comps.csv:1: data: column 'eps' appears twice (columns 3 and 5): "
            "give each column its own name",
        ),
        (
            "comps.csv",
            "company,price,eps,ev, eps ",
            "comps.csv:1: data: column 'eps' appears twice (columns 3 and 5): "
            "give each column its own name",
        ),
        (
            "comps.csv",
            "company,price,eps,ev,\uff45\uff50\uff53",  # ｅｐｓ: reads as eps
            "comps.csv:1: data: column 'eps' appears twice (columns 3 and 5): "
            "give each column its own name",
        ),
        (
            "prices.csv",
            "date,close,date",
            "prices.csv:1: data: column 'date' appears twice (columns 1 and 3): "
            "give each column its own name",
        ),
    ],
)
def test_a_repeated_column_is_an_error_at_the_header(
    make_brief: Any, name: str, header: str, expected: str
) -> None:
    original = FILES[name]
    width = len(original.splitlines()[0].split(","))
    rows = original.splitlines()[1:]
    extra = len(header.split(",")) - width
    text = "\n".join([header, *(r + ",1" * extra for r in rows)]) + "\n"
    assert errors(make_brief(market_spec(), {**FILES, name: text})) == [expected]


def test_a_repeated_column_in_metrics_csv_is_an_error(
    make_brief: Any, minimal: dict[str, Any]
) -> None:
    minimal["metrics"] = "metrics.csv"
    rows = "id,label,value,unit,source,value\nrevenue,Revenue,12.5,USD bn,alpha,13\n"
    rows += "growth,Revenue growth,34,%,beta,35\n"
    assert errors(make_brief(minimal, {"metrics.csv": rows})) == [
        "metrics.csv:1: data: column 'value' appears twice (columns 3 and 6): "
        "give each column its own name"
    ]


def test_a_day_with_two_closes_is_an_error_at_the_second(make_brief: Any) -> None:
    prices = PRICES_CSV + "2026-08-20,95\n"
    assert errors(make_brief(market_spec(), {**FILES, "prices.csv": prices})) == [
        "prices.csv:5: prices: 2026-08-20 has two closes (lines 3 and 5): give each day one row"
    ]


@pytest.mark.parametrize("day", ["２０２６-08-21", "٢٠٢٦-08-21"])
def test_a_price_date_in_other_digits_is_refused_at_its_cell(make_brief: Any, day: str) -> None:
    """Like a number, a date is written with the digits 0-9 (strptime read `２０２６` as 2026)."""
    prices = PRICES_CSV + f"{day},95\n"
    assert errors(make_brief(market_spec(), {**FILES, "prices.csv": prices})) == [
        f"prices.csv:5: prices: column 'date' must be a date (YYYY-MM-DD), not '{day}'"
    ]


def test_a_price_after_as_of_is_an_error_at_its_row(make_brief: Any) -> None:
    prices = PRICES_CSV + "2030-01-02,140\n"
    assert errors(make_brief(market_spec(), {**FILES, "prices.csv": prices})) == [
        "prices.csv:5: prices: 2030-01-02 is after as_of (2026-11-21): "
        "a brief shows no price after its data cut-off"
    ]


def test_two_past_calls_on_one_day_are_an_error_at_the_second(make_brief: Any) -> None:
    spec = market_spec()
    call = spec["market"]["history"][0]
    spec["market"]["history"].append({**call, "rating": "Sell"})
    folder = make_brief(spec, FILES)
    day = str(call["date"])
    [message] = errors(folder)
    assert message.endswith(
        f"market.history[1].date: {day} has two calls (history[0] and [1]): give each day one call"
    )


def test_a_market_date_after_as_of_is_an_error_at_its_line(make_brief: Any) -> None:
    spec = market_spec(date="2026-11-23")
    spec["market"]["history"][0]["date"] = "2027-01-05"
    folder = make_brief(spec, FILES)
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 1
    lines = [line.replace(f"{folder}/", "") for line in result.output.splitlines()]
    market = _line_of(folder, "2026-11-23")
    history = _line_of(folder, "2027-01-05")
    assert lines == [
        f"brief.yaml:{market}: market.date: 2026-11-23 is after as_of (2026-11-21): "
        "the price cannot be newer than the data cut-off",
        f"brief.yaml:{history}: market.history[0].date: 2027-01-05 is after as_of "
        "(2026-11-21): a past call cannot be newer than the data cut-off",
    ]


def test_a_price_on_as_of_and_distinct_days_are_fine(make_brief: Any) -> None:
    spec = market_spec(date="2026-11-21")
    prices = PRICES_CSV + "2026-11-21,101\n"
    checked, problems = check_brief(make_brief(spec, {**FILES, "prices.csv": prices}))
    assert checked is not None, problems


def _line_of(folder: Path, text: str) -> int:
    lines = (folder / "brief.yaml").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def test_na_is_text_in_a_column_of_text_and_a_gap_in_a_column_of_numbers(
    tmp_path: Path,
) -> None:
    """pandas read `NA` (North America) and `None` as missing in any column: the table
    showed a dash where the file said NA."""
    from reportgen.brief.data import read_csv

    path = tmp_path / "regions.csv"
    path.write_text("region,eps,share\nNA,N/A,40\nEU,3.5,NA\nNone,1,2\n", encoding="utf-8")
    frame = read_csv(path)
    assert not isinstance(frame, Problem)
    assert list(frame.df["region"]) == ["NA", "EU", "None"]
    assert [v if v == v else None for v in frame.df["eps"]] == [None, 3.5, 1.0]
    assert [v if v == v else None for v in frame.df["share"]] == [40.0, None, 2.0]


def test_a_column_of_na_only_is_text(tmp_path: Path) -> None:
    """A column with no number in it is not a column of numbers: every region `NA` (North
    America) was read as gaps and shown as dashes. An empty column is still a gap of numbers."""
    from reportgen.brief.data import read_csv

    path = tmp_path / "regions.csv"
    path.write_text("region,eps,note\nNA,N/A,\nNA,2.5,\n", encoding="utf-8")
    frame = read_csv(path)
    assert not isinstance(frame, Problem)
    assert list(frame.df["region"]) == ["NA", "NA"]
    assert [v if v == v else None for v in frame.df["eps"]] == [None, 2.5]
    assert frame.df["note"].dtype == float


def test_a_code_with_a_leading_zero_is_text_as_written(tmp_path: Path) -> None:
    """pandas read Tencent's ticker `0700` as the number 700, and `true` as a flag: a
    column is numbers only when every cell is one by the brief's number rule."""
    from reportgen.brief.data import read_csv

    path = tmp_path / "peers.csv"
    path.write_text("company,ticker,listed,pe\nTencent,0700,true,18\nAlibaba,9988,false,12.5\n")
    frame = read_csv(path)
    assert not isinstance(frame, Problem)
    assert list(frame.df["ticker"]) == ["0700", "9988"]
    assert list(frame.df["listed"]) == ["true", "false"]
    assert list(frame.df["pe"]) == [18.0, 12.5]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "peers.csv",
            "company,share\nAcme,40\nGlobex,035\nInitech,25\n",
            "peers.csv:3: charts[0].y: column 'share' has a value that is not a number: '035'",
        ),
        (
            "prices.csv",
            "date,close\n2026-05-20,80\n2026-08-20,090\n2026-11-20,100\n",
            "prices.csv:3: prices: column 'close' must be a positive number, not '090'",
        ),
    ],
)
def test_a_column_that_must_hold_numbers_reads_them_by_the_one_rule(
    make_brief: Any, name: str, text: str, expected: str
) -> None:
    """pandas coerced `035` to 35 where the number rule says it is a code: the check and
    the page now read the cell the same way."""
    assert errors(make_brief(market_spec(), {**FILES, name: text})) == [expected]
