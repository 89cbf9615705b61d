"""Canonical before checked (issue 21.1): a value is checked in the form it is used in.

reportgen.toml: `true` is never a number, every size and duration has a range, a
byte-order mark is read. Briefs: one number reader for YAML and CSV, text checked
after NFKC (full-width `ＴＯＤＯ` is a placeholder).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from reportgen.build import check_brief
from reportgen.cli import main
from reportgen.config import ConfigError, load_config
from tests.conftest import MINIMAL
from tests.sellside_briefs import COMPS_CSV, FILES, market_spec


def config_error(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "reportgen.toml"
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value).replace(f"{tmp_path}/", "")


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            "[limits]\nbrief_bytes = true\n",
            "reportgen.toml:2: limits.brief_bytes: must be a whole number, not true",
        ),
        (
            "[limits]\ncsv_rows = 2.0\n",
            "reportgen.toml:2: limits.csv_rows: must be a whole number, not 2.0",
        ),
        ("[build]\nstrict = 1\n", "reportgen.toml:2: build.strict: must be true or false, not 1"),
        (
            "[build]\ntimeout = false\n",
            "reportgen.toml:2: build.timeout: must be a number, not false",
        ),
        (
            "[limits]\nbrief_bytes = 1073741824\n",
            "reportgen.toml:2: limits.brief_bytes: must be at most 16777216, not 1073741824",
        ),
        (
            "[limits]\nmarkdown_bytes = 0\n",
            "reportgen.toml:2: limits.markdown_bytes: must be at least 1, not 0",
        ),
        (
            "[limits]\ncsv_bytes = 99999999999\n",
            "reportgen.toml:2: limits.csv_bytes: must be at most 1073741824, not 99999999999",
        ),
        (
            "[limits]\ncsv_rows = 99999999999\n",
            "reportgen.toml:2: limits.csv_rows: must be at most 10000000, not 99999999999",
        ),
        (
            "[limits]\ncsv_columns = 100000\n",
            "reportgen.toml:2: limits.csv_columns: must be at most 10000, not 100000",
        ),
        (
            "[limits]\nimage_bytes = 2147483648\n",
            "reportgen.toml:2: limits.image_bytes: must be at most 1073741824, not 2147483648",
        ),
        (
            "[limits]\nimage_pixels = 900000000\n",
            "reportgen.toml:2: limits.image_pixels: must be at most 500000000, not 900000000",
        ),
        (
            "[limits]\ntext_chars = 100000000\n",
            "reportgen.toml:2: limits.text_chars: must be at most 1000000, not 100000000",
        ),
        (
            "[limits]\ndepth = 1000\n",
            "reportgen.toml:2: limits.depth: must be at most 200, not 1000",
        ),
        (
            "[limits]\nmax_number = 1e300\n",
            "reportgen.toml:2: limits.max_number: must be at most 1e+30, not 1e+300",
        ),
        (
            "[build]\ntimeout = inf\n",
            "reportgen.toml:2: build.timeout: must be a finite number, not inf",
        ),
        ("[build]\ntimeout = -1\n", "reportgen.toml:2: build.timeout: must be at least 0, not -1"),
        (
            "[build]\ntimeout = 1e9\n",
            "reportgen.toml:2: build.timeout: must be at most 86400, not 1000000000.0",
        ),
        (
            "[build]\nmemory_limit = 99999999999\n",
            "reportgen.toml:2: build.memory_limit: must be at most 1048576, not 99999999999",
        ),
    ],
)
def test_a_config_value_out_of_its_type_or_range_is_an_error_at_its_key(
    tmp_path: Path, toml: str, expected: str
) -> None:
    assert config_error(tmp_path, toml) == expected


def test_the_cli_prints_the_config_error_as_one_line_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_brief: Any, minimal: dict[str, Any]
) -> None:
    folder = make_brief(minimal)
    (tmp_path / "reportgen.toml").write_text("[limits]\nbrief_bytes = true\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: reportgen.toml:2: limits.brief_bytes: must be a whole number, not true"
    ]


def test_a_config_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "reportgen.toml"
    path.write_bytes(b"\xef\xbb\xbf# saved by Notepad\n[limits]\nbrief_bytes = 300000\n")
    assert load_config(path).limits.brief_bytes == 300_000
    path.write_bytes(b"\xef\xbb\xbf[limits]\nbrief_bytes = true\n")
    with pytest.raises(ConfigError, match=r"reportgen.toml:2: limits.brief_bytes: must be a whole"):
        load_config(path)


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
