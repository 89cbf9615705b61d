"""Stage 6: the rendered HTML -> A4 PDF bytes, with resources confined to the brief.

The HTML is self-contained (styles and charts inline), so WeasyPrint should
fetch nothing but data: URIs. Anything else is refused: no network, and no file
outside the brief's own folder.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from reportgen.render.svg import charts_as_images

log = logging.getLogger(__name__)


def confined_fetcher(root: Path) -> Any:
    """A WeasyPrint URL fetcher that serves data: URIs and files inside `root`, nothing else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    base = root.resolve()

    class ConfinedFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = Path(unquote(urlsplit(url).path)).resolve()
                if path.is_file() and path.is_relative_to(base):
                    return URLFetcherResponse(url, path.read_bytes())
            log.warning("refused to fetch %s (outside the brief folder or not a file)", url[:200])
            raise ValueError(f"reportgen fetches nothing outside the brief: {url[:200]}")

    return ConfinedFetcher(timeout=1, allowed_protocols=("data", "file"), allow_redirects=False)


@functools.cache
def _font_configuration() -> Any:
    """One WeasyPrint font configuration per process: built once, shared by every brief."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def layout(html: str, root: Path) -> Any:
    """Lay the page out once (a weasyprint Document): verify.py reads its boxes, then writes it."""
    from weasyprint import HTML

    document = HTML(
        string=charts_as_images(html),
        base_url=str(root.resolve()) + "/",
        url_fetcher=confined_fetcher(root),
    )
    return document.render(font_config=_font_configuration())


def html_to_pdf(html: str, root: Path) -> bytes:
    """Lay out and write the PDF."""
    pdf: bytes = layout(html, root).write_pdf()
    return pdf
