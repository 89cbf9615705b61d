"""Stage 6: the rendered HTML -> A4 PDF bytes, with resources confined to the brief.

The one place a PDF is made (build, verify, the preview): lay out, check the boxes and
WeasyPrint's log (boxes.py), write the bytes. The HTML is self-contained, so anything but
a data: URI or a file inside the brief's folder is refused. The PDF is tagged, PDF/UA-1
(docs/accessibility.md), so a screen reader can navigate it; tagging costs -2% to +6% of
a build of the example, noise included (benchmarks/tagging.py).
"""

from __future__ import annotations

import atexit
import base64
import functools
import logging
import logging.handlers
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from reportgen.errors import Problem
from reportgen.pdf.boxes import fitted, layout_problems

log = logging.getLogger(__name__)


def confined_fetcher(root: Path) -> Any:
    """A WeasyPrint URL fetcher that serves data: URIs and files inside `root`, nothing else."""
    from reportgen.pdf.engine import weasyprint

    urls, base = weasyprint.urls, root.resolve()

    class ConfinedFetcher(urls.URLFetcher):  # type: ignore[name-defined]
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = Path(unquote(urlsplit(url).path)).resolve()
                if path.is_file() and path.is_relative_to(base):
                    return urls.URLFetcherResponse(url, path.read_bytes())
            log.warning("refused to fetch %s (outside the brief folder or not a file)", url[:200])
            raise ValueError(f"reportgen fetches nothing outside the brief: {url[:200]}")

    return ConfinedFetcher(timeout=1, allowed_protocols=("data", "file"), allow_redirects=False)


@functools.cache
def _font_configuration() -> Any:
    """One WeasyPrint font configuration per process: built once, shared by every brief."""
    from reportgen.pdf.engine import weasyprint

    return weasyprint.text.fonts.FontConfiguration()


@dataclass(frozen=True)
class Rendered:
    """The PDF bytes and what laying them out revealed."""

    pdf: bytes
    problems: list[Problem]


PDF_VARIANT = "pdf/ua-1"  # tagged: structure tree, /Lang, alt text, PDF/UA identification


def render_pdf(html: str, root: Path, where: Path, *, tagged: bool = True) -> Rendered:
    """Lay out (again, a little tighter, only when that saves a wasted last page: boxes.py),
    check the boxes, write the PDF: WeasyPrint's warnings become problems.
    `tagged=False` (benchmarks only) writes the untagged PDF tagging is measured against."""
    with _weasyprint_log() as records:
        document = fitted(html, lambda page: layout(page, root))
        variant = PDF_VARIANT if tagged else None
        pdf: bytes = document.write_pdf(pdf_variant=variant, finisher=scope_headers)
    return Rendered(pdf, layout_problems(document, records, where))


def scope_headers(_document: Any, pdf: Any) -> None:
    """PDF/UA: every table header cell says what it heads. WeasyPrint tags <th> as /TH with
    an /ID "table-row-column" but writes no /Scope: a header in a table's first row heads
    its column, any other (a row's first cell, th scope="row") its row."""
    for item in pdf.objects:
        if isinstance(item, dict) and item.get("S") == "/TH" and isinstance(item.get("A"), dict):
            key = getattr(item.get("ID"), "string", "")
            item["A"]["Scope"] = "/Row" if key.split("-")[1:2] not in ([], ["0"]) else "/Column"


def layout(html: str, root: Path) -> Any:
    """Lay the page out once (a weasyprint Document): its boxes are checked, then written."""
    # lazy: WeasyPrint is heavy and HTML-only builds never need it
    from reportgen.pdf.engine import weasyprint

    page, stylesheets = _hoisted_styles(charts_as_images(html))
    document = weasyprint.HTML(
        string=page, base_url=str(root.resolve()) + "/", url_fetcher=confined_fetcher(root)
    )
    return document.render(font_config=_font_configuration(), stylesheets=stylesheets)


CHART_SVG = re.compile(
    r'(<div class="chart-svg">\s*)(<svg\b[^>]*?aria-label="([^"]*)"[^>]*>.*?</svg>)', re.S
)


def charts_as_images(html: str) -> str:
    """Hand each chart to WeasyPrint as an <img> of the very same SVG.

    Inline, every element of a chart's SVG goes through the page's CSS cascade
    and HTML parser; as a data: image only WeasyPrint's SVG renderer sees it.
    The PDF is byte-identical (style.css sizes `.chart-svg img` like the SVG)
    and layout takes about a third less time. The HTML file keeps inline SVG.
    """

    def image(match: re.Match[str]) -> str:
        data = base64.b64encode(match.group(2).encode("utf-8")).decode("ascii")
        return (
            f'{match.group(1)}<img alt="{match.group(3)}" src="data:image/svg+xml;base64,{data}">'
        )

    return CHART_SVG.sub(image, html)


# The house <style> element (style.css, sellside.css and the theme: brief.html.j2), the
# embedded fonts' screen-only one (WeasyPrint skips it), and any other style there may be.
_HOUSE_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_STYLE_TAG = re.compile(r"<style\b[^>]*>", re.IGNORECASE)
_SCREEN_STYLE = '<style media="screen">'
_OTHER_CSS = re.compile(r"<link\b|\sstyle\s*=|url\(|@import", re.IGNORECASE)


def _hoisted_styles(html: str) -> tuple[str, list[Any]]:
    """The page without its house style element, and that CSS as a stylesheet parsed once
    per process. Parsing it and compiling its selectors (cssselect2 compiles each through
    eval) was a fifth of the PDF stage, the same work for every brief of a project.

    WeasyPrint takes such a sheet as a user stylesheet, so this is done only when the house
    element is the page's one source of print CSS: then every rule keeps its order and
    specificity against the others, and the PDF is byte for byte the same. Any other
    style element (a project's, one inside an inline SVG, one in a comment), a <link>, a
    style attribute or CSS that fetches (url(), @import) leaves the page as it is."""
    house = _HOUSE_STYLE.search(html)
    tags = _STYLE_TAG.findall(html)
    others = [tag for tag in tags if tag != _SCREEN_STYLE]
    if house is None or others != ["<style>"]:
        return html, []
    rest = html[: house.start()] + html[house.end() :]
    # the screen-only style elements' url()s are data: fonts
    unscreened = re.sub(r'<style media="screen">.*?</style>', "", rest, flags=re.S)
    if _OTHER_CSS.search(house.group(1)) or _OTHER_CSS.search(unscreened):
        return html, []
    return rest, [_stylesheet(house.group(1))]


@functools.lru_cache(maxsize=8)
def _stylesheet(css: str) -> Any:
    """One parsed stylesheet per CSS text (a project's theme makes its own)."""
    from reportgen.pdf.engine import weasyprint

    return weasyprint.CSS(string=css, font_config=_font_configuration(), url_fetcher=_fetch_nothing)


@atexit.register
def _release_fonts() -> None:
    """Free the cached stylesheets and font configuration while WeasyPrint can still clean
    up: left to interpreter shutdown, its FontConfiguration.__del__ prints a TypeError."""
    _stylesheet.cache_clear()
    _font_configuration.cache_clear()


def _fetch_nothing(url: str, *args: Any, **kwargs: Any) -> Any:
    raise ValueError(f"reportgen fetches nothing from the house stylesheet: {url[:200]}")


@contextmanager
def _weasyprint_log() -> Iterator[list[logging.LogRecord]]:
    """WeasyPrint's warnings, from this thread only (builds may run side by side)."""
    handler = logging.handlers.BufferingHandler(sys.maxsize)  # keeps every record
    handler.setLevel(logging.WARNING)
    thread = threading.get_ident()
    handler.addFilter(lambda record: record.thread == thread)
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield handler.buffer
    finally:
        logger.removeHandler(handler)
