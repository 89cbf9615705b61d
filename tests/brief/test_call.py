"""The call argued (brief-format v1.2, #20 model side): scenarios, the verdict measured against
them, the target's method and risks, estimates and key data. The PDF is read back and every
expected figure computed here from the inputs, rounded half away from zero as the page rounds."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from reportgen.brief.estimates import key_data
from reportgen.brief.models import Market
from reportgen.build import check_brief
from reportgen.cli import main
from reportgen.config import ConfigError, VerdictConfig, load_config
from reportgen.errors import Problem
from tests.conftest import build_brief
from tests.sellside_briefs import FILES, market_spec

PRICE, SHARES = 100.0, 2.5  # market_spec's
CASES = {"bull": (170.0, 0.25), "base": (130.0, 0.50), "bear": (60.0, 0.25)}
ESTIMATES_CSV = (
    "year,basis,revenue,ebitda,eps,fcf\n"
    "2024,A,40,8,4,5\n"
    "2025,A,50,10,5,6\n"
    "2026,E,60,12.5,-1,\n"  # a loss: P/E n.m.; no FCF: n.a.
    "2027,E,66,13.2,6.5,7.5\n"
)
CALL_FILES = {**FILES, "estimates.csv": ESTIMATES_CSV}


def call_spec(**market: Any) -> dict[str, Any]:
    """market_spec (price 100, target 130) argued: method, risks, scenarios and estimates."""
    spec = market_spec(
        method='Thirteen times 2027E EPS {{ cite("alpha") }}.',
        target_risks="A price war.",
        **market,
    )
    spec["scenarios"] = [
        {"case": case, "value": value, "probability": p, "drivers": f"{case} drivers"}
        | {"sources": ["alpha"]}
        for case, (value, p) in CASES.items()
    ]
    spec["estimates"] = {"data": "estimates.csv", "currency": "USD", "unit": "bn", "source": "beta"}
    return spec


def half_up(value: float, places: int) -> str:
    """The page's rounding, written independently: half away from zero, true minus sign."""
    number = Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    text = f"{abs(number):,.{places}f}"
    return f"\u2212{text}" if number < 0 else text


def signed_pct(fraction: float) -> str:
    text = half_up(fraction * 100, 1)
    return f"{'' if text.startswith(chr(0x2212)) else '+'}{text}%"


def pdf_text(tmp_path: Path, spec: dict[str, Any], files: dict[str, str]) -> str:
    folder = write(tmp_path, spec, files)
    result = build_brief(folder, tmp_path / "out")
    assert result.status == "built", result.problems
    pages = PdfReader(tmp_path / "out/acme/acme.pdf").pages
    return " ".join(" ".join((p.extract_text() or "") for p in pages).split())


def write(tmp_path: Path, spec: dict[str, Any], files: dict[str, str]) -> Path:
    from tests.conftest import write_brief

    return write_brief(tmp_path / "briefs" / "acme", spec, files)


def line_of(folder: Path, needle: str, nth: int = 1) -> int:
    lines = (folder / "brief.yaml").read_text().splitlines()
    found = [i for i, text in enumerate(lines, 1) if needle in text]
    return found[nth - 1]


def errors(folder: Path) -> list[str]:
    return [str(p) for p in check_brief(folder)[1] if p.severity == "error"]


def warnings(folder: Path) -> list[Problem]:
    return [p for p in check_brief(folder)[1] if p.severity == "warning"]


# ---------------------------------------------------------------- the page, read back


def test_pdf_shows_each_case_the_weighted_value_and_the_levels_they_imply(tmp_path: Path) -> None:
    text = pdf_text(tmp_path, call_spec(), CALL_FILES)
    for case, (value, probability) in CASES.items():
        row = rf"{case.capitalize()}\s*{half_up(value, 2)}\s*\[\d\]\s*{re.escape(signed_pct(value / PRICE - 1))}"
        assert re.search(row, text), (case, row)
        assert f"{half_up(probability * 100, 0)}%" in text
    weighted = sum(v * p for v, p in CASES.values())
    assert re.search(
        rf"Weighted\s*{half_up(weighted, 2)}\s*(\[\d\])+\s*{re.escape(signed_pct(weighted / PRICE - 1))}",
        text,
    )
    bull, bear = CASES["bull"][0] / PRICE - 1, CASES["bear"][0] / PRICE - 1
    assert f"Reward: high as the bull case implies ({signed_pct(bull)}" in text  # 0.5 <= 0.7 < 1
    assert f"Risk: high as the bear case implies ({signed_pct(bear)}" in text  # -0.5 < -0.4 <= -0.3
    assert "Risk and reward: the price against the scenarios" in text
    assert "Price now 100.00" in text and "Target 130.00" in text
    assert "Price target USD 130.00, 12 months: method" in text and "Risks to the target" in text
    assert "A price war." in text


def test_pdf_shows_the_financial_summary_computed_from_the_csv(tmp_path: Path) -> None:
    text = pdf_text(tmp_path, call_spec(), CALL_FILES)
    rows = list(csv.DictReader(io.StringIO(ESTIMATES_CSV)))
    labels = [f"{r['year']}{r['basis']}" for r in rows]
    assert re.search(r"\s*".join(rf"{y}(\[\d\])?" for y in labels), text)
    revenue = [float(r["revenue"]) for r in rows]
    growth = ["n.a."] + [signed_pct(b / a - 1) for a, b in itertools.pairwise(revenue)]
    margin = [f"{half_up(float(r['ebitda']) * 100 / float(r['revenue']), 1)}%" for r in rows]
    pe = [
        f"{half_up(PRICE / float(r['eps']), 1)}x" if float(r["eps"]) > 0 else "n.m." for r in rows
    ]
    value = PRICE * SHARES
    fcf_yield = [
        f"{half_up(float(r['fcf']) * 100 / value, 1)}%" if r["fcf"] else "n.a." for r in rows
    ]
    for label, cells in [
        ("Revenue growth", growth),
        ("EBITDA margin", margin),
        (r"P/E at the current price\s*\[\d\]", pe),
        (r"FCF yield on market value\s*\[\d\]", fcf_yield),
    ]:
        pattern = label + r"\s*" + r"\s*".join(re.escape(c) for c in cells)
        assert re.search(pattern, text), (pattern, text[text.find("Financial summary") :][:900])


def test_key_data_from_prices_a_year_to_the_market_date(tmp_path: Path) -> None:
    """The 52-week window is the 365 days up to market.date: the close exactly a year before
    is the 12-month change's base, not part of the range; later closes are not counted."""
    rows = [
        ("2025-11-19", 40.0),
        ("2025-11-20", 50.0),  # a year before 2026-11-20: the base
        ("2025-11-21", 130.0),  # the first day of the window: the high
        ("2026-06-01", 80.0),  # the low
        ("2026-11-20", 100.0),
        ("2026-11-21", 300.0),  # after market.date
    ]
    prices = "date,close\n" + "".join(f"{d},{c}\n" for d, c in rows)
    market = Market.model_validate(call_spec()["market"])
    points = [(date.fromisoformat(d), c) for d, c in rows]
    found = key_data(points, market)
    assert found is not None
    assert (found.high, found.low, found.year_ago) == (130.0, 80.0, date(2025, 11, 20))
    assert found.since == date(2025, 11, 21)
    assert found.change == pytest.approx(PRICE / 50.0 - 1)
    text = pdf_text(tmp_path, call_spec(), {**CALL_FILES, "prices.csv": prices})
    change = re.escape(signed_pct(PRICE / 50 - 1))
    # the window is shown, so a base below the 52-week low is explained on the page
    assert "closes from 21 November 2025" in " ".join(text.split())
    note = r"\s*(?:(?:closes|price ÷ close of) [^\n]*?\s*)?"  # the key data's note, if between
    for shown in (
        rf"52-week high{note}USD 130\.00",
        rf"52-week low{note}USD 80\.00",
        rf"12-month change{note}{change}",
    ):
        assert re.search(shown + r"\s*\[\d\]", text, re.IGNORECASE), shown


def test_the_price_is_the_close_of_its_day(make_brief: Callable[..., Path]) -> None:
    """A price of 300 beside a 52-week high of 100 from the CSV: a warning; without a row
    that day the price itself counts in the 52-week range."""
    spec = call_spec()
    spec["market"]["price"] = 300
    _, problems = check_brief(make_brief(spec, CALL_FILES))
    found = [p for p in problems if p.finding == "market:close"]
    assert [p.message for p in found] == [
        "price 300 on 2026-11-20 is not the close that day in prices.csv (line 4: 100): the "
        "52-week range and 12-month change are read from that file; give one price"
    ]
    market = Market.model_validate(call_spec(price=300)["market"])
    found_data = key_data([(date(2026, 6, 1), 80.0), (date(2026, 11, 19), 100.0)], market)
    assert found_data is not None and (found_data.high, found_data.low) == (300.0, 80.0)


def test_computed_figures_round_half_away_from_zero() -> None:
    from reportgen.brief.data import format_number
    from reportgen.brief.valuation import format_premium, format_value

    assert format_number(17.25, 1) == "17.3" and format_value(17.25, True) == "17.3x"
    assert format_number(-17.25, 1) == "\u221217.3" and format_premium(0.12345) == "+12.3%"
    assert format_number(-0.04, 1) == "0.0"  # no minus sign on a figure shown as zero


def test_a_computed_figure_on_a_half_rounds_as_by_hand() -> None:
    """200 -> 200.5 is +0.25% growth, 0.3% at one decimal, though the float is 0.00249999..."""
    from reportgen.brief.data import format_number
    from reportgen.brief.valuation import format_premium

    assert format_premium(200.5 / 200 - 1) == "+0.3%"
    assert format_number(1.15 * 100 - 100, 1) == "15.0" and format_number(2.675, 2) == "2.68"
    assert format_number(1e300, 2).endswith(",000.00")  # any finite float, any precision


# ---------------------------------------------------------------- errors at their line


@pytest.mark.parametrize(
    ("edit", "needle", "message"),
    [
        (
            lambda s: s["scenarios"].pop(2),
            "scenarios:",
            "scenarios: no bear case: give bull, base and bear",
        ),
        (
            lambda s: s["scenarios"][2].update(case="bull"),
            "case: bull#2",
            "scenarios[2].case: case 'bull' is given twice (first at line {first})\n"
            "{yaml}:{scenarios}: scenarios: no bear case: give bull, base and bear",
        ),
        (
            lambda s: s["scenarios"][0].update(probability=0.3),
            "scenarios:",
            "scenarios: probabilities add up to 1.05 (0.3 + 0.5 + 0.25), not 1 (±0.005)",
        ),
        (
            lambda s: s["scenarios"][1].update(probability=0.506),
            "scenarios:",
            "scenarios: probabilities add up to 1.006 (0.25 + 0.506 + 0.25), not 1 (±0.005)",
        ),
        (
            lambda s: s["scenarios"][2].update(value=140),
            "value: 140",
            "scenarios[2].value: bear value 140 must be below the base value 130 "
            "(bear < base < bull)",
        ),
    ],
)
def test_scenario_errors_name_their_line(
    make_brief: Callable[..., Path],
    edit: Callable[[dict[str, Any]], Any],
    needle: str,
    message: str,
) -> None:
    spec = call_spec()
    edit(spec)
    folder = make_brief(spec, CALL_FILES)
    text, _, nth = needle.partition("#")
    line = line_of(folder, text, int(nth or 1))
    first, scenarios = line_of(folder, "case: bull"), line_of(folder, "scenarios:")
    shown = message.format(first=first, yaml=folder / "brief.yaml", scenarios=scenarios)
    assert "\n".join(errors(folder)) == f"{folder / 'brief.yaml'}:{line}: {shown}"


def test_thousands_of_scenarios_are_one_error(make_brief: Callable[..., Path]) -> None:
    """2,000 extra bull cases printed 2,000 'given twice' lines."""
    spec = call_spec()
    bull = spec["scenarios"][0]
    spec["scenarios"] += [{**bull, "value": 200 + i, "sources": ["alpha"]} for i in range(2000)]
    folder = make_brief(spec, CALL_FILES)
    found = errors(folder)
    assert len(found) == 1 and found[0].endswith(
        "scenarios[3]: 2,003 cases: give exactly three, bull, base and bear"
    )


def test_probabilities_within_half_a_thousandth_add_up(make_brief: Callable[..., Path]) -> None:
    spec = call_spec()
    spec["scenarios"][1]["probability"] = 0.504
    assert errors(make_brief(spec, CALL_FILES)) == []


def test_scenarios_need_a_market_block(make_brief: Callable[..., Path]) -> None:
    spec = call_spec()
    for key in ("market", "prices", "estimates"):
        del spec[key]
    folder = make_brief(spec, CALL_FILES)
    assert errors(folder) == [
        f"{folder / 'brief.yaml'}:{line_of(folder, 'scenarios:')}: scenarios: "
        "scenarios need a market block (the price they are measured against)"
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2028,A,70,14,7,8", "2028A is an actual year after as_of 2026-11-21: mark it E"),
        ("2023,E,30,6,3,4", "2023E comes before the last actual year, 2025A"),
        ("2025,E,30,6,3,4", "year 2025 is given twice (lines 3 and 6)"),
        ("2028,F,30,6,3,4", "basis must be A (actual) or E (estimate), not 'F'"),
        ("2028,E,30,6,3.x,4", "eps '3.x' is not a number (leave it empty for n.a.)"),
        ("2028.5,E,30,6,3,4", "year must be a year such as 2026, not '2028.5'"),
        # the one number rule (a traceback, and 1,370 read as 1370, before)
        ('"2,028",E,30,6,3,4', "year must be a year such as 2026, not '2,028'"),
        ('2028,E,"1,370",6,3,4', "revenue '1,370' is not a number (leave it empty for n.a.)"),
    ],
)
def test_estimate_rows_are_errors_at_their_csv_line(
    make_brief: Callable[..., Path], row: str, message: str
) -> None:
    folder = make_brief(call_spec(), {**CALL_FILES, "estimates.csv": ESTIMATES_CSV + row + "\n"})
    assert errors(folder) == [f"{folder / 'estimates.csv'}:6: estimates.data: {message}"]


@pytest.mark.parametrize(
    ("source", "message"), [("", "no source in this row"), ("nope", "unknown source 'nope'")]
)
def test_a_bad_source_cell_in_estimates_is_an_error_at_its_row(
    make_brief: Callable[..., Path], source: str, message: str
) -> None:
    """It was reported at brief.yaml's `data:` line, an empty cell as "unknown source ''"."""
    spec = call_spec()
    del spec["estimates"]["source"]
    rows = ESTIMATES_CSV.splitlines()
    csv_text = f"{rows[0]},source\n{rows[1]},beta\n{rows[2]},{source}\n"
    folder = make_brief(spec, {**CALL_FILES, "estimates.csv": csv_text})
    assert [e.split(" (known:")[0] for e in errors(folder)] == [
        f"{folder / 'estimates.csv'}:3: estimates.data: {message}"
    ]


def test_estimates_with_a_header_and_no_row_are_an_error(make_brief: Callable[..., Path]) -> None:
    """It built a financial summary of row labels and no year."""
    header = ESTIMATES_CSV.splitlines()[0] + "\n"
    folder = make_brief(call_spec(), {**CALL_FILES, "estimates.csv": header})
    assert errors(folder) == [
        f"{folder / 'brief.yaml'}:{line_of(folder, 'data: estimates.csv')}: estimates.data: "
        "estimates.csv has no rows: give one row per fiscal year"
    ]


def test_estimates_in_another_currency_than_the_price_is_an_error(
    make_brief: Callable[..., Path],
) -> None:
    spec = call_spec()
    spec["estimates"]["currency"] = "RMB"
    folder = make_brief(spec, CALL_FILES)
    assert errors(folder) == [
        f"{folder / 'brief.yaml'}:{line_of(folder, 'currency: RMB')}: estimates.currency: "
        "currency RMB is not the market's USD: P/E and FCF yield divide these figures by the "
        "price, so give them in one currency"
    ]


# ---------------------------------------------------------------- target method and risks


def test_a_v12_target_without_method_is_an_error_at_the_target(
    make_brief: Callable[..., Path],
) -> None:
    spec = call_spec()
    del spec["market"]["method"]
    folder = make_brief(spec, CALL_FILES)
    assert errors(folder) == [
        f"{folder / 'brief.yaml'}:{line_of(folder, 'target: 130')}: market.target: "
        "price target 130 needs `method:` (how it is derived, Markdown)"
    ]


def test_a_method_the_reader_cannot_see_is_no_method(make_brief: Callable[..., Path]) -> None:
    """A soft hyphen alone (or a zero-width space) passed as a method and printed nothing."""
    spec = call_spec()
    spec["market"]["method"] = "\u00ad"
    folder = make_brief(spec, CALL_FILES)
    assert errors(folder) == [
        f"{folder / 'brief.yaml'}:{line_of(folder, 'target: 130')}: market.target: "
        "price target 130 needs `method:` (how it is derived, Markdown)"
    ]


def test_a_v11_target_without_method_still_builds_with_findings(
    make_brief: Callable[..., Path],
) -> None:
    """Briefs written to v1.1 keep building: the missing method and risks are findings a
    reviewer can accept, so the brief is a draft until someone has looked."""
    spec = market_spec()
    del spec["market"]["method"], spec["market"]["target_risks"]
    folder = make_brief(spec, FILES)
    checked, problems = check_brief(folder)
    assert checked is not None
    found = {p.finding: p for p in problems if (p.finding or "").startswith("target:")}
    assert set(found) == {"target:method", "target:target_risks"}
    assert all(p.line == line_of(folder, "target: 130") for p in found.values())
    (folder / "review.yaml").write_text(
        "".join(
            f"- key: {key}\n  accepted: {{by: A. Analyst, on: 2026-11-21, "
            f'reason: "Method given in the thesis."}}\n  values: [130]\n'
            for key in found
        )
    )
    checked, problems = check_brief(folder)
    assert checked is not None and not [p for p in checked.warnings if p.finding in found]


# ---------------------------------------------------------------- warnings with findings


def test_a_target_far_from_base_and_weighted_value_is_a_finding(
    make_brief: Callable[..., Path],
) -> None:
    folder = make_brief(call_spec(target=150), CALL_FILES)  # base 130, weighted 122.5
    found = [p for p in warnings(folder) if p.finding == "scenarios:target"]
    assert [p.line for p in found] == [line_of(folder, "target: 150")]
    assert "more than 5% from both the base value 130 (+15.4%)" in found[0].message
    assert found[0].values == (150, 130, "122.50")


def test_a_target_within_5_percent_of_the_weighted_value_is_argued(
    make_brief: Callable[..., Path],
) -> None:
    folder = make_brief(call_spec(target=128), CALL_FILES)  # 128 / 122.5 − 1 = 4.5%
    assert not [p for p in warnings(folder) if p.finding == "scenarios:target"]


def test_a_verdict_level_the_scenarios_do_not_imply_is_a_finding(
    make_brief: Callable[..., Path],
) -> None:
    spec = call_spec()
    spec["verdict"].update(label="An asymmetric bet", reward="very-high", risk="high")
    folder = make_brief(spec, CALL_FILES)
    found = [p for p in warnings(folder) if (p.finding or "").startswith("verdict:")]
    assert [(p.finding, p.line, p.values) for p in found] == [
        ("verdict:reward", line_of(folder, "reward: very-high"), ("very-high", "high", "+70.0%"))
    ]


def test_verdict_thresholds_come_from_reportgen_toml(
    make_brief: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a high reward from +80%, the bull's +70% is medium: the brief's 'high' disagrees."""
    folder = make_brief(call_spec(), CALL_FILES)
    root = folder.parent.parent
    (root / "reportgen.toml").write_text("[verdict]\nreward = {high = 0.8, very-high = 1.5}\n")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["check", "briefs/acme"])
    assert result.exit_code == 0, result.output
    assert (
        "verdict.reward: warning: verdict.reward is high but the bull case (+70.0% to the price) implies medium"
        in result.output
    )


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            "[verdict]\nreward = {medium = 0.6}\n",
            "t.toml:2: verdict.reward: must rise: medium 0.6 < high 0.5 < very-high 1",
        ),
        (
            "[verdict]\nrisk = {high = 0.3}\n",
            "t.toml:2: verdict.risk.high: must be less than 0, not 0.3",
        ),
        ("[verdict]\nrisk = {extreme = -0.9}\n", "t.toml:2: verdict.risk.extreme: Extra inputs"),
    ],
)
def test_verdict_thresholds_are_checked_at_their_line(
    tmp_path: Path, toml: str, message: str
) -> None:
    path = tmp_path / "t.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).removeprefix(str(tmp_path) + "/").startswith(message)


def test_verdict_defaults_are_the_contract_s() -> None:
    levels = VerdictConfig()
    assert (levels.reward.medium, levels.reward.high, levels.reward.very_high) == (0.2, 0.5, 1.0)
    assert (levels.risk.medium, levels.risk.high, levels.risk.very_high) == (-0.15, -0.3, -0.5)


# ---------------------------------------------------------------- authors and schema


def test_authors_are_names_or_named_analysts(make_brief: Callable[..., Path]) -> None:
    spec = call_spec()
    spec["authors"] = ["Desk", {"name": "Mei Chen", "role": "Analyst", "email": "mei@desk.example"}]
    checked, _ = check_brief(make_brief(spec, CALL_FILES))
    assert checked is not None
    assert [str(a) for a in checked.spec.brief.authors] == ["Desk", "Mei Chen"]
    spec["authors"] = [{"name": "Mei Chen", "email": "not an address"}]
    folder = make_brief(spec, CALL_FILES)
    assert [e.split(": ")[1] for e in errors(folder)] == ["authors[0].email"]


def test_an_author_name_or_role_on_two_lines_is_an_error(make_brief: Callable[..., Path]) -> None:
    """'Mei\\r\\nBcc: x@y' passed check and printed as it came in the header and certification."""
    spec = call_spec()
    spec["authors"] = ["Desk\nTwo", {"name": "Mei\r\nBcc: x@y", "role": "Analyst\n"}]
    folder = make_brief(spec, CALL_FILES)
    assert [e.split(": ", 1)[1] for e in errors(folder)] == [
        "authors[0].name: contains a line break (U+000A): write it on one line",
        "authors[1].name: contains a line break (U+000D): write it on one line",
    ]  # a role ending in a newline (`role: |`) is one line


def test_schema_covers_every_v12_key() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    import json

    schema = json.loads(result.output)
    defs = schema["$defs"]
    assert {"scenarios", "estimates", "authors"} <= set(schema["properties"])
    assert {"method", "target_risks"} <= set(defs["Market"]["properties"])
    assert set(defs["Scenario"]["properties"]) == {
        "case",
        "value",
        "probability",
        "drivers",
        "sources",
    }
    assert set(defs["Estimates"]["properties"]) == {"data", "currency", "unit", "source"}
    assert set(defs["Author"]["properties"]) == {"name", "role", "email"}
    authors = schema["properties"]["authors"]["items"]["anyOf"]
    assert {"type": "string"} in authors


def test_a_scenario_value_that_moves_is_a_change(make_brief: Callable[..., Path]) -> None:
    from reportgen.render.changes import compare, take_snapshot

    def snapshot(bull: float) -> Any:
        spec = call_spec()
        spec["scenarios"][0]["value"] = bull
        checked, _ = check_brief(make_brief(spec, CALL_FILES))
        assert checked is not None
        return take_snapshot("acme", checked.spec.brief, "2026-11-21T06:00:00", [], [])

    changes = compare(snapshot(170), snapshot(180))
    assert [(m.label, m.old, m.new) for m in changes.metrics] == [
        ("Bull case value", "USD 170", "USD 180")
    ]


@pytest.mark.parametrize(
    ("bull", "reward"), [(0.1999, "low"), (0.2, "medium"), (0.5, "high"), (1.0, "very-high")]
)
def test_reward_level_starts_at_its_threshold(bull: float, reward: str) -> None:
    from reportgen.brief.scenarios import reward_level

    assert reward_level(bull, VerdictConfig().reward) == reward


@pytest.mark.parametrize(
    ("bear", "risk"), [(-0.1499, "low"), (-0.15, "medium"), (-0.3, "high"), (-0.5, "very-high")]
)
def test_risk_level_starts_at_its_threshold(bear: float, risk: str) -> None:
    from reportgen.brief.scenarios import risk_level

    assert risk_level(bear, VerdictConfig().risk) == risk


def test_a_disagreeing_verdict_accepted_with_a_reason_is_publishable(
    make_brief: Callable[..., Path],
) -> None:
    spec = call_spec()
    spec["verdict"].update(label="An asymmetric bet", reward="very-high")
    folder = make_brief(spec, CALL_FILES)
    (folder / "review.yaml").write_text(
        "- key: verdict:reward\n"
        '  accepted: {by: A. Analyst, on: 2026-11-21, reason: "Bull case is conservative."}\n'
        "  values: [very-high, high, '+70.0%']\n"
    )
    checked, _ = check_brief(folder)
    assert checked is not None and checked.publishable, checked and checked.warnings
    spec["scenarios"][0]["value"] = 175  # the bull case moved: the acceptance lapses
    checked, _ = check_brief(make_brief(spec, CALL_FILES))
    assert checked is not None and not checked.publishable


def test_key_data_a_year_before_29_february_is_the_28th() -> None:
    from reportgen.brief.estimates import year_earlier

    assert year_earlier(date(2028, 2, 29)) == date(2027, 2, 28)


def test_a_method_without_a_target_is_an_error(make_brief: Callable[..., Path]) -> None:
    spec = call_spec()
    del spec["market"]["target"]
    folder = make_brief(spec, CALL_FILES)
    assert errors(folder) == [
        f"{folder / 'brief.yaml'}:{line_of(folder, 'method:')}: market.method: "
        "`method:` argues a price target: add `target:`",
        f"{folder / 'brief.yaml'}:{line_of(folder, 'target_risks:')}: market.target_risks: "
        "`target_risks:` argues a price target: add `target:`",
    ]


def test_a_scenario_source_must_exist(make_brief: Callable[..., Path]) -> None:
    spec = call_spec()
    spec["scenarios"][1]["sources"] = ["gamma"]
    folder = make_brief(spec, CALL_FILES)
    assert errors(folder) == [
        f"{folder / 'brief.yaml'}:{line_of(folder, '- gamma')}: scenarios[1].sources[0]: "
        "unknown source 'gamma' (known: alpha, beta, quote)"
    ]


def test_an_estimates_csv_without_a_column_is_an_error(make_brief: Callable[..., Path]) -> None:
    csv_text = "year,basis,revenue,ebitda,eps\n2025,A,50,10,5\n"
    folder = make_brief(call_spec(), {**CALL_FILES, "estimates.csv": csv_text})
    assert errors(folder) == [
        f"{folder / 'brief.yaml'}:{line_of(folder, 'data: estimates.csv')}: estimates.data: "
        "no column 'fcf' in estimates.csv (columns: year, basis, revenue, ebitda, eps)"
    ]


def test_format_number_leaves_a_missing_value_as_it_was() -> None:
    from reportgen.brief.data import format_number

    assert format_number(float("nan")) == "nan"  # an empty CSV cell read by pandas


def test_the_method_and_its_risks_are_markdown_bounded_as_markdown(
    make_brief: Callable[..., Path],
) -> None:
    """Inline, they were held to text_chars (2,000) and scanned for placeholders twice."""
    spec = call_spec()
    spec["market"]["method"] = "Thirteen times 2027E EPS, as the peers trade. " * 60
    spec["market"]["target_risks"] = "A price war. TODO: the capex case."
    folder = make_brief(spec, CALL_FILES)
    assert errors(folder) == []
    found = [p for p in warnings(folder) if "TODO" in p.message]
    assert [p.key for p in found] == ["market.target_risks"], found


def test_a_disputed_figure_in_the_method_is_named_there(tmp_path: Path) -> None:
    """The reconciliation says where the brief uses each value: the method is no verdict."""
    spec = call_spec()
    spec["metrics"].append(
        {"id": "revenue_b", "label": "Revenue", "value": 13.9, "unit": "USD bn"}
        | {"period": "FY2025", "source": "beta"}
    )
    spec["market"]["method"] = 'Thirteen times sales of {{ metric("revenue_b") }}.'
    text = pdf_text(tmp_path, spec, CALL_FILES)
    assert re.search(r"USD 13\.9bn\[\d\] in the target's method", text), text[-1500:]
