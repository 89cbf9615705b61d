"""Stage 6b, first half: what the laid-out pages reveal, before any byte is read back.

No table or chart may stick out of the page's text block (read from
WeasyPrint's layout boxes), and whatever WeasyPrint said while laying out
and writing becomes a problem: a missing glyph names the text it is in, a
font that cannot load is an error, anything else a warning.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reportgen.errors import Problem, one_line

PX_TO_MM = 25.4 / 96
SLACK_PX = 0.5  # rounding in layout; anything wider is a real overflow


def layout_problems(document: Any, records: list[logging.LogRecord], where: Path) -> list[Problem]:
    """Every problem a laid-out document shows: overflowing figures, then WeasyPrint's log."""
    return overflow(document, where) + _log_problems(records, document, where)


def overflow(document: Any, where: Path) -> list[Problem]:
    """Tables and charts (replaced boxes: SVG, images) that stick out of the text block."""
    from reportgen.pdf.engine import weasyprint

    boxes = weasyprint.formatting_structure.boxes

    problems = []
    for number, page in enumerate(document.pages, start=1):
        box = page._page_box
        left, top = box.content_box_x(), box.content_box_y()
        right, bottom = left + box.width, top + box.height
        for child, name in _boxes(box, None):
            if not isinstance(child, boxes.TableBox | boxes.ReplacedBox):
                continue
            x, y = child.border_box_x(), child.border_box_y()
            out = max(
                left - x, x + child.border_width() - right, y + child.border_height() - bottom
            )
            if out > SLACK_PX:
                what = name or f"<{getattr(child, 'element_tag', 'element')}>"
                problems.append(
                    Problem(
                        where,
                        None,
                        "layout",
                        f"{what} on page {number} overflows the text block by {out * PX_TO_MM:.1f} mm",
                    )
                )
    return problems


def _boxes(box: Any, name: str | None) -> Iterator[tuple[Any, str | None]]:
    """Every box under `box`, with the table or chart (by element id) it belongs to."""
    for child in getattr(box, "children", ()):
        element = getattr(child, "element", None)
        ident = element.get("id") if element is not None else None
        own = _figure_name(ident) or name
        yield child, own
        yield from _boxes(child, own)


def _figure_name(ident: str | None) -> str | None:
    for prefix in ("table", "chart"):
        if ident and ident.startswith(prefix + "-"):
            return f"{prefix} '{ident[len(prefix) + 1 :]}'"
    return None


_NO_ALT = (
    "an image has no alt text, so a screen reader skips it: describe it, ![what it shows](file)"
)

_NO_LANG = (
    'the page has no language, so a screen reader cannot choose its voice: keep <html lang="en">'
    " in a template override"
)


def _log_problems(records: list[logging.LogRecord], document: Any, where: Path) -> list[Problem]:
    """A missing glyph names the text it is in; font trouble and dangling links are errors;
    anything else WeasyPrint says is a warning. Repeats are reported once."""
    problems: list[Problem] = []
    for record in records:
        message = record.getMessage()
        if message.startswith("No anchor #source-"):
            problems.append(
                Problem(where, None, "footnotes", f"a footnote link points to no source: {message}")
            )
        elif ".notdef glyph" in message and record.args:
            char = str(record.args[0])  # type: ignore[index]
            text, page = _text_with(document, char)
            on_page = f" on page {page}" if page else ""
            problems.append(
                Problem(
                    where,
                    None,
                    "glyphs",
                    (
                        f'no font has a glyph for {char!r} (U+{ord(char[0]):04X}){on_page}, in "{text}"'
                    ),
                )
            )
        elif message.endswith("has no required alt description"):  # pdf/tags.py, tagged PDF
            problems.append(_warning(where, "alt-text", _NO_ALT, "pdf:alt-text"))
        elif message.startswith('Missing required "lang"'):  # pdf/tags.py: a template override
            problems.append(_warning(where, "lang", _NO_LANG, "pdf:lang"))
        elif record.module == "fonts":  # weasyprint/text/fonts.py, weasyprint/pdf/fonts.py
            problems.append(Problem(where, None, "fonts", f"WeasyPrint: {message}"))
        else:
            said = f"WeasyPrint: {message}"
            digest = hashlib.sha256(message.encode("utf-8")).hexdigest()[:8]
            problems.append(_warning(where, "weasyprint", said, f"pdf:weasyprint:{digest}"))
    return list(dict.fromkeys(problems))


def _warning(where: Path, key: str, message: str, finding: str) -> Problem:
    """A warning about the laid-out PDF: a finding like any other (accept it in review.yaml)."""
    return Problem(where, None, key, message, "warning", finding=finding, values=(message,))


def _text_with(document: Any, char: str) -> tuple[str, int | None]:
    """The laid-out text that holds `char` (trimmed around it), and its page."""
    for number, page in enumerate(document.pages, start=1):
        for box, _ in _boxes(page._page_box, None):
            text = getattr(box, "text", None)
            if isinstance(text, str) and char in text:
                at = text.index(char)
                return one_line(text[max(0, at - 30) : at + 30]), number
    return one_line(char), None
