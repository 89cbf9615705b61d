"""The publishing gate: drafts build but never go out; the reader's copy carries no tool talk."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import MINIMAL, ExampleBuild, build_brief, write_brief
from pypdf import PdfReader
from smtp_server import smtp_server, write_config

from reportgen.brief.placeholders import markers
from reportgen.brief.scaffold import new_brief
from reportgen.cli import main
from reportgen.config import load_config
from reportgen.publish.nightly import run_nightly

NIGHT = datetime(2026, 11, 22, 22, 5, tzinfo=UTC)
TOOL_TALK = ("max_age_days", "metric(", "make it a metric", "hand-typed", "tolerance_pct")
MakeBrief = Callable[..., Path]


def pdf_pages(path: Path) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(path).pages]


def line_of(folder: Path, text: str) -> int:
    lines = (folder / "brief.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


# ---------------------------------------------------------------- the untouched scaffold


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_brief("acme-2026", tmp_path_factory.mktemp("project") / "briefs").folder


def test_scaffold_fails_strict_naming_placeholder_with_file_and_line(scaffold: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--strict", str(scaffold)])
    assert result.exit_code == 1
    title = line_of(scaffold, 'title: "PLACEHOLDER')
    assert (
        f"{scaffold}/brief.yaml:{title}: title: placeholder text left in the brief (PLACEHOLDER)"
        in (result.output)
    )
    assert f"{scaffold}/overview.md:1: sections[0].body: placeholder text" in result.output


def test_scaffold_builds_a_draft_marked_on_every_page(scaffold: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(scaffold), "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["publishable"] is False
    assert report["open_findings"][0]["finding"].startswith("placeholder:brief.yaml:")
    pages = pdf_pages(tmp_path / "acme-2026" / "acme-2026.pdf")
    assert len(pages) > 1 and all("DRAFT" in page for page in pages)
    html = (tmp_path / "acme-2026" / "acme-2026.html").read_text(encoding="utf-8")
    assert '<div class="draft-mark" aria-hidden="true"><span>DRAFT</span></div>' in html
    findings = json.loads((tmp_path / "acme-2026" / "findings.json").read_text(encoding="utf-8"))
    assert findings["publishable"] is False and findings["accepted"] == []
    assert len(findings["open"]) == len(report["open_findings"])


def test_nightly_sends_no_draft_and_one_notice_listing_its_findings(tmp_path: Path) -> None:
    new_brief("acme-2026", tmp_path / "briefs")
    with smtp_server() as (recorder, port):
        report = run_nightly(load_config(write_config(tmp_path, port)), now=NIGHT)
        assert report.exit_code == 1
        assert [r for r in recorder.received if r.message["X-Reportgen-Brief"]] == []
        [notice] = recorder.received
    assert notice.rcpt_tos == ["ops@example.com"]
    body = notice.message.get_content()
    assert "acme-2026" in notice.message["Subject"]
    assert "draft, not sent" in body and "reportgen review" in body
    assert "brief.yaml:" in body and "placeholder text left in the brief (PLACEHOLDER)" in body


# ---------------------------------------------------------------- the reader's copy


def every_kind() -> dict[str, Any]:
    """A brief with one of every finding the checks make (and no error)."""
    spec = copy.deepcopy(MINIMAL)
    spec["subtitle"] = "TBD"
    spec["sources"]["old"] = {"title": "Old Survey", "published": "2024-01-10"}
    spec["sources"]["unused"] = {"title": "Never cited"}
    spec["metrics"][0].update(period="FY2025")
    spec["metrics"][1].update(value=50, period="FY2025")
    spec["metrics"] += [
        {"id": "revenue_fy24", "label": "Revenue", "value": 10, "unit": "USD bn"},
        {"id": "cloud_share_alpha", "label": "Cloud share", "value": 31, "unit": "%"},
        {"id": "cloud_share_beta", "label": "Cloud share", "value": 35, "unit": "%"},
        {"id": "old_revenue", "label": "Old revenue", "value": 9.5, "unit": "USD bn"},
        {"id": "odd", "label": "Market share", "value": 140, "unit": "%", "source": "old"},
    ]
    spec["metrics"][2].update(period="FY2024", source="alpha")
    spec["metrics"][3].update(period="2026", source="alpha")
    spec["metrics"][4].update(period="2026", source="beta")
    spec["metrics"][5].update(period="Q1 2025", source="alpha", key=True)
    spec["tables"][0]["highlight"] = "Nobody"
    spec["tables"].append({"id": "split", "title": "Split", "data": "split.csv"})
    spec["sections"][0]["tables"] = ["peers", "split"]
    spec["sections"][0]["body"] += (
        ' Margins hit 45% {{ cite("old") }}. {{ metric("cloud_share_alpha") }} or'
        ' {{ metric("cloud_share_beta") }}; once {{ metric("old_revenue") }}, '
        '{{ metric("revenue_fy24") }}, {{ metric("odd") }}.'
    )
    return spec


SPLIT_CSV = (
    "company,share_pct,period,source\nAcme,60,2026,alpha\nAcme,52,2026,beta\nGlobex,70,2026,alpha\n"
)


@pytest.fixture(scope="module")
def findings_built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("kinds")
    folder = write_brief(root / "briefs" / "acme", every_kind(), {"split.csv": SPLIT_CSV})
    result = CliRunner().invoke(main, ["build", str(folder), "--out", str(root / "out"), "--json"])
    assert result.exit_code == 0, result.output
    return root / "out" / "acme", json.loads(result.output)


def test_every_kind_of_finding_has_a_key_and_makes_a_draft(
    findings_built: tuple[Path, dict[str, Any]],
) -> None:
    _, report = findings_built
    kinds = {f["finding"].split(":")[0] for f in report["open_findings"]}
    assert kinds == {
        "placeholder",
        "unused",
        "highlight",
        "hand-typed",
        "conflict",
        "stale",
        "stale-source",
        "share-sum",
        "growth",
        "range",
    }
    assert len(report["open_findings"]) == len(report["warnings"])  # every warning is a finding
    assert report["publishable"] is False


@pytest.mark.parametrize("which", ["example", "every kind"])
def test_the_readers_copy_carries_no_tool_talk(
    which: str, findings_built: tuple[Path, dict[str, Any]], example_built: ExampleBuild
) -> None:
    if which == "example":
        result = example_built.result
        assert result.publishable, [str(p) for p in result.problems]
        target = example_built.folder
    else:
        target = findings_built[0]
    html = (target / f"{target.name}.html").read_text(encoding="utf-8")
    pages = pdf_pages(target / f"{target.name}.pdf")
    for text in (html, " ".join(pages)):
        assert [t for t in TOOL_TALK if t in text] == []
    assert all(("DRAFT" in page) == (which != "example") for page in pages)


def test_a_stale_figure_is_tagged_as_of_its_period_in_the_key_figures_box(
    findings_built: tuple[Path, dict[str, Any]],
) -> None:
    html = (findings_built[0] / "acme.html").read_text(encoding="utf-8")
    box = html[
        html.index('class="key-figures"') : html.index(
            "</section>", html.index('class="key-figures"')
        )
    ]
    assert 'Old revenue <span class="as-of">as of Q1 2025</span>' in box
    body = html[html.index('id="section-1"') :]
    assert '<span class="figure">USD 9.5bn</span>' in body and "as of Q1 2025</span>" in body


def test_send_refuses_a_draft(findings_built: tuple[Path, dict[str, Any]]) -> None:
    root = findings_built[0].parent.parent  # briefs/acme built into out/acme
    config = write_config(root, 25)
    eml = root / "eml"
    result = CliRunner().invoke(
        main,
        ["send", "--config", str(config), str(root / "briefs" / "acme"), "--dry-run", str(eml)],
    )
    assert result.exit_code == 1, result.output
    assert "draft, not sent" in result.output
    assert not eml.exists() or not list(eml.iterdir())


# ---------------------------------------------------------------- verdict label, placeholders


def test_a_label_that_contradicts_its_levels_is_an_error_at_its_line(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    minimal["verdict"]["reward"] = "low"
    folder = make_brief(minimal)
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 1
    assert result.output == (
        f"{folder}/brief.yaml:{line_of(folder, 'label: High-Risk')}: verdict.label: "
        "'High-Risk, High-Reward' says high reward but verdict.reward is low: "
        "make the label match, or word it without a level\n"
    )


@pytest.mark.parametrize(
    ("label", "risk", "reward", "ok"),
    [
        ("Asymmetric bet", "low", "very-high", True),
        ("Very High Risk, High Reward", "very-high", "high", True),
        ("Moderate-Risk", "medium", "low", True),
        ("High-Risk, High-Reward", "very-high", "high", False),
        ("Low risk", "medium", "high", False),
    ],
)
def test_verdict_label_rule(
    make_brief: MakeBrief, minimal: dict[str, Any], label: str, risk: str, reward: str, ok: bool
) -> None:
    minimal["verdict"].update(label=label, risk=risk, reward=reward)
    result = CliRunner().invoke(main, ["check", str(make_brief(minimal))])
    assert (result.exit_code == 0) == ok, result.output


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("PLACEHOLDER: Acme", ["PLACEHOLDER"]),
        ("Revenue: TBD, margin XXX", ["TBD", "XXX"]),
        ("two TODOs left; TODO", ["TODOs", "TODO"]),
        ("Lorem Ipsum dolor", ["Lorem Ipsum"]),
        ("TBDX, XXXL, TODO_LIST, placeholder-report", []),
        ("a placeholder for growth, todo, tbd", []),
    ],
)
def test_placeholder_markers_are_whole_words(text: str, found: list[str]) -> None:
    assert markers(text) == found


def test_placeholders_in_csv_cells_and_source_titles(
    make_brief: MakeBrief, minimal: dict[str, Any]
) -> None:
    minimal["sources"]["beta"]["title"] = "XXX Review"
    folder = make_brief(minimal, {"peers.csv": "company,share\nAcme,40\nTODO,35\nInitech,25\n"})
    result = CliRunner().invoke(main, ["check", "--strict", str(folder)])
    assert result.exit_code == 1
    assert f"{folder}/peers.csv:3: row: placeholder text left in the brief (TODO)" in result.output
    line = line_of(folder, "title: XXX Review")
    assert f"{folder}/brief.yaml:{line}: sources.beta.title: placeholder" in result.output


def test_a_stale_figure_that_changed_is_tagged_in_the_changes_box(
    make_brief: MakeBrief, minimal: dict[str, Any], tmp_path: Path
) -> None:
    minimal["metrics"][0]["period"] = "Q1 2025"
    folder = make_brief(minimal)
    assert build_brief(folder, tmp_path).ok
    minimal["metrics"][0]["value"] = 13.1
    make_brief(minimal)
    assert build_brief(folder, tmp_path).ok
    html = (tmp_path / "acme" / "acme.html").read_text(encoding="utf-8")
    box = html[html.index('class="changes"') : html.index("</aside>")]
    assert "Revenue: USD 12.5bn → <strong>USD 13.1bn</strong>" in box
    assert '<span class="as-of">as of Q1 2025</span>' in box
