"""valuation: the one-operation formula language, multiples, n.m./n.a., peer median, premium."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reportgen.brief.data import read_csv
from reportgen.brief.models import Valuation
from reportgen.brief.valuation import (
    compute_comps,
    format_premium,
    format_value,
    parse_formula,
)
from reportgen.build import check_brief
from reportgen.errors import FormulaError
from tests.sellside_briefs import COMPS_CSV, FILES, market_spec


@pytest.mark.parametrize(
    ("text", "left", "op", "right"),
    [
        ("price / eps", "price", "/", "eps"),
        ("ev/ebitda_fy2026", "ev", "/", "ebitda_fy2026"),
        ("  net_debt + 12.5 ", "net_debt", "+", 12.5),
        ("2 * shares", 2.0, "*", "shares"),
        ("mcap - cash", "mcap", "-", "cash"),
    ],
)
def test_one_operation_parses(text: str, left: object, op: str, right: object) -> None:
    formula = parse_formula(text)
    assert (formula.left, formula.op, formula.right) == (left, op, right)


@pytest.mark.parametrize(
    "text",
    [
        "price / eps * 2",
        "(price) / eps",
        "price",
        "price // eps",
        "2 / 3",
        "price / -eps",
        "__import__('os').system('true')",
        "price.real / eps",
        "",
    ],
)
def test_anything_but_one_operation_is_refused(text: str) -> None:
    with pytest.raises(FormulaError):
        parse_formula(text)


def comps_for(tmp_path: Path) -> tuple[Valuation, object]:
    (tmp_path / "comps.csv").write_text(COMPS_CSV, encoding="utf-8")
    frame = read_csv(tmp_path / "comps.csv")
    valuation = Valuation.model_validate(market_spec()["valuation"])
    return valuation, frame


def test_multiples_median_and_premium_match_hand_arithmetic(tmp_path: Path) -> None:
    valuation, frame = comps_for(tmp_path)
    comps = compute_comps(valuation, frame)  # type: ignore[arg-type]
    shown = {r.name: [format_value(v, True) for v in r.values] for r in comps.rows}
    assert shown == {
        "Acme": ["20.0x", "10.0x"],
        "Hooli": ["15.0x", "15.0x"],
        "Globex": ["n.m.", "8.0x"],  # negative EPS
        "Initech": ["n.m.", "9.0x"],  # zero EPS
        "Umbrella": ["n.a.", "n.a."],  # price and EBITDA missing
        "Stark": ["30.0x", "10.0x"],
    }
    # peers only, meaningful values only: P/E median of 15 and 30; EV/EBITDA of 15, 8, 9, 10
    assert comps.median == [22.5, 9.5]
    assert [format_premium(p) for p in comps.premium] == ["\u221211.1%", "+5.3%"]
    assert [r.name for r in comps.rows if r.subject] == ["Acme"]
    assert all(r.sources == ["alpha"] for r in comps.rows)


def test_a_subject_without_a_multiple_has_no_premium(tmp_path: Path) -> None:
    valuation, frame = comps_for(tmp_path)
    valuation = valuation.model_copy(update={"subject": "Globex"})
    comps = compute_comps(valuation, frame)  # type: ignore[arg-type]
    assert comps.premium[0] == "n.m."
    assert comps.median[0] == 20.0  # Acme 20, Hooli 15, Stark 30 now peers


def test_formula_that_is_not_one_operation_is_an_error_at_its_line(
    make_brief: Callable[..., Path], tmp_path: Path
) -> None:
    spec = market_spec()
    payload = tmp_path / "pwned"
    spec["valuation"]["multiples"][1]["of"] = f"__import__('os').system('touch {payload}')"
    folder = make_brief(spec, FILES)
    checked, problems = check_brief(folder)
    assert checked is None
    text = (folder / "brief.yaml").read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1) if "__import__" in t)
    assert [str(p) for p in problems if p.severity == "error"] == [
        f"{folder / 'brief.yaml'}:{line}: valuation.multiples[1].of: "
        f"'__import__('os').system('touch {payload}')': unexpected '(' "
        "(only column names, numbers and one of + - * /)"
    ]
    assert not payload.exists()


def test_two_operations_are_an_error_never_evaluated(make_brief: Callable[..., Path]) -> None:
    spec = market_spec()
    spec["valuation"]["multiples"][0]["of"] = "price / eps * 100"
    folder = make_brief(spec, FILES)
    _, problems = check_brief(folder)
    line = next(
        i for i, t in enumerate((folder / "brief.yaml").read_text().splitlines(), 1) if "* 100" in t
    )
    assert [str(p) for p in problems] == [
        f"{folder / 'brief.yaml'}:{line}: valuation.multiples[0].of: 'price / eps * 100' is not "
        "one operation: write column op column or column op number (op: + - * /), e.g. 'price / eps'"
    ]


def test_unknown_column_in_a_formula(make_brief: Callable[..., Path]) -> None:
    spec = market_spec()
    spec["valuation"]["multiples"][0]["of"] = "price / eps_2027"
    _, problems = check_brief(make_brief(spec, FILES))
    assert [p.message for p in problems] == [
        "no column 'eps_2027' in comps.csv (columns: company, price, eps, ev, ebitda)"
    ]
