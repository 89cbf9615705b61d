"""Tables: select, rename, sort, highlight, numbers formatted for reading."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reportgen.brief.data import Frame
from reportgen.brief.models import Table
from reportgen.render.tables import build_table


def view(table: Table, df: pd.DataFrame):  # type: ignore[no-untyped-def]
    return build_table(
        table, Frame(Path("d.csv"), df), lambda s: f"<sup>{s}</sup>", lambda s: f"{s}<sup>{s}</sup>"
    )


DF = pd.DataFrame(
    {
        "company": ["Globex", "Acme", "Initech"],
        "revenue": [1234.5, -20.25, None],
        "year": [2024, 2025, 2025],
        "source": ["a", "b", "a"],
    }
)


def test_select_rename_sort_highlight_and_format() -> None:
    table = Table(
        id="t",
        title="T",
        data="d.csv",
        columns={
            "company": "Company",
            "revenue": "Revenue (USD m)",
            "year": "Year",
            "source": "Source",
        },
        sort="-revenue",
        highlight="Acme",
        source=None,
    )
    result = view(table, DF)
    assert [h for h, _ in result.headers] == ["Company", "Revenue (USD m)", "Year", "Source"]
    assert [cells[0].text for cells, _ in result.rows] == ["Globex", "Acme", "Initech"]
    globex, acme, initech = (cells for cells, _ in result.rows)
    assert globex[1].text == "1,234.50" and acme[1].text == "\u221220.25" and acme[1].negative
    assert initech[1].text == "\u2014"  # a missing value is a dash, never 'nan'
    assert globex[2].text == "2024" and not globex[2].numeric  # years without separators
    assert acme[3].html == "<sup>b</sup>"  # a source column shows footnote marks
    assert [highlighted for _, highlighted in result.rows] == [False, True, False]
    assert result.source_marks == ""


def test_whole_table_source_is_named_on_its_source_line() -> None:
    """One source for the whole table: the source line names it, then its mark, as a
    chart's does ('Source: Alpha Report[1]', never a bare 'Source: [1]')."""
    result = view(Table(id="t", title="T", data="d.csv", source="a"), DF[["company", "revenue"]])
    assert result.source_marks == "a<sup>a</sup>"


SHARES = pd.DataFrame(
    {
        "company": ["Alibaba Cloud", "Tencent Cloud"],
        "share_pct": [36.0, 35.8],
        "multiple": [2.5, 12.0],
        "capex": [1234.5, 20.0],
    }
)


def test_a_unit_column_reads_like_the_prose() -> None:
    """'Share (%)' shows 36% (as the text says it), not 36.0; the header drops the '(%)'."""
    table = Table(
        id="t",
        title="T",
        data="d.csv",
        source="a",
        columns={
            "company": "Company",
            "share_pct": "Share (%)",
            "multiple": "EV/Sales",
            "capex": "Capex (USD bn)",
        },
        format={"multiple": "x", "capex": "USD bn"},
    )
    result = view(table, SHARES)
    assert [h for h, _ in result.headers] == ["Company", "Share", "EV/Sales", "Capex"]
    first, second = (cells for cells, _ in result.rows)
    assert [c.text for c in first[1:]] == ["36%", "2.5x", "USD 1,234.5bn"]
    assert [c.text for c in second[1:]] == ["35.8%", "12x", "USD 20bn"]


def test_plain_format_and_unitless_columns_keep_one_number_of_decimals() -> None:
    table = Table(id="t", title="T", data="d.csv", source="a", format={"share_pct": "plain"})
    result = view(table, SHARES)
    assert [h for h, _ in result.headers][1] == "share_pct"
    first, _ = (cells for cells, _ in result.rows)
    assert [c.text for c in first[1:]] == ["36.0", "2.5", "1,234.5"]
    derived = view(Table(id="t", title="T", data="d.csv", source="a"), SHARES)
    assert derived.rows[0][0][1].text == "36%"  # from the name share_pct
