"""The house font inside the HTML: Inter regular, bold and italic, Latin only, as WOFF2 URIs.

Without it, a brief opened on a machine without Inter looks unlike its PDF. The subset
(Latin, punctuation, figures, arrows, the minus sign; the features the page uses) keeps
three faces within FONT_BUDGET; `unicode-range` leaves other scripts to the system fonts.
Same font file, same bytes. Without Inter installed (fonts-inter) nothing is embedded.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import logging
import os
import shutil
import subprocess
from pathlib import Path

from markupsafe import Markup

from reportgen.files import write_atomic

log = logging.getLogger(__name__)

FAMILY = "Inter"
# (CSS weight, CSS style, fontconfig style): 600 and 800 in the CSS resolve to 700
FACES = ((400, "normal", "Regular"), (700, "normal", "Bold"), (400, "italic", "Italic"))
FONT_BUDGET = 150_000  # bytes of CSS for all faces, base64 included
UNICODE_RANGE = (
    "U+0020-007E, U+00A0-017F, U+0192, U+02C6, U+02DA, U+02DC, U+2010-2027, U+2030, "
    "U+2032-2033, U+2039-203A, U+2044, U+20AC, U+2122, U+2190-2193, U+2212, U+2264-2265"
)
LAYOUT_FEATURES = ["kern", "liga", "calt", "ccmp", "locl", "mark", "mkmk", "tnum", "case"]


def embedded_fonts_css(families: tuple[str, ...] = ()) -> Markup:
    """@font-face rules for Inter when the page's font stack starts with it, else ''."""
    if families and families[0] != FAMILY:
        return Markup()
    return Markup(_inter_css())  # our own font files as data: URIs


@functools.cache
def _inter_css() -> str:
    """Built once per process: subsetting takes a moment, every brief reuses it."""
    rules = []
    for weight, css_style, style in FACES:
        path = font_file(FAMILY, style)
        if path is None:
            log.info("%s %s is not installed: the HTML embeds no font", FAMILY, style)
            return ""
        data = base64.b64encode(_cached_subset(path)).decode("ascii")
        rules.append(
            f'@font-face {{ font-family: "{FAMILY}"; font-style: {css_style}; font-weight: {weight}; '
            f'font-display: swap; src: url(data:font/woff2;base64,{data}) format("woff2"); '
            f"unicode-range: {UNICODE_RANGE}; }}"
        )
    css = "\n".join(rules)
    if len(css) > FONT_BUDGET:  # a bigger Inter release: the page still works, say so
        log.warning("embedded %s is %d bytes, over its %d budget", FAMILY, len(css), FONT_BUDGET)
    return css


def font_file(family: str, style: str) -> Path | None:
    """The installed file of one face, as fontconfig finds it (None when it is absent)."""
    if shutil.which("fc-match") is None:
        return None
    query = ["fc-match", "--format=%{family}\t%{style}\t%{file}", f"{family}:style={style}"]
    found = subprocess.run(query, capture_output=True, text=True, check=False).stdout.split("\t")
    if len(found) != 3 or family not in found[0].split(",") or style not in found[1]:
        return None
    return Path(found[2])


def _cached_subset(path: Path) -> bytes:
    """Subsetting takes about a second a face: keep the result in the user's cache folder,
    keyed by the font's bytes and how it is subset (a failed write only costs time)."""
    from importlib.metadata import version

    how = [hashlib.sha256(path.read_bytes()).hexdigest(), UNICODE_RANGE, *LAYOUT_FEATURES]
    key = hashlib.sha256("\0".join([*how, version("fonttools")]).encode()).hexdigest()[:32]
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    cached = Path(base) / "reportgen" / "fonts" / f"{key}.woff2"
    if cached.is_file():
        return cached.read_bytes()
    data = subset_woff2(path)
    try:
        write_atomic(cached, data)  # parallel builds never read half a font
    except OSError as exc:
        log.info("cannot keep the font subset in %s: %s", cached.parent, exc)
    return data


def subset_woff2(path: Path) -> bytes:
    """The Latin subset of one font file as WOFF2, the same bytes for the same file."""
    from fontTools import subset  # lazy: only the HTML page needs it, once per process
    from fontTools.ttLib import TTFont

    options = subset.Options(
        layout_features=LAYOUT_FEATURES, flavor="woff2", hinting=False, desubroutinize=True
    )
    font = TTFont(path, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=_codepoints())
    subsetter.subset(font)
    font.flavor = "woff2"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _codepoints() -> list[int]:
    """UNICODE_RANGE as code points: the subset holds exactly what the CSS promises."""
    points: list[int] = []
    for part in UNICODE_RANGE.split(","):
        first, _, last = part.strip().removeprefix("U+").partition("-")
        points.extend(range(int(first, 16), int(last or first, 16) + 1))
    return points
