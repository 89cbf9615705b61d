"""Review sign-off: review.yaml, `reportgen review`, acceptances that lapse when figures change."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from reportgen.build import check_brief
from reportgen.cli import main

MakeBrief = Callable[..., Path]
CONFLICT = "conflict:cloud_share"
STALE = "stale:old_revenue"


def disputed(minimal: dict[str, Any]) -> dict[str, Any]:
    """The minimal brief plus a conflict (two sources, one figure) and a stale figure."""
    spec = copy.deepcopy(minimal)
    spec["metrics"] += [
        {"id": "cloud_share_alpha", "label": "Cloud share", "value": 31, "unit": "%"},
        {"id": "cloud_share_beta", "label": "Cloud share", "value": 35, "unit": "%"},
        {"id": "old_revenue", "label": "Old revenue", "value": 9.5, "unit": "USD bn"},
    ]
    spec["metrics"][-3].update(period="2026", source="alpha")
    spec["metrics"][-2].update(period="2026", source="beta")
    spec["metrics"][-1].update(period="Q1 2025", source="alpha")
    spec["verdict"]["summary"] += (
        ' Share {{ metric("cloud_share_alpha") }} or {{ metric("cloud_share_beta") }};'
        ' once {{ metric("old_revenue") }}.'
    )
    return spec


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def accept(folder: Path, *keys: str) -> Result:
    return run("review", folder, "--accept", *keys, "--by", "A. Analyst", "--reason", "Checked.")


def test_round_trip_accept_then_a_changed_figure_reopens_only_its_finding(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    spec = disputed(minimal)
    folder = make_brief(spec)
    strict = run("check", "--strict", folder)
    assert strict.exit_code == 1
    assert "conflicting figures for 'Cloud share'" in strict.output
    assert "stale figure 'Old revenue'" in strict.output

    listed = run("review", folder)
    assert listed.exit_code == 0, listed.output
    assert {line.split()[0] + " " + line.split()[1] for line in listed.output.splitlines()[:2]} == {
        f"open {CONFLICT}",
        f"open {STALE}",
    }
    done = accept(folder, CONFLICT, STALE)
    assert done.exit_code == 0, done.output
    assert f"accepted {CONFLICT}" in done.output and "publishable" in done.output
    assert run("check", "--strict", folder).exit_code == 0

    spec["metrics"][-2]["value"] = 36  # beta revises its share: the acceptance lapses
    make_brief(spec)
    again = run("check", "--strict", folder)
    assert again.exit_code == 1
    assert "conflicting figures for 'Cloud share'" in again.output
    assert "Old revenue" not in again.output  # still accepted: its values did not change
    lapsed = run("review", folder).output
    assert f"lapsed   {CONFLICT}" in lapsed and "for [31, 35], now [31, 36]" in lapsed
    assert f"accepted {STALE}  by A. Analyst" in lapsed


def test_review_yaml_is_written_as_the_contract_shows_and_keeps_what_was_there(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    folder = make_brief(disputed(minimal))
    review = folder / "review.yaml"
    review.write_text("# signed off by the desk\n", encoding="utf-8")
    assert accept(folder, STALE).exit_code == 0
    assert accept(folder, CONFLICT).exit_code == 0
    text = review.read_text(encoding="utf-8")
    assert text.startswith("# signed off by the desk\n")
    assert f"- key: {CONFLICT}\n  accepted: {{by: A. Analyst, on: " in text
    assert "  values: [31, 35]\n" in text and "  values: [9.5, Q1 2025]\n" in text
    entries = YAML(typ="safe").load(text)
    assert [e["key"] for e in entries] == [STALE, CONFLICT]
    assert entries[1]["accepted"]["reason"] == "Checked."
    # accepting again replaces the entry rather than adding a second one
    again = run("review", folder, "--accept", CONFLICT, "--by", "B. Boss", "--reason", "Re-read.")
    assert again.exit_code == 0
    entries = YAML(typ="safe").load(review.read_text(encoding="utf-8"))
    assert [(e["key"], e["accepted"]["by"]) for e in entries] == [
        (STALE, "A. Analyst"),
        (CONFLICT, "B. Boss"),
    ]


def test_bad_keys_and_placeholders_are_usage_errors(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    spec = disputed(minimal)
    spec["subtitle"] = "TODO: the one-line thesis"
    folder = make_brief(spec)
    unknown = accept(folder, "conflict:nope")
    assert unknown.exit_code == 2
    assert "unknown finding 'conflict:nope'" in unknown.output and CONFLICT in unknown.output
    placeholder = next(w for w in check_brief(folder)[1] if w.key == "subtitle")
    assert placeholder.finding == "placeholder:brief.yaml:" + str(placeholder.line)
    refused = accept(folder, placeholder.finding)
    assert refused.exit_code == 2 and "cannot be accepted" in refused.output
    assert not (folder / "review.yaml").exists()
    no_reason = run("review", folder, "--accept", CONFLICT, "--by", "A. Analyst")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    vague = run("review", folder, "--accept", CONFLICT, "--by", "A", "--reason", "TBD")
    assert vague.exit_code == 2 and "placeholder" in vague.output

    everything = accept(folder, "all")  # every finding that can be accepted, not the placeholder
    assert everything.exit_code == 0
    assert f"accepted {CONFLICT}" in everything.output and "placeholder:" not in everything.output
    checked, problems = check_brief(folder)
    assert checked is not None and [p.key for p in problems] == ["subtitle"]
    assert not checked.publishable


def test_a_hand_written_placeholder_acceptance_does_not_count(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    minimal["subtitle"] = "XXX"
    folder = make_brief(minimal)
    [problem] = check_brief(folder)[1]
    (folder / "review.yaml").write_text(
        f"- key: {problem.finding}\n"
        "  accepted: {by: A, on: 2026-11-21, reason: Fine.}\n"
        "  values: [XXX]\n",
        encoding="utf-8",
    )
    checked, problems = check_brief(folder)
    assert checked is not None and not checked.publishable and problems == [problem]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("key: x\n", 1, "review.yaml:1: review: must be a list of entries"),
        (
            "- key: a\n  accepted: {by: A, reason: R}\n",
            1,
            "review.yaml:1: [0].accepted.on: required: the date of the review",
        ),
        (
            "- key: a\n  accepted: {by: A, on: 2026-11-21, reason: R}\n"
            "- key: b\n  accepted: {by: A, on: 2026-11-21, reason: R}\n  value: [1]\n",
            3,
            "review.yaml:3: [1].value: unknown key (known: key, accepted, values, figures)",
        ),
    ],
)
def test_a_malformed_review_yaml_is_an_error_at_its_line(
    make_brief: MakeBrief, minimal: dict[str, Any], text: str, line: int, message: str
) -> None:
    folder = make_brief(minimal)
    (folder / "review.yaml").write_text(text, encoding="utf-8")
    result = run("check", folder)
    assert result.exit_code == 1
    assert f"{folder}/{message}" in result.output


def test_review_yaml_is_part_of_the_build_key(
    make_brief: MakeBrief, minimal: dict[str, Any], tmp_path: Path
) -> None:
    folder = make_brief(disputed(minimal))
    out = tmp_path / "out"
    first = run("build", folder, "--out", out, "--html-only", "--json")
    assert '"publishable": false' in first.output
    assert "skipped" in run("build", folder, "--out", out, "--html-only").output
    assert accept(folder, "all").exit_code == 0
    rebuilt = run("build", folder, "--out", out, "--html-only", "--json")
    assert '"status": "built"' in rebuilt.output and '"publishable": true' in rebuilt.output
    html = (out / "acme" / "acme.html").read_text(encoding="utf-8")
    assert 'class="draft-mark"' not in html
    assert '<span class="recon-reason">Checked.</span>' in html
