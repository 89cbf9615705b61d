"""Issue 20, the page: page one leads with the call, named analysts, back matter text, no
tool names or paths, and presentation (rounding, minus signs, numbering, marks, header).

The example project (its reportgen.toml with [compliance], disclosures, the example brief) is
built once, as a user builds it, and its PDF read back; expected figures are computed from
the brief's own inputs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLE, REPO, build_brief
from pydantic import TypeAdapter

from reportgen.brief.data import format_number
from reportgen.brief.models import Author, AuthorEntry
from reportgen.brief.valuation import format_premium, format_value
from reportgen.build import check_brief
from reportgen.cli import main
from reportgen.render.markdown import FOOTNOTE_MARK, merge_marks, typeset

LEVEL = {"low": 1, "medium": 2, "high": 3}
MM = 72 / 25.4


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example project, copied and built with `reportgen build` from its folder."""
    root = tmp_path_factory.mktemp("project")
    for name in ("reportgen.toml", "disclosures.md"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(EXAMPLE, root / "seeds" / EXAMPLE.name)
    here = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, ["build", "-j", "1", "--out", "build"])
    finally:
        os.chdir(here)
    assert result.exit_code == 0, result.output
    yield root / "build" / EXAMPLE.name


@pytest.fixture(scope="module")
def pages(project: Path) -> list[str]:
    document = pdfium.PdfDocument(project / f"{EXAMPLE.name}.pdf")
    return [page.get_textpage().get_text_range() for page in document]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return dict(yaml.safe_load((EXAMPLE / "brief.yaml").read_text(encoding="utf-8")))


def flat(text: str) -> str:
    return " ".join(text.split())


def test_page_one_leads_with_the_call(pages: list[str], spec: dict[str, Any]) -> None:
    one = flat(pages[0]).lower()  # box titles are set in capitals
    market = spec["market"]
    upside = format_premium(market["target"] / market["price"] - 1)
    target = format_number(market["target"], 2)
    assert f"rating {market['rating']}".lower() in one
    assert f"price target {market['currency']} {target}[1]".lower() in one
    assert f"upside to target {upside}[1]" in one
    assert spec["verdict"]["label"].lower() in one
    # one rating, one upside of the desk's; the street's figure says it is the street's
    assert one.count("upside to target") == 1 and one.count("rating") == 1
    street = [
        m["label"] for m in spec["metrics"] if m.get("key") and "upside" in m["label"].lower()
    ]
    assert street and all("street" in label.lower() for label in street)
    assert "key data" in one and "market value" in one and "52-week high" in one
    # the verdict measured: the bull and bear values and their upsides, from the scenarios
    for case in (s for s in spec["scenarios"] if s["case"] in ("bull", "bear")):
        value = format_number(case["value"], 2)
        gain = format_premium(case["value"] / market["price"] - 1)
        shown = f"{case['case']} {market['currency']} {value} ({gain})["
        assert shown.lower() in one, shown


def test_page_one_shows_the_top_three_risks_and_the_next_two_catalysts(
    pages: list[str], project: Path, spec: dict[str, Any]
) -> None:
    one = flat(pages[0])
    ranked = sorted(
        spec["risks"], key=lambda r: -LEVEL[r["likelihood"]] * LEVEL[r["impact"]]
    )  # stable: the author's order among equals
    top = one.split("TOP RISKS", 1)[1]
    shown = [top.index(r["title"]) for r in ranked[:3]]
    assert shown == sorted(shown)
    assert ranked[3]["title"] not in top.split("NEXT CATALYSTS")[0]
    upcoming = [c for c in spec["catalysts"] if _quarter_end(str(c["when"])) >= spec["as_of"]]
    catalysts = one.split("NEXT CATALYSTS", 1)[1]
    assert all(c["event"] in catalysts for c in upcoming[:2])
    assert all(c["event"] not in catalysts for c in upcoming[2:])
    html = (project / f"{EXAMPLE.name}.html").read_text(encoding="utf-8")
    for anchor in ("risk-1", "risk-2", "risk-3", "catalyst-1", "catalyst-2"):
        assert f'href="#{anchor}"' in html and f'id="{anchor}"' in html


def _quarter_end(when: str) -> date:
    year, quarter = when.split("-Q")
    return date(int(year), int(quarter) * 3, 28)


def test_no_tool_name_path_or_not_a_recommendation_beside_a_rating(pages: list[str]) -> None:
    text = "\n".join(pages)
    assert "reportgen" not in text.lower()
    assert not re.search(r"\b[\w.-]+/[\w.-]+/[\w.-]|\.(?:txt|md|csv|ya?ml)\b", text)
    assert "not a recommendation" not in text.lower()
    assert "Not investment advice" not in text  # the footer of a rated brief
    assert "See important disclosures at the end of this brief" in pages[1]
    assert not re.search(r"\bproject\b", text, re.IGNORECASE)  # the tool's word, not the reader's


def test_the_prose_rates_the_shares_only_with_the_rating(
    pages: list[str], spec: dict[str, Any]
) -> None:
    """A thesis that "rates the shares High-Risk, High-Reward" beside a Buy is a second rating."""
    said = re.findall(r"\brates? the shares (?:an? )?([\w-]+)", flat("\n".join(pages)))
    assert said and set(said) == {spec["market"]["rating"]}, said


def test_back_matter_names_analysts_production_time_and_pricing_date(
    pages: list[str], spec: dict[str, Any]
) -> None:
    back = flat(" ".join(pages)).split("Important disclosures")[-1]
    last = flat(pages[-1])
    certification = back.split("Analyst certification", 1)[1]
    for author in spec["authors"]:
        name = author if isinstance(author, str) else author["name"]
        assert name in certification and name in flat(pages[0])
    priced = date.fromisoformat(str(spec["market"]["date"]))
    assert re.search(r"Produced \d{1,2} \w+ \d{4}, \d{2}:\d{2} UTC", last)
    assert f"Prices as of {priced.day} {priced:%B %Y}" in last


def test_analysts_as_names_or_name_role_email() -> None:
    person = {"name": "Mei Chen", "role": "Senior Analyst", "email": "mei@desk.example"}
    assert TypeAdapter(list[AuthorEntry]).validate_python(["Research Desk", person]) == [
        Author(name="Research Desk"),
        Author(name="Mei Chen", role="Senior Analyst", email="mei@desk.example"),
    ]


def test_numbers_round_half_away_from_zero() -> None:
    assert format_number(17.25, 1) == "17.3" and format_number(-17.25, 1) == "\u221217.3"
    assert format_value(17.25, True) == "17.3x" and format_premium(0.1725) == "+17.3%"
    assert format_number(-0.04, 1) == "0.0"  # no minus on a zero


def test_the_premium_agrees_with_the_multiples_shown(pages: list[str]) -> None:
    """Recomputed by hand from the figures the comparables table shows."""
    text = flat("\n".join(pages))
    subject = re.search(r"Alibaba Group\[\d+\] ([\d.]+)x ([\d.]+)x", text)
    median = re.search(
        r"Peer median \(excl\. Alibaba Group\)\[[\d,\s]+\] ([\d.]+)x ([\d.]+)x", text
    )
    premium = re.search(r"to median\[[\d,\s]+\] ([−+][\d.]+)% ([−+][\d.]+)%", text)
    assert subject and median and premium, text[:300]
    for j in (1, 2):
        expected = float(subject.group(j)) / float(median.group(j)) - 1
        assert premium.group(j) == format_premium(expected).removesuffix("%")


def test_minus_signs_and_en_dashes(pages: list[str]) -> None:
    text = "\n".join(pages)
    assert not re.search(r"(?<![\w.-])-\d", text), re.findall(r".{20}(?<![\w.-])-\d.{5}", text)
    assert not re.search(r"(?<![\w.-])\d+%?-\d+%", text)  # a range takes an en dash
    assert "\u221210%" in text  # the rating scale's "-10%"
    assert typeset("between -10% and 20-30% on 2026-11-21") == (
        "between \u221210% and 20\u201330% on 2026-11-21"
    )


def test_sections_are_numbered_without_gaps(pages: list[str], project: Path) -> None:
    html = (project / f"{EXAMPLE.name}.html").read_text(encoding="utf-8")
    numbers = [int(n) for n in re.findall(r'<h2><span class="num">(\d+)</span>', html)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 9
    unnumbered = re.findall(r"<h2>([^<]+)</h2>", html)
    assert unnumbered == ["Source reconciliation", "Sources", "Important disclosures"]


def test_footnote_marks_ascend_and_merge(pages: list[str]) -> None:
    text = "\n".join(pages)
    assert "][" not in text
    merged = re.findall(r"\[(\d+(?:,\s\d+)+)\]", text)
    groups = [[int(n) for n in g.split(",")] for g in merged]
    assert groups, "the example has figures with two sources"
    assert all(g == sorted(set(g)) for g in groups)
    twice = FOOTNOTE_MARK.format(n=3) + FOOTNOTE_MARK.format(n=2) + FOOTNOTE_MARK.format(n=3)
    assert merge_marks(twice) == (
        '<sup class="fn">[<a href="#source-2">2</a>,\u00a0<a href="#source-3">3</a>]</sup>'
    )


def test_a_mark_never_wraps_away_from_its_figure(pages: list[str]) -> None:
    for text in pages:
        for line in text.splitlines():
            assert not line.rstrip().endswith("["), line
            assert not re.match(r"^\s*\d+(?:,\s\d+)*\]", line), line


def running_heads(pdf: Path) -> list[str]:
    """The text in the top margin of every page after the first."""
    heads = []
    for page in list(pdfium.PdfDocument(pdf))[1:]:
        width, height = page.get_size()
        text = page.get_textpage().get_text_bounded(0, height - 20 * MM, width, height)
        heads.append(text.strip())
    return heads


def test_the_running_header_is_one_line(project: Path) -> None:
    heads = running_heads(project / f"{EXAMPLE.name}.pdf")
    assert heads and all(h == heads[0] and "\n" not in h for h in heads), heads
    assert heads[0] == "Alibaba Group Holding · NYSE: BABA · Alibaba's AI Bet"


def test_a_long_running_header_is_shortened_to_one_line(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    """A CJK title twice the width of the page: one line, ending in an ellipsis."""
    minimal["title"] = "阿里巴巴的人工智能赌注：资本支出、云计算份额与盈利之路，" * 3
    minimal["subject"]["name"] = "Alibaba Group Holding Limited (阿里巴巴集团控股有限公司)"
    minimal["sections"][0]["body"] += "\n\n" + "\n\n".join(["Filler paragraph."] * 70)
    result = build_brief(make_brief(minimal), tmp_path / "out")
    assert result.ok, [str(p) for p in result.problems]
    heads = running_heads(tmp_path / "out" / "acme" / "acme.pdf")
    assert heads and all("\n" not in h and h.endswith("…") for h in heads), heads


def test_a_source_named_like_a_path_is_a_warning(example_copy: Path) -> None:
    path = example_copy / "brief.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "    publisher: AInvest\n", "    publisher: Seed article (shared/seeds/ambition.txt)\n", 1
    )
    path.write_text(text, encoding="utf-8")
    checked, problems = check_brief(example_copy)
    assert checked is not None
    found = [p for p in problems if p.finding == "source-path:ambition:publisher"]
    assert len(found) == 1 and found[0].severity == "warning"
    assert "looks like a file path" in found[0].message


def test_the_html_names_no_tool_or_path(project: Path) -> None:
    html = (project / f"{EXAMPLE.name}.html").read_text(encoding="utf-8")
    shown = re.sub(r"<(style|svg|script)\b.*?</\1>|<[^>]+>", " ", html, flags=re.S)
    assert "reportgen" not in shown.lower()
    assert not re.search(r"\b[\w.-]+/[\w.-]+/[\w.-]|\b[\w-]+\.(?:txt|md|csv|ya?ml)\b", shown)


PHONE_JS = """(() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p).overflowX;
      if ((s === 'auto' || s === 'scroll') && p.getBoundingClientRect().right <= width + 1) return true;
    }
    return false;
  };
  const cut = [...document.querySelectorAll('table')]
    .filter((t) => t.getBoundingClientRect().right > width + 1 && !scrolls(t))
    .map((t) => t.className || t.parentElement.id);
  const recon = [...document.querySelectorAll('table.recon td')]
    .filter((td) => td.getBoundingClientRect().right > width + 1).length;
  const split = [...document.querySelectorAll('sup.fn, .fig-mark, .metric')]
    .filter((el) => el.getClientRects().length > 1)
    .map((el) => el.textContent);
  return JSON.stringify({cut, recon, split});
})()"""


def test_at_390px_no_table_is_cut_off_and_no_mark_wraps(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every table fits the phone or scrolls in its own box; the reconciliation reflows (all
    its cells on screen); no footnote mark or figure with its mark breaks across lines."""
    from tests.e2e.test_accessibility import CHROMIUM, need, open_page
    from tests.e2e.test_browser import DevTools, page_socket, start_chromium

    need(CHROMIUM, "chromium")
    process, port = start_chromium(tmp_path_factory.mktemp("chromium-phone"))
    tools = DevTools(page_socket(port))
    try:
        tools.call("Page.enable")
        open_page(tools, project / f"{EXAMPLE.name}.html", 390, 844, True)
        result = tools.call("Runtime.evaluate", expression=PHONE_JS, returnByValue=True)
    finally:
        tools.close()
        process.terminate()
        process.wait(timeout=20)
    found = json.loads(result["result"]["value"])
    assert found == {"cut": [], "recon": 0, "split": []}
