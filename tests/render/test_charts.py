"""Charts: house style, highlight, data text never read as mathtext, stable bytes, SVG post-processing,
legends and axes in words, labels that fit, chart text at least 6.5 pt in the PDF."""

from __future__ import annotations

import base64
import copy
import ctypes
import math
import re
from pathlib import Path

import pandas as pd
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from conftest import MINIMAL, build_brief, write_brief

from reportgen.brief.data import Frame
from reportgen.brief.labels import header_words
from reportgen.brief.models import Chart
from reportgen.brief.spec import load_spec
from reportgen.brief.validate import validate
from reportgen.pdf.engine import charts_as_images
from reportgen.pdf.verify import read_back
from reportgen.render.charts import ACCENT, BASE, build_chart
from reportgen.render.figure import recolour


def draw(chart: Chart, df: pd.DataFrame) -> str:
    return build_chart(chart, Frame(Path("d.csv"), df), lambda s: f"[{s}]", lambda g: g).svg


DF = pd.DataFrame({"company": ["Acme $x^2$", "Globex"], "share": [40.0, 35.0], "other": [1.0, 2.0]})


def test_highlight_in_accent_and_text_is_literal() -> None:
    chart = Chart(
        id="c",
        title="T",
        kind="bar",
        data="d.csv",
        x="company",
        y="share",
        unit="%",
        highlight="Acme $x^2$",
        source="s",
    )
    svg = draw(chart, DF)
    assert f'fill="{ACCENT}"' in svg
    assert "Acme $x^2$" in svg  # no mathtext: the dollar signs stay as typed
    assert "<text" in svg  # text kept as text (svg.fonttype none)
    assert 'id="chart-c-' in svg and "<?xml" not in svg


def test_every_kind_draws_and_is_stable() -> None:
    for kind in ("bar", "barh", "line", "stacked-bar"):
        chart = Chart(
            id=f"k-{kind}",
            title="T",
            kind=kind,
            data="d.csv",
            x="company",
            y=["share", "other"],
            source="s",
        )
        first, second = draw(chart, DF), draw(chart, DF)
        assert first == second
        assert first.startswith("<svg")


def test_group_makes_one_series_per_source() -> None:
    long = pd.DataFrame(
        {"company": ["A", "A", "B"], "share": [1.0, 2.0, 3.0], "source": ["x", "y", "x"]}
    )
    chart = Chart(id="g", title="T", data="d.csv", x="company", y="share", group="source")
    view = build_chart(chart, Frame(Path("d.csv"), long), lambda s: f"[{s}]", lambda g: f"src {g}")
    assert "src x" in view.svg and "src y" in view.svg
    assert view.source_marks == "[x]; [y]"  # each source credited on the line, "; "-separated


def test_svg_post_processing_escapes_the_title_and_feeds_the_pdf_the_same_svg() -> None:
    """Chart SVG: inline for the page, recoloured, and as <img> for the PDF."""
    chart = Chart(
        id="q",
        title='Share "A" <&> B',
        kind="bar",
        data="d.csv",
        x="company",
        y="share",
        source="s",
    )
    svg = draw(chart, DF)
    label = "Share &#34;A&#34; &lt;&amp;&gt; B"
    assert svg.startswith(f'<svg role="img" aria-label="{label}"')
    assert ' width="' not in svg.split(">", 1)[0]  # scales to its container
    assert recolour(svg, {BASE: "#123456"}).count("#123456") == svg.count(BASE) > 0
    page = f'<figure><div class="chart-svg">\n{svg}</div></figure>'
    image = charts_as_images(page)
    data = image.split("base64,", 1)[1].split('"', 1)[0]
    assert image.startswith(f'<figure><div class="chart-svg">\n<img alt="{label}" src="data:')
    assert base64.b64decode(data).decode("utf-8") == svg.rstrip() and "<svg" not in image


# ---- Issue 14: words, not identifiers; text that fits; sizes that read everywhere ----

QUARTERS = ["Q1 2024", "Q2 2024", "Q3 2024", "Q4 2024", "Q1 2025", "Q2 2025", "Q3 2025", "Q4 2025"]
LONG_NAMES = [
    "Alibaba Cloud Intelligence Group",
    "ByteDance Volcano Engine",
    "Tencent Cloud",
    "Baidu AI Cloud",
    "Huawei Cloud",
    "Kingsoft Cloud",
]


def unlabelled_brief(folder: Path) -> Path:
    """A brief whose charts have no `labels:`: several series, quarters, long category names."""
    spec = copy.deepcopy(MINIMAL)
    spec["charts"] += [
        {
            "id": "mix",
            "title": "Share mix",
            "kind": "stacked-bar",
            "data": "mix.csv",
            "x": "quarter",
            "y": ["leader_pct", "second_pct"],
            "unit": "%",
        },
        {
            "id": "trend",
            "title": "Trend",
            "kind": "line",
            "data": "mix.csv",
            "x": "quarter",
            "y": ["leader_pct", "second_pct", "aws_index"],
        },
        {
            "id": "peers-two",
            "title": "Peers, two sources",
            "kind": "bar",
            "data": "mix.csv",
            "x": "quarter",
            "y": ["leader_pct", "second_pct"],
            "unit": "%",
            "labels": {"leader_pct": "Leader", "second_pct": "Runner-up"},
        },
        {
            "id": "long",
            "title": "Long names",
            "kind": "barh",
            "data": "long.csv",
            "x": "name",
            "y": "value_usd_bn",
            "source": "alpha",
        },
    ]
    spec["sections"][0]["charts"] += ["mix", "trend", "peers-two", "long"]
    mix = "quarter,leader_pct,second_pct,aws_index,source\n" + "".join(
        f"{q},{30.5 + i},{20 + i % 3},{100 + i},alpha\n" for i, q in enumerate(QUARTERS)
    )
    long = "name,value_usd_bn\n" + "".join(f"{n},{12 - 2 * i}\n" for i, n in enumerate(LONG_NAMES))
    return write_brief(folder, spec, {"mix.csv": mix, "long.csv": long})


@pytest.mark.parametrize(
    ("header", "unit", "words"),
    [
        ("leader_pct", None, "Leader (%)"),
        ("leader_pct", "pp", "Leader (%)"),  # the header's own unit wins
        ("leader", "%", "Leader (%)"),
        ("leaderPct", None, "Leader (%)"),
        ("aws_index", None, "AWS index"),
        ("amount_rmb_bn", "RMB bn", "Amount (RMB bn)"),
        ("q1_2025", None, "Q1 2025"),
        ("Alibaba Cloud", None, "Alibaba Cloud"),  # already words: kept as written
        ("Share (%)", "%", "Share (%)"),  # the unit is not said twice
    ],
)
def test_a_header_becomes_words_with_its_unit(header: str, unit: str | None, words: str) -> None:
    assert header_words(header, unit) == words


def test_a_guessed_legend_warns_at_its_line_with_a_stable_finding_key(tmp_path: Path) -> None:
    folder = unlabelled_brief(tmp_path / "acme")
    checked = validate(load_spec(folder))
    guessed = [w for w in checked.warnings if (w.finding or "").startswith("chart-label:")]
    assert {w.finding for w in guessed} == {"chart-label:mix", "chart-label:trend"}
    mix = next(w for w in guessed if w.finding == "chart-label:mix")
    yaml_lines = (folder / "brief.yaml").read_text(encoding="utf-8").splitlines()
    assert mix.path == folder / "brief.yaml" and mix.key == "charts[1].y"
    assert mix.line is not None and yaml_lines[mix.line - 1].strip().startswith("y:")
    assert "'Leader (%)' for leader_pct" in mix.message and "labels:" in mix.message
    assert mix.values == ("Leader (%)", "Second (%)")
    assert str(mix).startswith(f"{folder / 'brief.yaml'}:{mix.line}: charts[1].y: warning: ")


def _svg_text(svg: str) -> list[str]:
    return re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)


def _x_labels(svg: str) -> tuple[list[list[str]], str]:
    """Each x tick's label as its lines, and the x axis' markup."""
    axis = svg[svg.index("matplotlib.axis_1") : svg.index("matplotlib.axis_2")]
    ticks = re.split(r'id="[^"]*xtick_\d+"', axis)[1:]
    return [_svg_text(t) for t in ticks], axis


def _chart(kind: str, y: str | list[str], x: str = "quarter", **extra: object) -> Chart:
    return Chart(id="t", title="T", kind=kind, data="d.csv", x=x, y=y, source="s", **extra)


MIX = pd.DataFrame({"quarter": QUARTERS, "leader_pct": range(30, 38), "second_pct": range(20, 28)})


def test_legend_from_the_header_in_words_or_from_labels_never_the_identifier() -> None:
    guessed = _svg_text(draw(_chart("stacked-bar", ["leader_pct", "second_pct"]), MIX))
    assert "Leader (%)" in guessed and "Second (%)" in guessed
    named = _chart("line", ["leader_pct", "second_pct"], labels={"leader_pct": "Alibaba"})
    texts = _svg_text(draw(named, MIX))
    assert "Alibaba" in texts and "Second (%)" in texts
    assert not [t for t in guessed + texts if "_" in t]


def test_the_legend_sits_above_the_plot() -> None:
    svg = draw(_chart("stacked-bar", ["leader_pct", "second_pct"], unit="%"), MIX)
    plot_top = float(re.search(r'<clipPath[^>]*>\s*<rect x="[^"]*" y="([^"]*)"', svg)[1])
    legend = svg[svg.index("legend_1") :]
    ys = [float(y) for y in re.findall(r'<text\b[^>]*\by="([^"]*)"', legend)]
    assert len(ys) == 2 and max(ys) < plot_top


def test_x_labels_flat_when_they_fit() -> None:
    labels, axis = _x_labels(draw(_chart("bar", "share", x="company"), DF))
    assert labels == [["Acme $x^2$"], ["Globex"]]
    assert "rotate(-0 " in axis and not re.search(r"rotate\(-[1-9]", axis)


def test_quarters_on_a_line_chart_wrap_to_two_lines_and_are_not_rotated() -> None:
    labels, axis = _x_labels(draw(_chart("line", ["leader_pct", "second_pct"]), MIX))
    assert labels == [q.split() for q in QUARTERS]
    assert not re.search(r"rotate\(-[1-9]", axis)


def test_long_category_names_take_at_most_two_lines() -> None:
    names = ["Alibaba Cloud", "ByteDance Volcano Engine", "Tencent Cloud", "Baidu AI Cloud"]
    df = pd.DataFrame({"company": names, "share": [36.0, 14.8, 10.0, 6.1]})
    labels, _ = _x_labels(draw(_chart("bar", "share", x="company", unit="%"), df))
    assert len(labels) == 4 and all(1 <= len(lines) <= 2 for lines in labels)
    assert [" ".join(lines) for lines in labels] == names


@pytest.fixture(scope="module")
def unlabelled_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("unlabelled")
    result = build_brief(unlabelled_brief(root / "acme"), root / "build")
    assert result.ok, [str(p) for p in result.problems]
    return next(p for p in result.outputs if p.suffix == ".pdf")


def test_the_pdf_shows_no_raw_column_name(unlabelled_pdf: Path) -> None:
    text = "\n".join(read_back(unlabelled_pdf).pages)
    assert "Leader (%)" in text and "Runner-up" in text and "AWS index" in text
    assert re.findall(r"\w+_\w+", text) == []


def test_chart_text_in_the_pdf_is_at_least_6_5_pt(unlabelled_pdf: Path) -> None:
    """Every text of every chart SVG, found in the PDF, at its size on the page."""
    html = unlabelled_pdf.with_suffix(".html").read_text(encoding="utf-8")
    texts = {t.strip() for t in _svg_text(html) if len(t.strip()) > 1}
    sizes = pdf_text_sizes(unlabelled_pdf, texts)
    assert set(sizes) == texts  # every chart text is in the PDF
    smallest = min(min(s) for s in sizes.values())
    assert 6.5 <= smallest <= 9.6  # never tiny, never larger than the body text (9.6 pt)


def pdf_text_sizes(pdf: Path, texts: set[str]) -> dict[str, list[float]]:
    """The size on the page, in points, of each character of each occurrence of `texts`:
    PDFium's font size times the scale of the character's matrix (a chart is an SVG
    drawn scaled, so its font size alone is in the SVG's units). Spaces are left out:
    PDFium makes up the ones between words, at size 1."""
    document = pdfium.PdfDocument(pdf)
    sizes: dict[str, list[float]] = {}
    try:
        for page in document:
            textpage = page.get_textpage()
            for text in texts:
                searcher = textpage.search(text, match_case=True)
                while (found := searcher.get_next()) is not None:
                    start, count = found
                    sizes.setdefault(text, []).extend(
                        _char_size(textpage, i)
                        for i in range(start, start + count)
                        if not chr(pdfium_c.FPDFText_GetUnicode(textpage, i)).isspace()
                    )
    finally:
        document.close()
    return sizes


def _char_size(textpage: pdfium.PdfTextPage, index: int) -> float:
    matrix = pdfium_c.FS_MATRIX()
    pdfium_c.FPDFText_GetMatrix(textpage, index, ctypes.byref(matrix))
    scale = math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c))
    return float(pdfium_c.FPDFText_GetFontSize(textpage, index) * scale)
