"""PDF stage: confined fetching, CJK glyphs, reproducible bytes, spec text as data,
and the example's pages as they looked (golden images)."""

from __future__ import annotations

import ctypes
import http.server
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import yaml
from PIL import Image

from reportgen.pdf.engine import NOT_A_LINUX_NAME, _hoisted_styles
from reportgen.pdf.layout import render_pdf
from reportgen.pdf.verify import read_back
from tests.conftest import EXAMPLE, ExampleBuild, build_brief


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 that records every request it gets."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


ENGINE_PROBE = """
import sys
started = []
sys.addaudithook(lambda event, args: started.extend(args[1]) if event == "subprocess.Popen" else None)
from reportgen.pdf.engine import weasyprint
assert weasyprint.HTML
print(" ".join(a[2:] for a in map(str, started) if a.startswith("-l")))
"""


def test_weasyprint_loads_without_running_a_compiler() -> None:
    """reportgen.pdf.engine spares the gcc runs cffi makes for the Windows and macOS names
    WeasyPrint tries first (17 of them here), and the libraries still load. A Linux name
    of a library that is not installed (harfbuzz-vector) is still looked up."""
    run = subprocess.run(
        [sys.executable, "-c", ENGINE_PROBE], capture_output=True, text=True, check=True
    )
    searched = run.stdout.split()  # the names gcc was asked to link (-lNAME)
    assert not [name for name in searched if NOT_A_LINUX_NAME.search(name)], searched
    assert not {"libgobject-2.0-0", "gobject-2.0-0", "fontconfig-1"} & set(searched)


HOUSE_PAGE = (
    '<html lang="en"><head><style>h1 { color: #123456 } p { color: #0000ff }</style>'
    '<style media="screen">@font-face { font-family: X; src: url(data:,) }</style></head>'
    "<body><h1>Title</h1>{extra}<p>Text.</p></body></html>"
)


@pytest.mark.parametrize(
    ("extra", "hoisted"),
    [
        ("", True),
        ('<svg width="9" height="9"><defs><style>.c{fill:#f00}</style></defs></svg>', False),
        ("<!-- <style>h1 { color: #00ff00 }</style> -->", False),
        ('<style type="text/css">p { color: #00ff00 !important }</style>', False),
        ('<style media="print">p { color: #00ff00 }</style>', False),
        ("<STYLE>p { color: #00ff00 }</STYLE>", False),
        ('<p style="color: #00ff00 !important">x</p>', False),
        ('<link rel="stylesheet" href="x.css">', False),
    ],
)
def test_house_css_is_parsed_once_only_when_it_is_the_pages_one_print_css(
    extra: str, hoisted: bool
) -> None:
    """Handed over as a user stylesheet, the house CSS would lose to any other author CSS
    and its !important would beat theirs: so it is taken out of the page only when
    nothing else styles it, and the cascade is the same either way."""
    page, sheets = _hoisted_styles(HOUSE_PAGE.replace("{extra}", extra))
    assert bool(sheets) is hoisted
    assert ("<style>h1" in page) is not hoisted


def test_an_inline_svg_keeps_its_own_style_in_the_pdf(tmp_path: Path) -> None:
    """A project template's inline SVG logo with a <style> of its own is drawn with it."""
    svg = (
        '<svg width="120" height="120" viewBox="0 0 10 10"><defs><style>.c{fill:#ff0000}'
        '</style></defs><rect class="c" width="10" height="10"/></svg>'
    )
    pdf = render_pdf(HOUSE_PAGE.replace("{extra}", svg), tmp_path, tmp_path / "x.pdf").pdf
    image = np.asarray(pdfium.PdfDocument(pdf)[0].render(scale=1).to_pil().convert("RGB"))
    red = (image[:, :, 0] > 200) & (image[:, :, 1] < 60) & (image[:, :, 2] < 60)
    assert red.sum() > 1000


def test_fetcher_refuses_network_and_files_outside(
    tmp_path: Path, http_server: tuple[str, list[str]]
) -> None:
    url, hits = http_server
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    brief = tmp_path / "brief"
    brief.mkdir()
    html = f"""<html><head><link rel="stylesheet" href="{url}/style.css">
    <link rel="stylesheet" href="file://{secret}"></head>
    <body><img src="{url}/x.png"><p style="background: url({url}/bg.png)">Hello</p></body></html>"""
    pdf = render_pdf(html, brief, brief / "brief.pdf").pdf
    assert pdf.startswith(b"%PDF")
    assert hits == []


def test_fetcher_serves_files_inside_the_brief(tmp_path: Path) -> None:
    brief = tmp_path / "brief"
    brief.mkdir()
    (brief / "dot.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text y="9">INSIDE</text></svg>'
    )
    page = '<html><body><img src="dot.svg"></body></html>'
    pdf = render_pdf(page, brief, brief / "brief.pdf").pdf
    assert pdf.startswith(b"%PDF")


def _build(
    make_brief: Callable[..., Path],
    spec: dict[str, Any],
    out: Path,
    files: dict[str, str] | None = None,
) -> Path:
    folder = make_brief(spec, files)
    result = build_brief(folder, out)
    assert result.ok, [str(p) for p in result.problems]
    return out / folder.name


def test_cjk_names_render_as_real_glyphs(
    make_brief: Callable[..., Path],
    minimal: dict[str, Any],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    minimal["title"] = "阿里巴巴 and 字节跳动"
    files = {"peers.csv": "company,share\n阿里巴巴,40\n字节跳动,35\nAcme,25\n"}
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        target = _build(make_brief, minimal, tmp_path / "out", files)
    text = "".join(read_back(target / "acme.pdf").pages)
    assert "阿里巴巴" in text and "字节跳动" in text
    fonts = _fonts_of(target / "acme.pdf", "阿字")
    assert fonts and all("CJK" in f for f in fonts), fonts
    assert not [r for r in caplog.records if "glyph" in r.getMessage().lower()]


def _fonts_of(pdf: Path, chars: str) -> set[str]:
    """The font each of `chars` is drawn with, wherever it appears (PDFium's text layer)."""
    document = pdfium.PdfDocument(pdf)
    fonts = set()
    for page in document:
        text = page.get_textpage()
        for index in range(text.count_chars()):
            if chr(pdfium_c.FPDFText_GetUnicode(text, index)) in chars:
                name = ctypes.create_string_buffer(256)
                pdfium_c.FPDFText_GetFontInfo(text, index, name, 256, None)
                fonts.add(name.value.decode("utf-8"))
    return fonts


def test_spec_text_is_data_never_markup(
    make_brief: Callable[..., Path],
    minimal: dict[str, Any],
    tmp_path: Path,
    http_server: tuple[str, list[str]],
) -> None:
    url, hits = http_server
    minimal["title"] = "<script>alert(1)</script> <b>Bold</b> Acme"
    minimal["sections"][0]["body"] = (
        "Raw <b>bold</b> and <img src=x onerror=alert(1)> and <script>alert(2)</script>\n\n"
        f"![remote]({url}/tracker.png) ![local-file](file:///etc/passwd) ![up](../secret.png)\n\n"
        "[click](javascript:alert(3))\n"
    )
    target = _build(make_brief, minimal, tmp_path / "out")
    html = (target / "acme.html").read_text(encoding="utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;Bold&lt;/b&gt; Acme" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    assert "<img" not in html
    assert (
        'src="file:' not in html and 'href="file:' not in html and f"{url}/tracker.png" not in html
    )
    assert 'href="javascript:' not in html
    assert "[image not shown: remote]" in html
    text = "".join(read_back(target / "acme.pdf").pages)
    assert "<b>Bold</b>" in text  # shown as the characters, in the PDF too
    assert hits == []


def test_builds_are_byte_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1763683200")  # 2025-11-21
    for name in ("a", "b"):
        assert build_brief(EXAMPLE, tmp_path / name).ok
    for ext in ("html", "pdf"):
        first = (tmp_path / "a" / "alibaba-ai-2026" / f"alibaba-ai-2026.{ext}").read_bytes()
        second = (tmp_path / "b" / "alibaba-ai-2026" / f"alibaba-ai-2026.{ext}").read_bytes()
        assert first == second, ext
    html = (tmp_path / "a" / "alibaba-ai-2026" / "alibaba-ai-2026.html").read_text(encoding="utf-8")
    assert "Produced 21 November 2025, 00:00 UTC" in html  # the theme's one date style


def test_long_table_repeats_its_header_on_every_page(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    rows = "\n".join(f"Company {i:03d},{1000 + i}" for i in range(140))
    minimal["tables"][0]["data"] = "long.csv"
    minimal["tables"][0].pop("highlight")
    minimal["tables"][0]["sort"] = "share"
    target = _build(make_brief, minimal, tmp_path / "out", {"long.csv": f"company,share\n{rows}\n"})
    pages = read_back(target / "acme.pdf").pages
    spanned = [text for text in pages if "Company 0" in text or "Company 1" in text]
    assert len(spanned) >= 2
    for text in spanned:
        assert "SHARE" in text.upper()  # the header row, repeated on each page
    everything = "\n".join(pages)
    assert all(
        everything.count(f"Company {i:03d}") == 1 for i in range(140)
    )  # no row lost or doubled


GOLDEN = Path(__file__).parent.parent / "golden"
GOLDEN_DPI = 40  # small grayscale files, still enough to see a box move or a colour change
BLOCK = 8  # px: compare 8x8 averages, so a sub-pixel shift of anti-aliased text is no change


def _page_images(pdf: Path) -> list[np.ndarray]:
    """Each page as PDFium draws it, grayscale, at GOLDEN_DPI."""
    document = pdfium.PdfDocument(pdf)
    scale = GOLDEN_DPI / 72
    return [
        np.asarray(page.render(scale=scale, grayscale=True).to_pil().convert("L"))
        for page in document
    ]


def _blocks(image: np.ndarray) -> np.ndarray:
    height, width = (n // BLOCK * BLOCK for n in image.shape)
    tiles = (
        image[:height, :width].astype(float).reshape(height // BLOCK, BLOCK, width // BLOCK, BLOCK)
    )
    return tiles.mean(axis=(1, 3))


def test_example_pages_look_as_they_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example's pages against tests/golden/*.png; a deliberate change of the look
    regenerates them: REPORTGEN_REGEN_GOLDEN=1 pytest tests/pdf/test_pdf.py -k look (then LOOK)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert build_brief(EXAMPLE, tmp_path).ok
    pages = _page_images(tmp_path / EXAMPLE.name / f"{EXAMPLE.name}.pdf")
    if os.environ.get("REPORTGEN_REGEN_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        for old in GOLDEN.glob("example-page-*.png"):
            old.unlink()
        for number, page in enumerate(pages, start=1):
            Image.fromarray(page).save(GOLDEN / f"example-page-{number:02d}.png", optimize=True)
    golden = sorted(GOLDEN.glob("example-page-*.png"))
    assert len(pages) == len(golden), "page count changed"
    for number, (page, path) in enumerate(zip(pages, golden, strict=True), start=1):
        want = np.asarray(Image.open(path).convert("L"))
        assert page.shape == want.shape, f"page {number}: size changed"
        mean = float(np.abs(page.astype(float) - want).mean())
        worst = float(np.abs(_blocks(page) - _blocks(want)).max())
        assert mean <= 1.0 and worst <= 40, (
            f"page {number} looks different from {path.name}: mean difference {mean:.2f}, "
            f"worst 8x8 block {worst:.0f} of 255"
        )


# ---- #14: page breaks and typography, read back from the PDF ----

MARGIN_BOTTOM_PT, MARGIN_TOP_PT = 18 / 25.4 * 72, 20 / 25.4 * 72  # style.css @page margins
MIN_FONT_PT = 6.5


def _empty_feet(pdf: Path) -> list[float]:
    """Per page, the share of the text block left empty below its lowest text or graphic
    (running header and footer, in the page margins, do not count)."""
    shares = []
    for page in pdfium.PdfDocument(pdf):
        height = page.get_size()[1]
        block = height - MARGIN_TOP_PT - MARGIN_BOTTOM_PT
        bottoms = [
            obj.get_bounds()[1]
            for obj in page.get_objects(max_depth=0)
            if obj.get_bounds()[1] > MARGIN_BOTTOM_PT - 3
            and obj.get_bounds()[3] < height - MARGIN_TOP_PT + 3
            and obj.get_bounds()[3] - obj.get_bounds()[1] < 0.9 * block  # not a page background
        ]
        shares.append((min(bottoms, default=height) - MARGIN_BOTTOM_PT) / block)
    return shares


def _last_lines(pdf: Path) -> list[str]:
    """Per page, the lowest line of text inside the text block."""
    lines = []
    for page in pdfium.PdfDocument(pdf):
        width, height = page.get_size()
        text = page.get_textpage()
        rects = [text.get_rect(i) for i in range(text.count_rects())]
        inside = [r for r in rects if r[1] > MARGIN_BOTTOM_PT - 3 and r[3] < height - MARGIN_TOP_PT]
        low = min(inside, key=lambda r: r[1])
        lines.append(text.get_text_bounded(0, low[1] + 0.5, width, low[3] - 0.5).strip())
    return lines


def _font_sizes(pdf: Path) -> dict[float, str]:
    """Every font size used for visible text -> a sample of the text in it."""
    sizes: dict[float, str] = {}
    for page in pdfium.PdfDocument(pdf):
        text = page.get_textpage()
        for index in range(text.count_chars()):
            char = chr(pdfium_c.FPDFText_GetUnicode(text, index))
            if char.strip():
                size = round(pdfium_c.FPDFText_GetFontSize(text, index), 2)
                sizes.setdefault(size, text.get_text_range(max(0, index - 15), 30))
    return sizes


@pytest.fixture(scope="module")
def example_pdf(example_built: ExampleBuild) -> Path:
    assert example_built.result.ok
    return example_built.pdf


def test_example_pages_are_full_and_never_end_on_a_heading(example_pdf: Path) -> None:
    feet = _empty_feet(example_pdf)
    assert all(share <= 0.30 for share in feet[:-1]), [f"{s:.0%}" for s in feet]
    spec = yaml.safe_load((EXAMPLE / "brief.yaml").read_text(encoding="utf-8"))
    captions = [item["title"] for item in spec.get("tables", []) + spec.get("charts", [])]
    titles = [
        t.lower() for t in [*read_back(example_pdf).outline, *captions, "Likelihood × impact"]
    ]
    for number, line in enumerate(_last_lines(example_pdf), start=1):
        assert line.lower() not in titles, f"page {number} ends on the heading {line!r}"


def test_example_typography_reads_back_clean(example_pdf: Path) -> None:
    """Bookmarks with a space after the number, marks tight against their word, one date
    style, table figures as the prose writes them, and no text below 6.5 pt."""
    back = read_back(example_pdf)
    assert (
        back.outline[0] == "1 Investment thesis" and "9 Risks" in back.outline
    )  # sections numbered without a gap
    text = "\n".join(back.pages)
    flat = " ".join(text.split())
    assert re.search(r"beyond that\[\d+\]\.", flat)  # authored as 'beyond that {{ cite }}'
    assert not re.search(r"(\[\d+\])\1", text)  # never the same mark twice in a row
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text)  # dates read "21 November 2026"
    assert "Data as of 21 November 2026" in text
    assert "Alibaba Cloud 36% 2025" in flat  # not "36.0": as the prose says it
    sizes = _font_sizes(example_pdf)
    assert min(sizes) >= MIN_FONT_PT, {s: sizes[s] for s in sorted(sizes)[:3]}


def test_marks_in_a_new_brief_sit_tight_and_merge(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    """'Growth was {{ metric }} {{ cite }}' of the same source shows one mark, tight."""
    target = _build(make_brief, minimal, tmp_path / "out")
    text = " ".join("\n".join(read_back(target / "acme.pdf").pages).split())
    assert "Growth was 34%[2]" in text and "[2][2]" not in text
    prose = text.split("Sources")[0].replace("Source: [", "")
    assert not re.search(r"[\w%)] \[\d+\]", prose)  # no space before a mark


def _pages_for(html: str, count: int, root: Path) -> Any:
    from reportgen.pdf.engine import layout

    return layout(html.replace("<p>FILLER</p>", _filler_html(count)), root)


def _filler_html(count: int) -> str:
    """`count` paragraphs of one line each."""
    return "".join(f"<p>Filler paragraph {i}, one line of a brief.</p>" for i in range(count))


def test_back_matter_is_refitted_rather_than_left_alone(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    """The shortest brief whose Sources spill onto page 2 is laid out again, tighter,
    and fits on one page; a brief with a real second page keeps it."""
    from reportgen.pdf.engine import layout
    from reportgen.pdf.layout import fitted, page_to_save

    minimal["sections"][0].update(body="FILLER", tables=[], charts=[])  # a one-page brief
    folder = make_brief(minimal)
    result = build_brief(folder, tmp_path / "out", pdf=False)
    assert result.ok
    html = result.outputs[0].read_text(encoding="utf-8")
    low, high = 0, 120  # one page with no filler, two with 120 lines: find where it spills
    assert len(_pages_for(html, low, folder).pages) == 1
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (
            (middle, high) if len(_pages_for(html, middle, folder).pages) == 1 else (low, middle)
        )
    spilled = html.replace("<p>FILLER</p>", _filler_html(high))
    assert page_to_save(layout(spilled, folder))
    assert len(fitted(spilled, lambda page: layout(page, folder)).pages) == 1
    longer = html.replace("<p>FILLER</p>", _filler_html(high * 2))
    assert not page_to_save(layout(longer, folder))


def _text(read: Callable[..., int], handle: Any) -> str:
    """A PDFium UTF-16 string getter's value ('' when absent)."""
    size = read(handle, None, 0)
    if size <= 2:
        return ""
    buffer = ctypes.create_string_buffer(size)
    read(handle, ctypes.cast(buffer, read.argtypes[1]), size)
    return buffer.raw[: size - 2].decode("utf-16-le")


def _structure(element: Any) -> Iterator[tuple[str, str, Any]]:
    """Every structure element under `element`: its type, alt text and handle."""
    for index in range(pdfium_c.FPDF_StructElement_CountChildren(element)):
        child = pdfium_c.FPDF_StructElement_GetChildAtIndex(element, index)
        if child:  # marked content is no element
            kind = _text(pdfium_c.FPDF_StructElement_GetType, child)
            yield kind, _text(pdfium_c.FPDF_StructElement_GetAltText, child), child
            yield from _structure(child)


def _tagged(pdf: Path) -> tuple[str, list[tuple[str, str]], list[set[str]]]:
    """The catalog's language, every (type, alt) of the structure tree in page order, and
    the element types under each Table."""
    document = pdfium.PdfDocument(pdf)
    language = _text(pdfium_c.FPDFCatalog_GetLanguage, document.raw)
    elements, tables = [], []
    for page in document:
        tree = pdfium_c.FPDF_StructTree_GetForPage(page.raw)
        for index in range(pdfium_c.FPDF_StructTree_CountChildren(tree)):
            for kind, alt, handle in _structure(
                pdfium_c.FPDF_StructTree_GetChildAtIndex(tree, index)
            ):
                elements.append((kind, alt))
                if kind == "Table":
                    tables.append({k for k, _, _ in _structure(handle)})
        pdfium_c.FPDF_StructTree_Close(tree)
    return language, elements, tables


def test_the_pdf_is_tagged_for_screen_readers(example_pdf: Path) -> None:
    """PDF/UA-1: language, headings, tables with header cells, each chart a Figure whose
    alt text is its title (issue 14)."""
    pdf = example_pdf
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M), info
    language, elements, tables = _tagged(pdf)
    assert language == "en"
    kinds = [kind for kind, _ in elements]
    assert kinds.count("H1") == 1 and kinds.count("H2") >= 4
    assert tables and all({"TH", "TD"} <= inside for inside in tables)
    figures = [alt for kind, alt in elements if kind == "Figure"]
    titles = [
        chart["title"] for chart in yaml.safe_load((EXAMPLE / "brief.yaml").read_text())["charts"]
    ]
    assert set(titles) <= set(figures) and all(figures)  # the market block adds one more


def test_an_image_without_alt_text_or_a_page_without_language_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "dot.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><rect width="9" height="9"/></svg>'
    )
    html = '<html lang="en"><body><h1>T</h1><p><img src="dot.svg">{}</p></body></html>'
    problems = render_pdf(html.format(""), tmp_path, tmp_path / "t.pdf").problems
    assert [(p.key, p.severity) for p in problems] == [("alt-text", "warning")]
    assert "screen reader" in problems[0].message
    described = html.format("").replace("<img", '<img alt="A square"')
    assert render_pdf(described, tmp_path, tmp_path / "t.pdf").problems == []
    no_language = described.replace(' lang="en"', "")
    problems = render_pdf(no_language, tmp_path, tmp_path / "t.pdf").problems
    assert [(p.key, p.severity) for p in problems] == [("lang", "warning")]
