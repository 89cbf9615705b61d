"""Figure checks: each fires on a small brief built to trip it, with its exact message,
and the example brief shows only its real conflicts and its real staleness."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reportgen.brief.integrity import parse_period, same_period
from reportgen.build import check_brief
from reportgen.cli import main
from tests.conftest import EXAMPLE

MakeBrief = Callable[..., Path]


def warnings(folder: Path) -> list[str]:
    checked, problems = check_brief(folder)
    assert checked is not None, [str(p) for p in problems]
    return [str(p) for p in problems]


def line(folder: Path, text: str, file: str = "brief.yaml") -> int:
    """The line of `file` (in the brief folder) that holds `text`."""
    return next(i for i, ln in enumerate((folder / file).read_text().splitlines(), 1) if text in ln)


def test_minimal_brief_is_quiet(make_brief: MakeBrief, minimal: dict[str, Any]) -> None:
    assert warnings(make_brief(minimal)) == []


# ------------------------------------------------------------------ provenance


def test_hand_typed_figures_are_flagged_with_file_and_line(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    minimal["sections"][0]["body"] = "thesis.md"
    text = (
        'Growth was {{ metric("growth") }} {{ cite("beta") }}.\n'
        "Cloud revenue reached $5.6 billion, up 34% on the year.\n"
        "The plan is RMB 380bn; margins fell -12%.\n"
    )
    folder = make_brief(minimal, {"thesis.md": text})
    md = folder / "thesis.md"
    hint = 'make it a metric and write {{ metric("id") }}'
    assert warnings(folder) == [
        f"{md}:2: sections[0].body: warning: hand-typed figure '$5.6 billion' is not traced to a source: {hint}",
        f"{md}:2: sections[0].body: warning: hand-typed figure '34%' is not traced to a source: {hint}",
        f"{md}:3: sections[0].body: warning: hand-typed figure 'RMB 380bn' is not traced to a source: {hint}",
        f"{md}:3: sections[0].body: warning: hand-typed figure '-12%' is not traced to a source: {hint}",
    ]


def test_years_dates_ordinals_and_helpers_are_not_figures(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    minimal["sections"][0]["body"] = "thesis.md"
    text = (
        'In 2025, for the 3rd year, growth was {{ metric("growth") }} {{ cite("beta") }}.\n'
        "Results came on 20 November 2026 (2026-11-20) and on November 21, 2026.\n"
        "1. Q2 and H1 2025 figures, FY2025, COVID-19 and 5G are labels.\n"
        "2. See [the filing](https://example.org/2024/10/report-17) and `code 42`.\n"
        "\n## 3.1 Outlook\n"
    )
    assert warnings(make_brief(minimal, {"thesis.md": text})) == []


def test_figure_after_a_helper_spanning_lines_keeps_its_line(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    """Helper calls come from Jinja's syntax tree, not a regex: a call broken over lines
    (and one with single quotes) is not prose, and the lines after it still count right."""
    minimal["sections"][0]["body"] = "thesis.md"
    text = "Growth was {{ metric(\n  'growth'\n) }} in 2025.\nMargins reached 41%.\n"
    folder = make_brief(minimal, {"thesis.md": text})
    assert warnings(folder) == [
        f"{folder / 'thesis.md'}:4: sections[0].body: warning: hand-typed figure '41%' is not traced "
        'to a source: make it a metric and write {{ metric("id") }}'
    ]


def test_figure_in_inline_markdown_names_the_yaml_line(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    minimal["risks"][0]["body"] = "Rivals cut prices by 15%."
    folder = make_brief(minimal)
    assert warnings(folder) == [
        f"{folder}/brief.yaml:{line(folder, 'Rivals cut')}: risks[0].body: warning: hand-typed figure '15%' is not traced to a source: "
        'make it a metric and write {{ metric("id") }}'
    ]


# ------------------------------------------------------------------ conflicts


def _second_revenue(minimal: dict[str, Any], value: float) -> None:
    minimal["metrics"].append(
        {
            "id": "revenue_b",
            "label": "Revenue",
            "value": value,
            "unit": "USD bn",
            "period": "FY2025",
            "source": "beta",
        }
    )


def test_metric_conflict_beyond_tolerance(make_brief: MakeBrief, minimal: dict[str, Any]) -> None:
    _second_revenue(minimal, 13)
    folder = make_brief(minimal)
    assert warnings(folder) == [
        f"{folder}/brief.yaml:{line(folder, 'value: 13')}: metrics[2].value: warning: conflicting figures for 'Revenue' (FY2025): "
        "USD 12.5bn (alpha, revenue) vs USD 13bn (beta, revenue_b), spread USD 0.5bn"
    ]


def test_metric_values_within_tolerance_agree(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    _second_revenue(minimal, 12.52)  # 0.16% apart: within the default 0.5%
    assert warnings(make_brief(minimal)) == []


def test_tolerance_is_configurable(make_brief: MakeBrief, minimal: dict[str, Any]) -> None:
    _second_revenue(minimal, 13)  # 3.8% apart
    minimal["checks"] = {"tolerance_pct": 5}
    assert warnings(make_brief(minimal)) == []


SHARES = "company,share,period,source\nAcme,40,H1 2025,alpha\nGlobex,35,H1 2025,alpha\nAcme,44,{period},beta\n"


def test_rows_from_two_sources_that_disagree_conflict(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    minimal["tables"][0].pop("source")
    minimal["charts"][0].pop("source")
    folder = make_brief(minimal, {"peers.csv": SHARES.format(period="H1 2025")})
    assert warnings(folder) == [
        f"{folder}/peers.csv:4: share: warning: conflicting figures for 'Acme: Share (%)' (H1 2025): "
        "40% (alpha, peers.csv line 2) vs 44% (beta, peers.csv line 4), spread 4pp"
    ]


def test_one_source_giving_one_fact_two_values_conflicts_with_itself(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    """Two rows, one entity, one period, one source, two values: the brief showed both
    rows and checked neither against the other (only rows of two sources were paired)."""
    minimal["tables"][0].pop("source")
    minimal["charts"][0].pop("source")
    rows = "company,share,period,source\nAcme,40,H1 2025,alpha\nAcme,44,H1 2025,alpha\n"
    folder = make_brief(minimal, {"peers.csv": rows})
    assert warnings(folder) == [
        f"{folder}/peers.csv:3: share: warning: conflicting figures for 'Acme: Share (%)' (H1 2025): "
        "40% (alpha, peers.csv line 2) vs 44% (alpha, peers.csv line 3), spread 4pp"
    ]


def test_unstated_period_in_the_same_year_is_the_same_period(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    minimal["tables"][0].pop("source")
    minimal["charts"][0].pop("source")
    folder = make_brief(minimal, {"peers.csv": SHARES.format(period="2025 (period not stated)")})
    assert warnings(folder) == [
        f"{folder}/peers.csv:4: share: warning: conflicting figures for 'Acme: Share (%)' "
        "(H1 2025 / 2025 (period not stated)): 40% (alpha, peers.csv line 2) vs 44% (beta, peers.csv line 4), "
        "spread 4pp"
    ]


def test_rows_for_different_periods_do_not_conflict(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    minimal["tables"][0].pop("source")
    minimal["charts"][0].pop("source")
    assert warnings(make_brief(minimal, {"peers.csv": SHARES.format(period="H2 2025")})) == []


def test_periods() -> None:
    assert parse_period("Q2 2026").end().isoformat() == "2026-06-30"  # type: ignore[union-attr]
    assert parse_period("H1 2025").end().isoformat() == "2025-06-30"  # type: ignore[union-attr]
    assert parse_period("FY2025").end().isoformat() == "2025-12-31"  # type: ignore[union-attr]
    assert parse_period("Nov 2025").end().isoformat() == "2025-11-30"  # type: ignore[union-attr]
    assert parse_period("three years") is None and parse_period("through 2026") is None
    assert same_period("Q1 2025", "2025 Q1")
    assert same_period("H1 2025", "2025 (period not stated)")
    assert not same_period("2025", "H1 2025")  # a full year is not its first half
    assert not same_period("H1 2024", "2025 (period not stated)")


# ------------------------------------------------------------------ freshness


def test_stale_metric_and_source(make_brief: MakeBrief, minimal: dict[str, Any]) -> None:
    minimal["metrics"][0]["period"] = "Q1 2025"
    minimal["sources"]["alpha"]["published"] = "2025-01-10"
    folder = make_brief(minimal)
    assert warnings(folder) == [
        f"{folder}/brief.yaml:{line(folder, 'period: Q1 2025')}: metrics[0].period: warning: stale figure 'Revenue' (Q1 2025): 600 days old on "
        "2026-11-21, limit 240 days for quarterly figures (max_age_days)",
        f"{folder}/brief.yaml:{line(folder, '2025-01-10')}: sources.alpha.published: warning: stale source 'alpha' (Alpha Report): "
        "680 days old on 2026-11-21, limit 365 days for sources (max_age_days)",
    ]


def test_max_age_days_overrides(make_brief: MakeBrief, minimal: dict[str, Any]) -> None:
    minimal["metrics"][0]["period"] = "Q1 2025"
    minimal["sources"]["alpha"]["published"] = "2025-01-10"
    minimal["checks"] = {"max_age_days": {"quarter": 700}}
    minimal["sources"]["alpha"]["max_age_days"] = 700
    assert warnings(make_brief(minimal)) == []
    minimal["checks"] = {"max_age_days": 30}  # one limit for every kind; a metric's own wins
    minimal["metrics"][0]["max_age_days"] = 700
    minimal["metrics"][0]["period"] = "Q1 2025"
    minimal["sources"]["beta"]["published"] = "2026-11-20"
    assert warnings(make_brief(minimal, name="acme-two")) == []


# ------------------------------------------------------------------ consistency


def test_shares_over_100_percent(make_brief: MakeBrief, minimal: dict[str, Any]) -> None:
    folder = make_brief(minimal, {"peers.csv": "company,share\nAcme,50\nGlobex,40\nInitech,30\n"})
    assert warnings(folder) == [
        f"{folder}/peers.csv:2: share: warning: shares in 'Peers' add up to 120%, more than 100%"
    ]


def test_growth_that_contradicts_its_levels(make_brief: MakeBrief, minimal: dict[str, Any]) -> None:
    minimal["metrics"] = [
        {
            "id": "rev_2025",
            "label": "Cloud revenue",
            "value": 4.2,
            "unit": "USD bn",
            "period": "Q2 2025",
            "source": "alpha",
        },
        {
            "id": "rev_2026",
            "label": "Cloud revenue",
            "value": 5.6,
            "unit": "USD bn",
            "period": "Q2 2026",
            "source": "alpha",
        },
        {
            "id": "growth",
            "label": "Cloud revenue growth, y/y",
            "value": 45,
            "unit": "%",
            "period": "Q2 2026",
            "source": "beta",
            "key": True,
        },
    ]
    minimal["verdict"]["summary"] = 'Revenue reached {{ metric("rev_2026") }}.'
    minimal["checks"] = {"max_age_days": {"quarter": 600}}  # the year-ago level is old by nature
    folder = make_brief(minimal)
    assert warnings(folder) == [
        f"{folder}/brief.yaml:{line(folder, 'value: 45')}: metrics[2].value: warning: growth 'Cloud revenue growth, y/y' of 45% contradicts "
        "its levels: USD 4.2bn (Q2 2025) to USD 5.6bn (Q2 2026) is 33.3%"
    ]
    minimal["metrics"][2]["value"] = 34  # 33.3% as reported, within what the rounded levels allow
    assert warnings(make_brief(minimal, name="acme-ok")) == []


def test_implausible_percentage(make_brief: MakeBrief, minimal: dict[str, Any]) -> None:
    minimal["metrics"].append(
        {"id": "share", "label": "Market share", "value": 140, "unit": "%", "source": "beta"}
    )
    folder = make_brief(minimal)
    assert warnings(folder) == [
        f"{folder}/brief.yaml:{line(folder, 'value: 140')}: metrics[2].value: warning: 'Market share' is 140%, outside the plausible range "
        "0% to 100% for a share"
    ]


# ------------------------------------------------------------------ the example and --strict


@pytest.fixture
def unreviewed(example_copy: Path) -> Path:
    """The example before its review: every finding open."""
    (example_copy / "review.yaml").unlink()
    return example_copy


def test_example_shows_only_its_real_conflicts_and_staleness(unreviewed: Path) -> None:
    checked, problems = check_brief(EXAMPLE)
    assert checked is not None and problems == []  # reviewed: all accepted in review.yaml
    accepted = [p.key for p, _ in checked.review.accepted]
    found = [(p.key, p.message.split(":")[0]) for p in check_brief(unreviewed)[1]]
    assert [key for key, _ in found] == accepted
    assert found == [
        (
            "metrics[8].value",
            "conflicting figures for 'Consecutive quarters of triple-digit AI product growth' (to latest quarter)",
        ),
        (
            "metrics[10].value",
            "conflicting figures for 'Alibaba Cloud share of China AI cloud' (2025)",
        ),
        (
            "metrics[12].value",
            "conflicting figures for 'Tencent Cloud share of China AI cloud' (2025)",
        ),
        ("metrics[16].period", "stale figure 'Alibaba Cloud share of global cloud' (Q1 2025)"),
        ("metrics[17].period", "stale figure 'AWS share of global cloud' (Q1 2025)"),
    ]
    messages = [p.message for p in check_brief(unreviewed)[1]]
    assert (
        "35.8% (ambition, china_share_alibaba_ambition) vs 36% (push, china_share_alibaba_push)"
        in messages[1]
    )
    assert messages[1].endswith("also in china_share.csv lines 2, 6")  # the CSV rows: reported once
    assert (
        "7% (ambition, china_share_tencent_ambition) vs 10% (push, china_share_tencent_push)"
        in messages[2]
    )


def test_strict_check_turns_warnings_into_errors(unreviewed: Path) -> None:
    runner = CliRunner()
    plain = runner.invoke(main, ["check", str(unreviewed)])
    assert plain.exit_code == 0 and "warning: stale figure" in plain.output
    strict = runner.invoke(main, ["check", "--strict", str(unreviewed)])
    assert strict.exit_code == 1
    assert "warning:" not in strict.output
    stale = line(EXAMPLE, "period: Q1 2025")
    assert f"{unreviewed}/brief.yaml:{stale}: metrics[16].period: stale figure" in strict.output
    reviewed = runner.invoke(main, ["check", "--strict", str(EXAMPLE)])
    assert reviewed.exit_code == 0 and reviewed.output == ""  # accepted findings do not count


def test_strict_build_fails_on_warnings_even_when_unchanged(
    make_brief: MakeBrief, minimal: dict[str, Any], tmp_path: Path
) -> None:
    minimal["sources"]["unused"] = {"title": "Never cited"}
    folder = make_brief(minimal)
    out = tmp_path / "out"
    runner = CliRunner()
    first = runner.invoke(main, ["build", str(folder), "--out", str(out), "--html-only"])
    assert first.exit_code == 0 and "warning: source 'unused' is never cited" in first.output
    before = (out / "acme" / "acme.html").read_bytes()
    strict = runner.invoke(
        main, ["build", str(folder), "--out", str(out), "--html-only", "--strict"]
    )
    assert strict.exit_code == 1, (
        strict.output
    )  # not skipped as unchanged: strict rebuilds and fails
    assert "sources.unused: source 'unused' is never cited" in strict.output
    assert (out / "acme" / "acme.html").read_bytes() == before


def test_messages_stay_on_one_line(make_brief: MakeBrief, minimal: dict[str, Any]) -> None:
    minimal["metrics"][0]["label"] = "Rev\nenue"
    minimal["metrics"][0]["period"] = "Q1 2025"
    [message] = warnings(make_brief(minimal))
    assert "stale figure 'Rev\\u000aenue' (Q1 2025)" in message and "\n" not in message
