"""[compliance]: rating scale checks, the project's rating distribution, back matter in the PDF."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from reportgen.brief.market import Rating
from reportgen.build import check_brief
from reportgen.cli import main
from reportgen.config import ConfigError, load_config
from reportgen.project import load_project
from reportgen.render.backmatter import distribution, load_back_matter
from tests.conftest import MINIMAL, build_brief, write_brief
from tests.sellside_briefs import FILES, market_spec, write_project

SCALE = (
    Rating(name="Buy", definition="Above 15%", upside_min=0.15),
    Rating(name="Hold", definition="Between", upside_min=-0.10, upside_max=0.15),
    Rating(name="Sell", definition="Below -10%", upside_max=-0.10),
)


def test_rating_that_contradicts_the_upside_rule_is_one_warning(
    make_brief: Callable[..., Path],
) -> None:
    folder = make_brief(market_spec(rating="Buy", target=106), FILES)  # 6% upside
    checked, problems = check_brief(folder, ratings=SCALE)
    assert checked is not None
    line = next(
        i
        for i, t in enumerate((folder / "brief.yaml").read_text().splitlines(), 1)
        if "rating: Buy" in t
    )
    assert [str(p) for p in problems if "rating" in p.key] == [
        f"{folder / 'brief.yaml'}:{line}: market.rating: warning: rating 'Buy' does not fit the "
        "computed upside of 6.0% (target 106 / price 100 − 1): the scale defines Buy as "
        "upside ≥ 15%; this upside is Hold"
    ]


def test_upside_bounds_do_not_overlap(make_brief: Callable[..., Path]) -> None:
    for rating, target in (("Buy", 115), ("Hold", 90), ("Sell", 89.99)):
        folder = make_brief(market_spec(rating=rating, target=target), FILES, name=rating.lower())
        _, problems = check_brief(folder, ratings=SCALE)
        assert not [p for p in problems if p.key == "market.rating"], (rating, problems)


def test_rating_not_on_the_scale_is_an_error(make_brief: Callable[..., Path]) -> None:
    spec = market_spec(rating="Strong Buy")
    checked, problems = check_brief(make_brief(spec, FILES), ratings=SCALE)
    assert checked is None
    assert [(p.key, p.message) for p in problems if p.severity == "error"] == [
        ("market.rating", "unknown rating 'Strong Buy' (the [compliance] scale: Buy, Hold, Sell)")
    ]


def test_without_a_scale_any_rating_is_accepted(make_brief: Callable[..., Path]) -> None:
    checked, _ = check_brief(make_brief(market_spec(rating="Outperform"), FILES))
    assert checked is not None


def test_distribution_rounds_each_share() -> None:
    shares = distribution(["Buy", "Hold", "Sell"], Counter(["Buy", "Hold", "Buy"]))
    assert [(s.rating, s.count, s.percent) for s in shares] == [
        ("Buy", 2, "67%"),
        ("Hold", 1, "33%"),
        ("Sell", 0, "0%"),
    ]


def test_disclosures_inline_or_from_a_file_with_raw_html_escaped(tmp_path: Path) -> None:
    root = write_project(tmp_path)
    back = load_back_matter(load_config(root / "reportgen.toml"))
    assert back is not None
    assert "<strong>Firm disclosures.</strong>" in back.disclosures_html
    assert "&lt;script&gt;" in back.disclosures_html and "<script>" not in back.disclosures_html
    toml = (root / "reportgen.toml").read_text()
    (root / "reportgen.toml").write_text(
        toml.replace('"disclosures.md"', '"Inline *text*."'), encoding="utf-8"
    )
    back = load_back_matter(load_config(root / "reportgen.toml"))
    assert back is not None and back.disclosures_html == "<p>Inline <em>text</em>.</p>\n"


def test_an_invisible_character_in_the_back_matter_is_a_config_error(tmp_path: Path) -> None:
    """A bidi override in the disclosures or the certification is refused, as in a brief:
    the words would read differently from what was written."""
    root = write_project(tmp_path)
    disclosures = root / "disclosures.md"
    disclosures.write_text("Line one.\n\nNo \u202epositions\u202c held.\n", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=re.escape(f"{disclosures}:3: compliance.disclosures: contains U+202E")
    ):
        load_back_matter(load_config(root / "reportgen.toml"))
    disclosures.write_text("Clean.\n", encoding="utf-8")
    toml = (root / "reportgen.toml").read_text()
    (root / "reportgen.toml").write_text(
        toml.replace('certification = "', 'certification = "\u200b'), encoding="utf-8"
    )
    with pytest.raises(
        ConfigError, match=r"reportgen.toml: compliance.certification: contains U\+200B"
    ):
        load_back_matter(load_config(root / "reportgen.toml"))


def test_a_disclosures_file_larger_than_its_size_says_is_read_within_the_limit(
    tmp_path: Path,
) -> None:
    """/proc files stat as 0 bytes: the disclosures are read only up to [limits]."""
    root = write_project(tmp_path)
    (root / "disclosures.md").unlink()
    (root / "disclosures.md").symlink_to("/proc/self/status")
    toml = (root / "reportgen.toml").read_text()
    (root / "reportgen.toml").write_text(toml + "\n[limits]\nmarkdown_bytes = 200\n")
    with pytest.raises(
        ConfigError,
        match=re.escape("compliance.disclosures: 'disclosures.md' is over the limit of 200 bytes"),
    ):
        load_back_matter(load_config(root / "reportgen.toml"))


def test_missing_disclosures_file_is_a_config_error(tmp_path: Path) -> None:
    root = write_project(tmp_path)
    (root / "disclosures.md").unlink()
    with pytest.raises(
        ConfigError,
        match=r"reportgen.toml: compliance.disclosures: 'disclosures.md' cannot be read",
    ):
        load_back_matter(load_config(root / "reportgen.toml"))


def test_check_command_uses_the_projects_scale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_project(tmp_path)
    write_brief(root / "briefs" / "acme", market_spec(rating="Sell"), FILES)
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["check", "briefs/acme"])
    assert result.exit_code == 0, result.output
    assert "market.rating: warning: rating 'Sell' does not fit the computed upside of 30.0%" in (
        result.output
    )


def project_of_three(root: Path) -> Path:
    """Buy (the full brief), Hold and Buy: two thirds Buy, one third Hold."""
    write_project(root)
    brief = write_brief(root / "briefs" / "acme", market_spec(rating="Buy"), FILES)
    hold = {**MINIMAL, "sources": {**MINIMAL["sources"], "quote": {"title": "Quote"}}}
    for name, rating, target in (("beta", "Hold", 105), ("gamma", "Buy", 140)):
        spec = {**hold, "market": {**market_spec()["market"], "rating": rating, "target": target}}
        write_brief(root / "briefs" / name, spec)
    return brief


def test_project_of_three_briefs_shows_67_33_in_the_pdf_back_matter(tmp_path: Path) -> None:
    brief = project_of_three(tmp_path / "project")
    project = load_project(load_config(tmp_path / "project" / "reportgen.toml"))
    result = build_brief(brief, tmp_path / "out", project)
    assert result.status == "built", result.problems
    pages = [p.extract_text() or "" for p in PdfReader(tmp_path / "out/acme/acme.pdf").pages]
    back = " ".join(pages[-1].split())
    assert "Important disclosures" in back
    assert "Buy Expected total return above 15% over 12 months" in back
    assert "Hold Expected total return between \u221210% and 15% over 12 months" in back
    assert re.search(r"Buy 2 67% Hold 1 33% Sell 0 0%", back), back
    assert "Of the 3 briefs in coverage on" in back and ", 3 carry a rating." in back
    assert "project" not in back  # the reader's word is coverage, not the tool's
    assert "The analysts named on this brief certify" in back
    assert "Test Desk" in back.split("Analyst certification", 1)[1]  # signed by name
    assert "Firm disclosures. We hold no position. <script>alert(1)</script>" in back


@pytest.mark.parametrize(
    ("ratings", "message"),
    [
        ('{name = "Buy", upside_min = 0.2, upside_max = 0.1}', "Buy: upside_min 0.2 must be below"),
        ('{name = "Buy"}, {name = "Buy"}', "rating 'Buy' is defined twice"),
    ],
)
def test_a_scale_that_cannot_be_checked_is_a_config_error(
    tmp_path: Path, ratings: str, message: str
) -> None:
    path = tmp_path / "reportgen.toml"
    path.write_text(f"[compliance]\nratings = [{ratings}]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)
