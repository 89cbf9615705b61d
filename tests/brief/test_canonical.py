"""Canonical before checked (issue 21.1): a brief's value is checked in the form it is used
in. One number reader for YAML and CSV (ASCII digits; others refused at their cell), `true`
never a number, text checked as the reader sees it (NFKC: full-width `ＴＯＤＯ` is TODO)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reportgen.build import check_brief
from tests.conftest import MINIMAL
from tests.sellside_briefs import COMPS_CSV, FILES, market_spec


def found(folder: Path) -> list[str]:
    """Every problem `reportgen check` prints for a brief, paths relative to its folder."""
    _, problems = check_brief(folder)
    return [str(p).replace(f"{folder}/", "") for p in problems]


def comps_brief(make_brief: Any, cell: str) -> Path:
    spec = market_spec()
    comps = COMPS_CSV.replace("Hooli,60,4,300,20", f"Hooli,60,{cell},300,20")
    return make_brief(spec, {**FILES, "comps.csv": comps})


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (  # Python reads it as 4, pandas as text: once a silent "n.a."
            "\u0664",
            "comps.csv:3: data: cell '\u0664': write the number with the digits 0-9, as 4, "
            "not with U+0664 (ARABIC-INDIC DIGIT FOUR)",
        ),
        (
            "\uff14",
            "comps.csv:3: data: cell '\uff14': write the number with the digits 0-9, as 4, "
            "not with U+FF14 (FULLWIDTH DIGIT FOUR)",
        ),
        (
            "4_0",
            "comps.csv:3: data: cell '4_0': write the number with the digits 0-9, as 40, not with '_'",
        ),
        (
            '"4,0"',
            "comps.csv:3: valuation.data: cell '4,0' in column 'eps' is not a number (empty is n.a.)",
        ),
    ],
)
def test_a_number_in_other_digits_is_refused_at_its_cell(
    make_brief: Any, cell: str, expected: str
) -> None:
    assert found(comps_brief(make_brief, cell)) == [expected]


def test_arabic_indic_digits_are_refused_in_metrics_csv_as_in_any_csv(
    make_brief: Any, minimal: dict[str, Any]
) -> None:
    """metrics.csv once read `١٠٠` as 100 while comps.csv read it as n.a.: one rule now."""
    minimal["metrics"] = "metrics.csv"
    rows = "id,label,value,unit,source\nrevenue,Revenue,\u0661\u0662,USD bn,alpha\n"
    rows += "growth,Revenue growth,34,%,beta\n"
    assert found(make_brief(minimal, {"metrics.csv": rows})) == [
        "metrics.csv:2: data: cell '\u0661\u0662': write the number with the digits 0-9, as 12, "
        "not with U+0661 (ARABIC-INDIC DIGIT ONE)"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0x10", "metrics[0].value: must be a number, not '0x10'"),
        ("1_000", "metrics[0].value: must be a number, not '1_000'"),
        ("0b101", "metrics[0].value: must be a number, not '0b101'"),
        ("\u0661\u0660\u0660", "metrics[0].value: must be a number, not '\u0661\u0660\u0660'"),
        ("true", "metrics[0].value: must be a number, not true"),
    ],
)
def test_brief_yaml_numbers_follow_the_csv_rule(
    make_brief: Any, minimal: dict[str, Any], value: str, expected: str
) -> None:
    text = BRIEF_YAML.replace("value: 12.5", f"value: {value}")
    assert found(make_brief(text)) == [f"brief.yaml:25: {expected}"]


def test_a_whole_number_too_long_for_python_is_an_error_at_its_line(make_brief: Any) -> None:
    """Not Python's "use sys.set_int_max_str_digits()" without a line."""
    text = BRIEF_YAML.replace("value: 12.5", f"value: {'9' * 5000}")
    assert found(make_brief(text)) == [
        "brief.yaml:25: yaml: a whole number of 5,000 digits: too long to be a figure"
    ]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("price", "true", "market.price: must be a number, not true"),
        ("shares", "false", "market.shares: must be a number, not false"),
        ("target", "'130'", "market.target: must be a number, not '130'"),
        ("max_age_days", "true", "market.max_age_days: must be a whole number, not true"),
    ],
)
def test_true_and_false_are_never_numbers_in_a_brief(
    make_brief: Any, key: str, value: str, expected: str
) -> None:
    spec = market_spec()
    spec["market"].pop(key, None)
    text = _dump(spec).replace("market:\n", f"market:\n  {key}: {value}\n", 1)
    folder = make_brief(text, FILES)
    line = text.splitlines().index(f"  {key}: {value}") + 1
    assert f"brief.yaml:{line}: {expected}" in found(folder)


def test_full_width_placeholders_are_placeholders(make_brief: Any, minimal: dict[str, Any]) -> None:
    minimal["subtitle"] = "\uff34\uff2f\uff24\uff2f: a subtitle"  # ＴＯＤＯ
    files = {"peers.csv": "company,share\nAcme,40\nGlobex,35\n\uff34\uff22\uff24,25\n"}
    problems = found(make_brief(minimal, files))
    lines = _dump(minimal).splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.startswith("subtitle:"))
    assert (
        f"brief.yaml:{line}: subtitle: warning: placeholder text left in the brief (TODO): "
        "replace it with the real content"
    ) in problems
    assert (
        "peers.csv:4: row: warning: placeholder text left in the brief (TBD): "
        "replace it with the real content"
    ) in problems


def test_full_width_periods_and_labels_are_the_periods_and_labels_they_show(
    make_brief: Any, minimal: dict[str, Any]
) -> None:
    """`Ｑ１ ２０２５` is stale like Q1 2025, and `Ｒｅｖｅｎｕｅ` conflicts with Revenue."""
    minimal["metrics"][0]["period"] = "\uff31\uff11 \uff12\uff10\uff12\uff15"
    minimal["metrics"].append(
        {
            "id": "revenue_b",
            "label": "\uff32evenue",
            "value": 14.0,
            "unit": "USD bn",
            "period": "Q1 2025",
            "source": "beta",
        }
    )
    problems = " ".join(found(make_brief(minimal)))
    assert "stale figure 'Revenue'" in problems
    assert "conflicting figures for 'Revenue'" in problems


def _dump(spec: dict[str, Any]) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    stream = io.StringIO()
    yaml.dump(spec, stream)
    return stream.getvalue()


BRIEF_YAML = _dump(MINIMAL)


def test_a_yaml_1_1_directive_is_refused(make_brief: Any) -> None:
    """Under `%YAML 1.1`, `010` is 8 and `yes` is true: a brief is read as YAML 1.2 only."""
    folder = make_brief("%YAML 1.1\n---\n" + BRIEF_YAML)
    assert found(folder) == [
        "brief.yaml:2: yaml: %YAML 1.1 is not allowed: a brief is YAML 1.2, remove the directive"
    ]


def test_a_key_flag_in_metrics_csv_is_true_false_or_an_error(
    make_brief: Any, minimal: dict[str, Any]
) -> None:
    """`ture` was read as false: a figure silently left out of the key-figures box."""
    minimal["metrics"] = "metrics.csv"
    rows = "id,label,value,unit,source,key\nrevenue,Revenue,12.5,USD bn,alpha,ture\n"
    rows += "growth,Revenue growth,34,%,beta,no\n"
    assert found(make_brief(minimal, {"metrics.csv": rows})) == [
        "metrics.csv:2: metrics[0].key: must be true or false, not 'ture'"
    ]


def test_a_line_break_in_a_yaml_key_is_an_error(make_brief: Any) -> None:
    """A source id is printed in messages and finding keys: one line, like every id."""
    text = BRIEF_YAML.replace("  beta:\n", '  "be\\nta":\n')
    assert found(make_brief(text))[0] == (
        "brief.yaml:19: sources.be\\u000ata: contains a line break (U+000A): write it on one line"
    )


def test_digits_in_patterns_and_formulas_are_ascii(make_brief: Any) -> None:
    """`\\d` matches any script's digits: `when: ２０２７-Q1` passed the pattern and then
    failed as a date, and `of: price / ٢` divided by two."""
    spec = market_spec()
    spec["catalysts"][0]["when"] = "\uff12\uff10\uff12\uff17-Q1"
    assert [p.split(": ", 1)[1] for p in found(make_brief(spec, FILES))] == [
        "catalysts[0].when: '\uff12\uff10\uff12\uff17-Q1' may only use "
        "^[0-9]{4}-(?:[0-9]{2}(?:-[0-9]{2})?|Q[1-4])$"
    ]
    spec = market_spec()
    spec["valuation"]["multiples"][0]["of"] = "price / \u0662"
    assert [p.split(": ", 1)[1] for p in found(make_brief(spec, FILES))] == [
        "valuation.multiples[0].of: 'price / \u0662': unexpected '\u0662' "
        "(only column names, numbers and one of + - * /)"
    ]


def test_a_number_is_never_a_date(make_brief: Any) -> None:
    """pydantic read `as_of: 1728000000` as seconds since 1970: 2024-10-04."""
    text = BRIEF_YAML.replace("as_of: '2026-11-21'", "as_of: 1728000000")
    assert found(make_brief(text)) == [
        "brief.yaml:6: as_of: must be a real date written YYYY-MM-DD, not 1728000000"
    ]


@pytest.mark.parametrize(
    "body",
    [
        "Margin is TO\u00adDO.",  # a soft hyphen: the page prints TODO
        "Margin is &#84;ODO.",  # Markdown prints the character reference as T
        "Margin is T\ufe00ODO.",  # a variation selector
    ],
)
def test_a_placeholder_hidden_from_the_check_but_not_the_reader_is_found(
    make_brief: Any, minimal: dict[str, Any], body: str
) -> None:
    minimal["sections"][0]["body"] = body
    problems = found(make_brief(minimal))
    assert any(
        "sections[0].body: warning: placeholder text left in the brief (TODO)" in p
        for p in problems
    ), problems


def test_a_leading_zero_makes_a_code_not_a_number_in_yaml_as_in_csv(make_brief: Any) -> None:
    """YAML read `ticker: 0700` as the number 700, a CSV cell `0700` as 700 too."""
    text = BRIEF_YAML.replace("ticker: ACME", "ticker: 0700").replace("value: 12.5", "value: 012")
    assert found(make_brief(text)) == [
        "brief.yaml:25: metrics[0].value: must be a number, not '012'"
    ]
    ok = make_brief(BRIEF_YAML.replace("ticker: ACME", "ticker: 0700"))
    checked, _ = check_brief(ok)
    assert checked is not None and checked.spec.brief.subject.ticker == "0700"
