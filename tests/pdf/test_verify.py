"""The PDF checks itself: each verification fires on a page built to trip it, a brief
that fails is not promoted, and the example brief verifies clean."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

from reportgen.cli import main
from reportgen.pdf.layout import render_pdf
from reportgen.pdf.verify import Expected, read_back, verify_built, verify_pdf
from reportgen.project import Project
from tests.conftest import EXAMPLE, build_brief

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
WHERE = Path("out/x/x.pdf")


def page(body: str, sources: str = "<li>[1] Alpha Report.</li>") -> str:
    return (
        '<html lang="en"><head><style>@page { size: A4; margin: 20mm } figure, body { margin: 0 }</style></head><body>'
        f'<h2>Thesis</h2>{body}<h2>Sources</h2><ol style="list-style: none">{sources}</ol></body></html>'
    )


def check(html: str, expected: Expected | None = None, root: Path = Path(".")) -> list[str]:
    rendered = render_pdf(html, root, WHERE)
    return [str(p) for p in rendered.problems + verify_pdf(rendered.pdf, expected, where=WHERE)]


def test_a_clean_page_passes() -> None:
    assert (
        check(
            page("<p>Revenue rose <sup>[1]</sup>.</p>"),
            Expected(("Thesis",), ((1, "Alpha Report"),)),
        )
        == []
    )


def test_orphan_footnote_and_uncited_source() -> None:
    sources = "<li>[1] Alpha Report.</li><li>[2] Beta Review.</li>"
    assert check(page("<p>Revenue rose <sup>[1]</sup> and fell <sup>[3]</sup>.</p>", sources)) == [
        "out/x/x.pdf: footnotes: footnote mark [3] on page 1 has no entry in Sources",
        "out/x/x.pdf: sources: source [2] is listed but never cited in the text",
    ]


def test_missing_section_and_source_title() -> None:
    expected = Expected(("Thesis", "Outlook"), ((1, "Alpha Report"), (2, "Gamma Notes")))
    assert check(page("<p>Rose <sup>[1]</sup>.</p>"), expected) == [
        "out/x/x.pdf: sources: source [2] 'Gamma Notes' is missing from the Sources list",
        "out/x/x.pdf: sections: section 'Outlook' is missing from the PDF",
    ]


def test_page_limit() -> None:
    long = "".join(f'<p style="break-after: page">Page <sup>[1]</sup> {i}</p>' for i in range(4))
    assert check(page(long), Expected(max_pages=3)) == [
        "out/x/x.pdf: pages: 5 pages, more than the limit of 3 (checks.max_pages)"
    ]


def test_missing_glyph_names_the_text() -> None:
    problems = check(page("<p>Clef \U0001d11e in the text <sup>[1]</sup>.</p>"))
    assert problems[0] == (
        "out/x/x.pdf: glyphs: no font has a glyph for '\U0001d11e' (U+1D11E) on page 1, in \"Clef \U0001d11e in the text\""
    )


def test_table_or_chart_overflowing_the_text_block() -> None:
    body = (
        '<figure id="table-peers"><table style="width: 250mm"><tr><td>wide <sup>[1]</sup></td></tr></table></figure>'
        '<figure id="chart-bars"><svg xmlns="http://www.w3.org/2000/svg" width="100" height="1300"></svg></figure>'
    )
    assert check(page(body)) == [
        "out/x/x.pdf: layout: table 'peers' on page 1 overflows the text block by 80.0 mm",
        "out/x/x.pdf: layout: chart 'bars' on page 2 overflows the text block by 87.0 mm",
    ]


def test_unreadable_pdf(tmp_path: Path) -> None:
    bad = tmp_path / "x.pdf"
    bad.write_bytes(b"not a pdf")
    result = CliRunner().invoke(main, ["verify", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: pdf: not a readable PDF" in result.output


# ------------------------------------------------------------------ in the pipeline


def test_brief_failing_verification_is_not_promoted(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    folder = make_brief(minimal)
    assert build_brief(folder, out, now=NOW).status == "built"
    before = {p.name: p.read_bytes() for p in (out / "acme").iterdir()}
    pdf = out / "acme" / "acme.pdf"
    minimal["risks"][0]["body"] = "Rivals, as noted [4]."  # a footnote typed by hand
    make_brief(minimal)
    result = build_brief(folder, out, now=NOW)
    assert result.status == "failed"
    assert [str(p) for p in result.errors] == [
        f"{pdf}: footnotes: footnote mark [4] on page 1 has no entry in Sources"
    ]
    minimal["risks"][0]["body"] = "Rivals."
    minimal["title"] = "Acme \U0001d11e Big Bet"  # no font has this glyph
    make_brief(minimal)
    result = build_brief(folder, out, now=NOW)
    assert result.status == "failed"
    assert str(result.errors[0]).startswith(
        f"{pdf}: glyphs: no font has a glyph for '\U0001d11e' (U+1D11E) on page 1, in \""
    )
    assert "Acme \U0001d11e Big Bet" in str(result.errors[0])
    assert {p.name: p.read_bytes() for p in (out / "acme").iterdir()} == before  # nothing replaced
    assert not list((out / "acme").glob(".*.tmp"))


@pytest.fixture(scope="module")
def example_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    result = build_brief(EXAMPLE, out, now=NOW)
    assert result.ok, [str(p) for p in result.problems]
    assert not [p for p in result.errors if p.path.suffix == ".pdf"]  # verification passed
    return out / EXAMPLE.name / f"{EXAMPLE.name}.pdf"


def test_example_verifies_clean_from_the_command_line(example_pdf: Path) -> None:
    assert [p for p in verify_built(example_pdf) if p.severity == "error"] == []
    result = CliRunner().invoke(main, ["verify", str(example_pdf)])
    assert result.exit_code == 0, result.output
    assert f"verified {example_pdf}" in result.output


def test_reconciliation_appendix_reads_back_from_the_pdf(example_pdf: Path) -> None:
    text = " ".join(" ".join(page.split()) for page in read_back(example_pdf).pages)
    appendix = text[text.index("Source reconciliation") : text.rindex("Sources")]
    assert "BRIEF USES" in appendix.upper()
    assert re.search(
        r"Alibaba Cloud share of China AI cloud 2025 35\.8%\[\d\] vs 36%\[\d\] 0\.2pp", appendix
    )
    assert re.search(
        r"Tencent Cloud share of China AI cloud 2025 7%\[\d\] vs 10%\[\d\] 3pp", appendix
    )
    assert re.search(r"6 quarters\[\d\] vs 9 quarters\[\d\] 3 quarters", appendix)
    # each value the brief uses with its footnote mark, never the author's source id
    assert re.search(r"35\.8%\[\d\] in key figures, verdict", appendix)
    assert "(ambition)" not in appendix and "(push)" not in appendix
    assert "Reviewed: A 0.2pp gap, within rounding." in appendix  # the reviewer's reason
    assert "stale figure" not in text  # check messages are for the author, not the reader
    assert (
        "as of Q1 2025" in text[: text.index("Source reconciliation")]
    )  # the stale figure, tagged


def test_font_that_cannot_load_is_an_error_a_css_slip_a_warning(tmp_path: Path) -> None:
    style = (
        "<style>@font-face { font-family: House; src: url(house.woff2) } "
        "p { font-family: House, sans-serif; font-feature-settings: bogus }</style>"
    )
    problems = check(page(f"{style}<p>Rose <sup>[1]</sup>.</p>"), root=tmp_path)
    assert problems == [
        "out/x/x.pdf: fonts: WeasyPrint: Font-face 'House' cannot be loaded",
        "out/x/x.pdf: weasyprint: warning: WeasyPrint: Ignored `font-feature-settings: bogus ` at 1:94, invalid value.",
    ]


def test_a_title_wrapped_at_its_hyphen_still_matches() -> None:
    """PDFium reads a hyphen that ends a line as U+FFFE; the check reads it as the hyphen."""
    title = "Alpha once-in-a-generation Report"
    sources = f'<li style="width: 34mm">[1] {title}.</li>'
    page_html = page("<p>Revenue rose <sup>[1]</sup>.</p>", sources)
    rendered = render_pdf(page_html, Path("."), WHERE)
    assert "\ufffe" in "".join(pdfium_text(rendered.pdf))  # the line did break at a hyphen
    assert verify_pdf(rendered.pdf, Expected(("Thesis",), ((1, title),)), where=WHERE) == []


def pdfium_text(pdf: bytes) -> list[str]:
    """Page texts exactly as PDFium gives them, before read_back's clean-up."""
    document = pdfium.PdfDocument(pdf)
    return [str(page.get_textpage().get_text_range()) for page in document]


# ------------------------------------------------------------------ attribution (#11.5)

PER_ROW_CSV = "company,share,source\nAcme,40,alpha\nGlobex,35,beta\nInitech,25,alpha\n"


def _attributed_brief(minimal: dict[str, Any]) -> dict[str, Any]:
    """The table and the chart cite per row: `source` is in the CSV, not in `columns`."""
    minimal["sources"]["alpha"]["short"] = "Alpha"  # beta has no short name: its title shows
    del minimal["tables"][0]["source"], minimal["charts"][0]["source"]
    return minimal


def _body_text(pdf: Path) -> str:
    return " ".join(" ".join(read_back(pdf).pages).split())


def test_a_table_footed_per_row_marks_each_row_without_a_source_column(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    folder = make_brief(_attributed_brief(minimal), {"peers.csv": PER_ROW_CSV})
    result = build_brief(folder, tmp_path / "out", now=NOW)
    assert result.status == "built", [str(p) for p in result.problems]
    text = _body_text(tmp_path / "out" / "acme" / "acme.pdf")
    # alpha is [1] (the verdict cites it first), beta [2]; rows sorted by share
    assert re.search(
        r"Acme ?\[1\] 40%? Globex ?\[2\] 35%? Initech ?\[1\] 25%? Source: as marked per row", text
    )


def test_a_chart_source_line_names_its_sources(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    folder = make_brief(_attributed_brief(minimal), {"peers.csv": PER_ROW_CSV})
    assert build_brief(folder, tmp_path / "out", now=NOW).status == "built"
    text = _body_text(tmp_path / "out" / "acme" / "acme.pdf")
    assert re.search(r"Source: Alpha ?\[1\]; Beta Review ?\[2\]", text), text


def test_a_table_with_one_source_names_it_on_its_source_line(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    folder = make_brief(minimal)
    assert build_brief(folder, tmp_path / "out", now=NOW).status == "built"
    text = _body_text(tmp_path / "out" / "acme" / "acme.pdf")
    assert re.search(r"Peers .*? Source: Alpha Report ?\[1\]", text), text
    assert "Source: [" not in text


def test_an_override_dropping_a_chart_source_line_fails_naming_the_chart(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "chart.html.j2").write_text(
        '<figure class="chart"><p class="chart-title">{{ chart.title }}</p>'
        '<div class="chart-svg">{{ chart.svg }}</div></figure>\n',
        encoding="utf-8",
    )
    folder = make_brief(minimal)
    result = build_brief(folder, tmp_path / "out", Project(template_dirs=(templates,)), now=NOW)
    pdf = tmp_path / "out" / "acme" / "acme.pdf"
    assert result.status == "failed"
    assert [str(p) for p in result.errors] == [
        f"{pdf}: attribution: chart 'Peer share' has no source line with a footnote mark"
    ]
    assert not pdf.exists()  # never promoted


def test_a_table_footed_per_row_with_unmarked_rows_fails() -> None:
    table = (
        "<figure><table><caption>Peers</caption><tr><td>Acme</td><td>40</td></tr></table>"
        "<figcaption>Source: as marked per row</figcaption></figure><p>Rose <sup>[1]</sup>.</p>"
    )
    expected = Expected(figures=(("table", "Peers"),))
    assert check(page(table), expected) == [
        "out/x/x.pdf: attribution: table 'Peers' has no source line with a footnote mark"
    ]
    marked = table.replace("<td>Acme</td>", "<td>Acme<sup>[1]</sup></td>")
    assert check(page(marked), expected) == []
    assert check(page("<p>Rose <sup>[1]</sup>.</p>"), expected) == [
        "out/x/x.pdf: attribution: table 'Peers' is missing from the PDF"
    ]


def test_a_title_that_is_a_common_word_does_not_cut_another_figure_short() -> None:
    """A chart titled "Revenue" shows in the table header "Revenue (USD bn)" too: only a
    title on lines of its own, as a caption is, begins the next figure."""
    table = (
        "<figure><table><caption>Revenue and margin</caption>"
        "<tr><th>Year</th><th>Revenue (USD bn)</th></tr><tr><td>2025</td><td>9.7</td></tr>"
        "</table><figcaption>Source: Alpha<sup>[1]</sup></figcaption></figure>"
    )
    chart = "<figure><p>Revenue</p><figcaption>Source: Alpha<sup>[1]</sup></figcaption></figure>"
    expected = Expected(figures=(("table", "Revenue and margin"), ("chart", "Revenue")))
    assert check(page(table + chart), expected) == []
    unsourced = table.replace("<figcaption>Source: Alpha<sup>[1]</sup></figcaption>", "")
    assert check(page(unsourced + chart), expected) == [
        "out/x/x.pdf: attribution: table 'Revenue and margin' has no source line with a "
        "footnote mark"
    ]


def test_a_figure_without_its_source_line_fails_when_titles_carry_a_prefix() -> None:
    """A template may caption 'Table: ...' and 'Chart: ...': the chart's caption still ends
    the table's span, so the table cannot borrow the chart's source line."""
    table = (
        "<figure><table><caption>Table: Peer shares</caption>"
        "<tr><td>Acme</td><td>40</td></tr></table></figure>"
    )
    chart = (
        "<figure><p>Chart: Cloud providers by share</p>"
        "<figcaption>Source: Alpha<sup>[1]</sup></figcaption></figure>"
    )
    expected = Expected(figures=(("table", "Peer shares"), ("chart", "Cloud providers by share")))
    assert check(page(table + chart), expected) == [
        "out/x/x.pdf: attribution: table 'Peer shares' has no source line with a footnote mark"
    ]
