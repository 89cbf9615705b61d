"""What a brief may hold: sizes checked before reading, printable text, sane numbers.

Every limit comes from `[limits]` of reportgen.toml (config.Limits), so a hostile
brief cannot raise its own; each message names the limit and how to raise it.
Invisible format characters (bidirectional overrides, zero-width spaces ...)
are refused rather than stripped: they make a title, the PDF's metadata or an
email subject read differently from the source, and the author should see where.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from pathlib import Path

from reportgen.config import Limits

# Controls (but tab and line ends), bidi embeddings/overrides/isolates, zero-width and
# invisible characters, line/paragraph separators, interlinear annotations, tag
# characters, and noncharacters (the renderer's own markers are made of these).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ufdd0-\ufdef\ufffe\uffff"
    "\U000e0000-\U000e007f]"
)


def canonical(text: str) -> str:
    """Text as the reader sees it, for every check that reads words: NFKC (full-width `ＴＯＤＯ`
    is TODO), without the characters a page does not show (a soft hyphen: `TO\u00adDO` prints
    TODO). No NFKC form is an invisible character or a line break: `bad_character` reads
    the text as is."""
    return _IGNORABLE.sub("", unicodedata.normalize("NFKC", text))


# Default-ignorable characters not refused by _INVISIBLE: soft hyphen, grapheme joiner,
# Hangul fillers, Khmer and Mongolian invisibles, variation selectors, musical formatting.
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0"
    "\U0001d173-\U0001d17a\U000e0100-\U000e01ef]"
)


def raise_hint(key: str) -> str:
    """How to raise one limit, for the end of every message about it."""
    return f"raise [limits].{key} in reportgen.toml"


def human_bytes(size: int) -> str:
    """1048576 -> '1 MiB'; sizes in messages read like the docs' defaults."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


def size_problem(path: Path, limit: int, key: str) -> str | None:
    """A file over its size limit, found with stat before a byte of it is read."""
    size = path.stat().st_size
    if size <= limit:
        return None
    return (
        f"'{path.name}' is {human_bytes(size)}, over the limit of {human_bytes(limit)} "
        f"({raise_hint(key)})"
    )


def bad_character(text: str) -> tuple[int, str] | None:
    """(index, message) of the first invisible or control character in `text`, if any,
    written as itself or as a character reference (`&#x202E;`, `&ZeroWidthSpace;`), which
    Markdown turns into the character itself."""
    found = _INVISIBLE.search(text)
    ref = next(
        (m for m in _REFERENCE.finditer(text) if _INVISIBLE.fullmatch(html.unescape(m[0]))), None
    )
    if ref is not None and (found is None or ref.start() < found.start()):
        char = html.unescape(ref[0])
        at, what = ref.start(), f"{ref[0]} (U+{ord(char):04X} {_name(char)})"
    elif found is not None:
        at, what = found.start(), f"U+{ord(found[0]):04X} ({_name(found[0])})"
    else:
        return None
    message = (
        f"contains {what}, an invisible character that can make "
        "the text display differently from what was written: remove it"
    )
    return at, message


def _name(char: str) -> str:
    return unicodedata.name(char, "a control or reserved character")


_REFERENCE = re.compile(r"&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{1,40});")


def text_problem(text: str, limits: Limits) -> str | None:
    """A single text too long to lay out, or holding an invisible character."""
    if len(text) > limits.text_chars:
        return (
            f"text is {len(text):,} characters long, over the limit of "
            f"{limits.text_chars:,} ({raise_hint('text_chars')})"
        )
    return found[1] if (found := bad_character(text)) else None


DECIMAL = re.compile(r"[+-]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""The one way a brief writes a number, in brief.yaml and in a CSV: ASCII digits, an
optional sign, point and exponent. No `_`, no 0x, no other script's digits, and no
leading zero: `0700` (Tencent's ticker) is a code, as written, not 700."""


def read_number(text: str) -> float | None:
    """The number a text holds, or None when it is text (`0700`, `1,234`, `n.a.`);
    ValueError for a number written another way (`١٠٠`, `１００`, `1_000`): Python reads
    those, pandas and YAML do not, so the same cell would be a figure in one place and
    "n.a." in another."""
    text = text.strip()
    if DECIMAL.fullmatch(text):
        return float(text)
    try:
        value = float(text)
    except ValueError:
        return None
    odd = next((c for c in text if not c.isascii() or c == "_"), None)
    if odd is None:  # ASCII: inf and nan (refused by number_problem), or a code like 0700
        return value if not math.isfinite(value) else None
    what = f"'{odd}'" if odd.isascii() else f"U+{ord(odd):04X} ({_name(odd)})"
    raise ValueError(f"write the number with the digits 0-9, as {value:g}, not with {what}")


def line_problem(text: str, limits: Limits) -> str | None:
    """`text_problem` of a text that must stay on one line (a reviewer's name, a finding
    key): a line break would print as a line of its own in `reportgen review`."""
    return line_break(text) or text_problem(text, limits)


def line_break(text: str) -> str | None:
    """Why a one-line text (a name, a key) is not on one line, or None."""
    if found := next((c for c in canonical(text) if c in "\r\n"), None):
        return f"contains a line break (U+{ord(found):04X}): write it on one line"
    return None


def number_problem(value: float, limits: Limits) -> str | None:
    """inf, nan or a figure no page could print (1e308 is 309 digits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, not {value!r}"
    if abs(value) > limits.max_number:
        return (
            f"{_short_number(value)} is larger than {limits.max_number:g} in size "
            f"({raise_hint('max_number')})"
        )
    return None


def _short_number(value: float) -> str:
    """A huge int printed whole would be the very line-wrecker being refused."""
    try:
        return f"{float(value):g}"
    except OverflowError:  # an int beyond any float
        return f"a number of about {int(int(value).bit_length() * math.log10(2))} digits"
