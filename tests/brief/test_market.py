"""market: price block arithmetic and its checks; the built PDF read back (market, comps, catalysts)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from reportgen.brief.market import market_value, target_text, upside
from reportgen.brief.models import Market
from reportgen.build import check_brief
from reportgen.errors import Problem
from tests.conftest import MINIMAL, build_brief, write_brief
from tests.sellside_briefs import COMPS_CSV, FILES, market_spec


def line_of(folder: Path, needle: str) -> int:
    lines = (folder / "brief.yaml").read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if needle in text)


def problems_of(
    make_brief: Callable[..., Path], spec: dict[str, Any]
) -> tuple[Path, list[Problem]]:
    folder = make_brief(spec, FILES)
    return folder, check_brief(folder)[1]


def test_market_value_and_upside_are_computed() -> None:
    market = Market.model_validate(market_spec()["market"])
    assert market_value(market) == 250.0  # 100 × 2.5bn shares
    assert round(upside(market) or 0, 12) == 0.3  # 130 / 100 − 1


def test_a_brief_without_v11_keys_checks_as_before(make_brief: Callable[..., Path]) -> None:
    checked, problems = check_brief(make_brief(MINIMAL))
    assert checked is not None and checked.spec.brief.market is None
    assert not [p for p in problems if p.key.startswith(("market", "valuation", "catalysts"))]


def test_target_without_horizon_is_an_error_at_the_target(make_brief: Callable[..., Path]) -> None:
    spec = market_spec()
    del spec["market"]["horizon"]
    folder, problems = problems_of(make_brief, spec)
    assert [str(p) for p in problems if p.severity == "error"] == [
        f"{folder / 'brief.yaml'}:{line_of(folder, 'target: 130')}: market.target: "
        "price target 130 has no horizon: add `horizon:` (e.g. 12 months)"
    ]


def test_missing_subject_row_is_an_error(make_brief: Callable[..., Path]) -> None:
    spec = market_spec()
    spec["valuation"]["subject"] = "Acme Corp"
    folder, problems = problems_of(make_brief, spec)
    assert [str(p) for p in problems if p.severity == "error"] == [
        f"{folder / 'brief.yaml'}:{line_of(folder, 'subject: Acme Corp')}: valuation.subject: "
        "no row where company is 'Acme Corp' in comps.csv "
        "(rows: Acme, Hooli, Globex, Initech, Umbrella, Stark)"
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Acme", "company 'Acme' has two rows (lines 2 and 8)"),
        ("Hooli", "company 'Hooli' has two rows (lines 3 and 8)"),
        ("hooli", "company 'hooli' has two rows (lines 3 and 8)"),
        ("Stark ", "company 'Stark' has two rows (lines 7 and 8)"),
        ("", "a row with no company"),
        ("N/A", "a row with no company"),
    ],
)
def test_a_comps_row_that_repeats_a_company_or_names_none_is_an_error(
    make_brief: Callable[..., Path], row: str, message: str
) -> None:
    """The subject twice would give its premium from one row; a peer twice, or a nameless
    row, would count in the median: none of it is said, so each is refused at its row."""
    files = {**FILES, "comps.csv": COMPS_CSV + f"{row},70,5,350,35\n"}
    folder = make_brief(market_spec(), files)
    problems = [str(p) for p in check_brief(folder)[1] if p.severity == "error"]
    assert len(problems) == 1 and problems[0].startswith(
        f"{folder / 'comps.csv'}:8: valuation.data: {message}"
    ), problems


def test_stale_price_is_a_warning(make_brief: Callable[..., Path]) -> None:
    spec = market_spec(date="2026-11-01")
    folder, problems = problems_of(make_brief, spec)
    line = line_of(folder, "date: '2026-11-01'")
    assert [str(p) for p in problems if "stale price" in p.message] == [
        f"{folder / 'brief.yaml'}:{line}: market.date: warning: "
        "stale price USD 100 (2026-11-01): 20 days old on 2026-11-21, limit 7 days for prices "
        "(max_age_days)"
    ]


def test_price_age_limit_follows_the_brief_checks(make_brief: Callable[..., Path]) -> None:
    spec = market_spec(date="2026-11-01")
    spec["checks"] = {"max_age_days": {"price": 30}}
    _, problems = problems_of(make_brief, spec)
    assert not [p for p in problems if "stale price" in p.message]


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        (
            {
                "id": "upside",
                "label": "Upside to target",
                "value": 35,
                "unit": "%",
                "source": "quote",
            },
            "'Upside to target' states 35% but reportgen computes 30.0% (target 130 / price 100 − 1)",
        ),
        (
            {
                "id": "mcap",
                "label": "Market cap",
                "value": 300,
                "unit": "USD bn",
                "source": "quote",
            },
            "'Market cap' states USD 300bn but reportgen computes USD 250.0bn "
            "(price 100 × 2.5bn shares)",
        ),
        (
            {"id": "pe", "label": "P/E 2026", "value": 18, "unit": "x", "source": "alpha"},
            "'P/E 2026' states 18x but reportgen computes 20.0x "
            "(Acme's P/E 2026 in the comparables)",
        ),
    ],
)
def test_metric_stating_another_computed_figure_is_a_warning(
    make_brief: Callable[..., Path], metric: dict[str, Any], message: str
) -> None:
    """An upside, a market value or a multiple the brief states, unlike the one computed."""
    spec = market_spec()
    spec["metrics"].append(metric)
    folder, problems = problems_of(make_brief, spec)
    line = line_of(folder, f"value: {metric['value']}")
    assert [str(p) for p in problems if "reportgen computes" in p.message] == [
        f"{folder / 'brief.yaml'}:{line}: metrics[2].value: warning: {message}"
    ]


def test_a_rounded_statement_agrees(make_brief: Callable[..., Path]) -> None:
    spec = market_spec(target=126.7)  # 26.7% upside, stated as 27%
    spec["metrics"].append(
        {"id": "upside", "label": "Implied upside", "value": 27, "unit": "%", "source": "quote"}
    )
    _, problems = problems_of(make_brief, spec)
    assert not [p for p in problems if "reportgen computes" in p.message]


def test_unknown_market_source_is_an_error(make_brief: Callable[..., Path]) -> None:
    _, problems = problems_of(make_brief, market_spec(source="feed"))
    assert [(p.key, p.message) for p in problems if p.severity == "error"] == [
        ("market.source", "unknown source 'feed' (known: alpha, beta, quote)")
    ]


def test_prices_csv_needs_dates_and_positive_closes(make_brief: Callable[..., Path]) -> None:
    files = {**FILES, "prices.csv": "date,close\n2026-05-20,80\n2026-08-xx,90\n"}
    folder = make_brief(market_spec(), files)
    _, problems = check_brief(folder)
    assert [str(p) for p in problems] == [
        f"{folder / 'prices.csv'}:3: prices: column 'date' must be a date (YYYY-MM-DD), not '2026-08-xx'"
    ]


def test_pdf_shows_market_block_on_page_one_comps_and_catalysts(tmp_path: Path) -> None:
    folder = write_brief(tmp_path / "briefs" / "acme", market_spec(), FILES)
    result = build_brief(folder, tmp_path / "out")
    assert result.status == "built", result.problems
    pages = [p.extract_text() or "" for p in PdfReader(tmp_path / "out/acme/acme.pdf").pages]
    first = " ".join(pages[0].split())
    for text in ("USD 100.00", "USD 130.00", "+30.0%", "USD 250.0bn", "12 months", "Buy"):
        assert text in first, text
    whole = " ".join(" ".join(pages).split())
    assert re.search(r"\b\d+ Valuation\b", whole) and "against peers" not in whole
    assert re.search(r"Acme\s*\[\d\]\s*20\.0x\s*10\.0x", whole)
    assert re.search(r"Globex\s*\[\d\]\s*n\.m\.\s*8\.0x", whole)
    assert re.search(r"Umbrella\s*\[\d\]\s*n\.a\.\s*n\.a\.", whole)
    assert re.search(r"Peer median \(excl\. Acme\)\s*\[\d\]\s*22\.5x\s*9\.5x", whole)
    assert "\u221211.1%" in whole and "+5.3%" in whole
    catalysts = whole[whole.index("Catalysts") :]
    assert (
        catalysts.index("Dec 2026") < catalysts.index("Investor day") < catalysts.index("Q1 2027")
    )
    assert "Q4 results" in catalysts and "cloud growth" in catalysts
    assert "Share price and price target (USD)" in whole


def test_schema_lists_the_v11_keys() -> None:
    from reportgen.brief.models import brief_schema

    properties = brief_schema()["properties"]
    assert {"market", "prices", "valuation", "catalysts"} <= set(properties)


def test_prices_without_a_market_block_is_an_error(make_brief: Callable[..., Path]) -> None:
    spec = market_spec()
    del spec["market"]
    _, problems = problems_of(make_brief, spec)
    assert [(p.key, p.message) for p in problems if p.severity == "error"] == [
        ("prices", "a price chart needs a market block (its currency and source)")
    ]


def test_a_target_reads_the_same_to_every_reader() -> None:
    """Page, history table, what changed and the email all write a target through
    target_text: half away from zero (the email's f-string wrote 160.125 as 160.12)."""
    market = Market.model_validate(
        {"price": 118.4, "currency": "USD", "date": "2026-11-20", "target": 160.125, "source": "q"}
    )
    assert target_text(market) == "USD 160.13"
    assert target_text(market, 1234.5) == "USD 1,234.50"
