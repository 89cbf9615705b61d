"""Stage 6: the rendered HTML -> A4 PDF bytes, with resources confined to the brief.

The one place a PDF is made (`reportgen build`, `verify` and the preview all
come here): lay out once, check the laid-out boxes and WeasyPrint's log
(boxes.py), write the bytes. The HTML is self-contained (styles and charts
inline), so WeasyPrint should fetch nothing but data: URIs. Anything else is
refused: no network, and no file outside the brief's own folder.

The PDF is tagged, PDF/UA-1 (docs/accessibility.md): a structure tree in
reading order with the document language, headings, tables with their header
cells and each chart as a Figure whose alternate text is its title, so a
screen reader can navigate it. Tagging costs about nothing measurable: -2% to +6%
of a build of the example, noise included (benchmarks/tagging.py).
"""

from __future__ import annotations

import atexit
import functools
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from reportgen.errors import Problem
from reportgen.pdf.boxes import layout_problems
from reportgen.pdf.fit import fitted
from reportgen.render.svg import charts_as_images

log = logging.getLogger(__name__)


def confined_fetcher(root: Path) -> Any:
    """A WeasyPrint URL fetcher that serves data: URIs and files inside `root`, nothing else."""
    from reportgen.pdf.engine import weasyprint

    urls = weasyprint.urls

    base = root.resolve()

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
    """Lay out (again, a little tighter, only when that saves a wasted last page: fit.py),
    check the boxes, write the PDF: WeasyPrint's warnings become problems.
    `tagged=False` (benchmarks only) writes the untagged PDF tagging is measured against."""
    with _weasyprint_log() as records:
        document = fitted(html, lambda page: layout(page, root))
        pdf: bytes = document.write_pdf(pdf_variant=PDF_VARIANT if tagged else None)
    return Rendered(pdf, layout_problems(document, records, where))


def html_to_pdf(html: str, root: Path) -> bytes:
    """The PDF alone, made as `render_pdf` makes it; its layout problems go to the log
    (the preview shows the PDF as it is and the analyst sees why in the terminal)."""
    rendered = render_pdf(html, root, root / "brief.pdf")
    for problem in rendered.problems:
        log.warning("%s", problem)
    return rendered.pdf


def layout(html: str, root: Path) -> Any:
    """Lay the page out once (a weasyprint Document): its boxes are checked, then written."""
    # lazy: WeasyPrint is heavy and HTML-only builds never need it
    from reportgen.pdf.engine import weasyprint

    page, stylesheets = _hoisted_styles(charts_as_images(html))
    document = weasyprint.HTML(
        string=page, base_url=str(root.resolve()) + "/", url_fetcher=confined_fetcher(root)
    )
    return document.render(font_config=_font_configuration(), stylesheets=stylesheets)


# A <style> element without attributes: the house style, sellside and theme CSS, and any a
# project's template adds. (media="screen" ones, the embedded fonts, WeasyPrint skips.)
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def _hoisted_styles(html: str) -> tuple[str, list[Any]]:
    """The page without its style elements, and their CSS as one stylesheet parsed once per
    process. Parsing the CSS and compiling its selectors (cssselect2 compiles each through
    eval) was a fifth of the PDF stage, the same work for every brief of a project. The
    sheet is handed over as a user stylesheet: with every style element moved into it,
    their order and specificities decide as before (inline style attributes still win,
    as they did). CSS that fetches anything (url(), @import) stays where it is."""
    sheets = _STYLE.findall(html)
    if not sheets or any("url(" in css or "@import" in css for css in sheets):
        return html, []
    return _STYLE.sub("", html), [_stylesheet("\n".join(sheets))]


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


class _Collect(logging.Handler):
    """Keeps WeasyPrint's warnings from this thread only (builds may run side by side)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.records.append(record)


@contextmanager
def _weasyprint_log() -> Iterator[list[logging.LogRecord]]:
    logger = logging.getLogger("weasyprint")
    handler = _Collect()
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
