"""WeasyPrint, and the one call that lays a page out, with resources confined to the brief
(the HTML is self-contained: anything but a data: URI or a file in its folder is refused).

Import WeasyPrint through here (`from reportgen.pdf.engine import weasyprint`): cffi tries
other systems' names first ('libgobject-2.0-0', '...dylib'), and on Linux each miss runs
ldconfig and gcc (`ctypes.util.find_library`), 0.2 s of every PDF process. No Linux library
is found by a DLL's name (a number after the last hyphen) or a file name (.so, .dylib, .dll),
so during the import those are "not found" at once; Linux names are looked up as before.
"""

from __future__ import annotations

import atexit
import base64
import ctypes.util
import functools
import logging
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

NOT_A_LINUX_NAME = re.compile(r"-\d+$|\.dylib$|\.dll$|\.so\b")


def _import_weasyprint() -> ModuleType:
    find_library = ctypes.util.find_library

    def without_dll_names(name: str) -> str | None:
        return None if NOT_A_LINUX_NAME.search(name) else find_library(name)

    if sys.platform.startswith("linux"):
        ctypes.util.find_library = without_dll_names
    try:
        import weasyprint
    finally:
        ctypes.util.find_library = find_library
    return weasyprint


weasyprint = _import_weasyprint()


def confined_fetcher(root: Path) -> Any:
    """A WeasyPrint URL fetcher that serves data: URIs and files inside `root`, nothing else."""
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
    return weasyprint.text.fonts.FontConfiguration()


def layout(html: str, root: Path) -> Any:
    """Lay the page out once (a weasyprint Document): its boxes are checked, then written."""
    page, stylesheets = _hoisted_styles(charts_as_images(html))
    document = weasyprint.HTML(
        string=page, base_url=str(root.resolve()) + "/", url_fetcher=confined_fetcher(root)
    )
    return document.render(font_config=_font_configuration(), stylesheets=stylesheets)


CHART_SVG = re.compile(
    r'(<div class="chart-svg">\s*)(<svg\b[^>]*?aria-label="([^"]*)"[^>]*>.*?</svg>)', re.S
)


def charts_as_images(html: str) -> str:
    """Each chart as an <img> of the very same SVG: inline, its every element goes through
    the page's CSS cascade; as a data: image only the SVG renderer sees it. The PDF is
    byte-identical (style.css sizes `.chart-svg img` like the SVG), layout a third faster."""

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
    per process (parsing and compiling its selectors was a fifth of the PDF stage).
    WeasyPrint takes it as a user stylesheet, so only when the house element is the page's
    one source of print CSS does every rule keep its order and specificity (the same PDF):
    any other style element, a <link>, a style attribute or a url()/@import leaves the page."""
    house = _HOUSE_STYLE.search(html)
    others = [tag for tag in _STYLE_TAG.findall(html) if tag != _SCREEN_STYLE]
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
    return weasyprint.CSS(string=css, font_config=_font_configuration(), url_fetcher=_fetch_nothing)


@atexit.register
def _release_fonts() -> None:
    """Free the cached stylesheets and font configuration while WeasyPrint can still clean
    up: left to interpreter shutdown, its FontConfiguration.__del__ prints a TypeError."""
    _stylesheet.cache_clear()
    _font_configuration.cache_clear()


def _fetch_nothing(url: str, *args: Any, **kwargs: Any) -> Any:
    raise ValueError(f"reportgen fetches nothing from the house stylesheet: {url[:200]}")
