"""Stage 6: the rendered HTML -> A4 PDF bytes: lay out (engine.py), fit, check, write.

The one place a PDF is made (build, verify, the preview). The PDF is tagged, PDF/UA-1
(docs/accessibility.md); tagging costs -2% to +6% of a build (benchmarks/tagging.py).
A last page holding only Sources, or a page a third empty before a forced break (the back
matter), looks unfinished: the page is laid out again with slightly tighter type (style.css,
`html[data-fit]`) and the first try with fewer pages kept, else the first layout stands.
No table or chart may stick out of the text block; what WeasyPrint says becomes a problem.
"""

from __future__ import annotations

import hashlib
import logging
import logging.handlers
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.errors import Problem, one_line
from reportgen.render.document import PAGE

PX_TO_MM = 25.4 / 96
SLACK_PX = 0.5  # rounding in layout; anything wider is a real overflow
FIT_STEPS = (1, 2)  # style.css defines html[data-fit="1"] and html[data-fit="2"]
FORCED = ("page", "left", "right", "recto", "verso")  # break-before values that force a page
# A page used less than this may be pulled back onto the one before: the brief's last page
# when it holds a mere tail, a page before a forced break when it is a third empty or more.
SHORT_TAIL, SHORT_BEFORE_BREAK = 0.25, 0.7
_HTML_TAG = re.compile(r"<html\b", re.IGNORECASE)

# A page's boxes of <body>'s children with their positions, and those children.
Blocks = tuple[list[tuple[int, Any]], list[Any]]


@dataclass(frozen=True)
class Rendered:
    """The PDF bytes and what laying them out revealed."""

    pdf: bytes
    problems: list[Problem]


PDF_VARIANT = "pdf/ua-1"  # tagged: structure tree, /Lang, alt text, PDF/UA identification


def render_pdf(html: str, root: Path, where: Path, *, tagged: bool = True) -> Rendered:
    """Lay out (again, a little tighter, only when that saves a wasted last page: `fitted`),
    check the boxes, write the PDF: WeasyPrint's warnings become problems.
    `tagged=False` (benchmarks only) writes the untagged PDF tagging is measured against."""
    from reportgen.pdf.engine import layout  # lazy: WeasyPrint is heavy, HTML-only builds skip it

    with _weasyprint_log() as records:
        document = fitted(html, lambda page: layout(page, root))
        variant = PDF_VARIANT if tagged else None
        pdf: bytes = document.write_pdf(pdf_variant=variant, finisher=scope_headers)
    return Rendered(pdf, overflow(document, where) + log_problems(records, document, where))


def scope_headers(_document: Any, pdf: Any) -> None:
    """PDF/UA: every table header cell says what it heads. WeasyPrint tags <th> as /TH with
    an /ID "table-row-column" but writes no /Scope: a header in a table's first row heads
    its column, any other (a row's first cell, th scope="row") its row."""
    for item in pdf.objects:
        if isinstance(item, dict) and item.get("S") == "/TH" and isinstance(item.get("A"), dict):
            key = getattr(item.get("ID"), "string", "")
            item["A"]["Scope"] = "/Row" if key.split("-")[1:2] not in ([], ["0"]) else "/Column"


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


def fitted(html: str, lay_out: Callable[[str], Any]) -> Any:
    """The laid-out document; re-laid tighter only when that could save a page."""
    document = lay_out(html)
    if not page_to_save(document):
        return document
    for step in FIT_STEPS:
        candidate = lay_out(_HTML_TAG.sub(f'<html data-fit="{step}"', html, count=1))
        if len(candidate.pages) < len(document.pages):
            return candidate
    return document


def page_to_save(document: Any) -> bool:
    """Does the brief (or a part of it that ends at a page the template forces, such as
    a compliance section) end on a page that is worth saving: one holding only Sources
    and what follows them, or a short tail?"""
    pages = [_blocks(page) for page in document.pages]
    for number in range(1, len(pages)):
        blocks, elements = pages[number]
        last = number == len(pages) - 1
        ends_a_flow = last or _forced_start(pages, number + 1)
        if not blocks or not ends_a_flow or _forced_start(pages, number):
            continue
        ids = [element.get("id") for element in elements]
        sources = ids.index(PAGE.sources.anchor) if PAGE.sources.anchor in ids else len(ids)
        short = SHORT_TAIL if last else SHORT_BEFORE_BREAK
        if blocks[0][0] >= sources or _used(document.pages[number]) < short:
            return True
    return False


def _forced_start(pages: list[Blocks], number: int) -> bool:
    """Does this page start with an element that begins here on a forced page break?"""
    blocks = pages[number][0]
    if not blocks:
        return False
    position, box = blocks[0]
    started_here = position not in {p for p, _ in pages[number - 1][0]}
    return started_here and box.style["break_before"] in FORCED


def _used(page: Any) -> float:
    """The share of the page's text block its content fills, top to lowest box."""
    body, frame = _body_box(page._page_box), page._page_box
    if body is None or not body.children:
        return 0.0
    bottom = max(child.position_y + child.margin_height() for child in body.children)
    return (bottom - frame.content_box_y()) / frame.height


def _blocks(page: Any) -> Blocks:
    """The boxes of <body>'s children on this page, with their position among them, and
    those children: what of the page's document order this page holds."""
    body = _body_box(page._page_box)
    if body is None:
        return [], []
    elements = list(body.element)
    index = {id(element): i for i, element in enumerate(elements)}
    blocks = [
        (index[id(box.element)], box)
        for box in body.children
        if id(getattr(box, "element", None)) in index
    ]
    return blocks, elements


def _body_box(box: Any) -> Any:
    """The <body> box of a page (under the page's <html> box)."""
    html = next((c for c in box.children if getattr(c, "element_tag", None) == "html"), None)
    body = (c for c in getattr(html, "children", ()) if getattr(c, "element_tag", None) == "body")
    return next(body, None)


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
                size = f"{out * PX_TO_MM:.1f} mm"
                message = f"{what} on page {number} overflows the text block by {size}"
                problems.append(Problem(where, None, "layout", message))
    return problems


def _boxes(box: Any, name: str | None) -> Iterator[tuple[Any, str | None]]:
    """Every box under `box`, with the table or chart (by element id) it belongs to."""
    for child in getattr(box, "children", ()):
        element = getattr(child, "element", None)
        ident = (element.get("id") if element is not None else None) or ""
        kind, dash, rest = ident.partition("-")
        own = f"{kind} '{rest}'" if dash and kind in ("table", "chart") else name
        yield child, own
        yield from _boxes(child, own)


_NO_ALT = (
    "an image has no alt text, so a screen reader skips it: describe it, ![what it shows](file)"
)

_NO_LANG = (
    'the page has no language, so a screen reader cannot choose its voice: keep <html lang="en">'
    " in a template override"
)


def log_problems(records: list[logging.LogRecord], document: Any, where: Path) -> list[Problem]:
    """A missing glyph names the text it is in; font trouble and dangling links are errors;
    anything else WeasyPrint says is a warning. Repeats are reported once."""
    problems: list[Problem] = []
    for record in records:
        message = record.getMessage()
        if message.startswith("No anchor #source-"):
            said = f"a footnote link points to no source: {message}"
            problems.append(Problem(where, None, "footnotes", said))
        elif ".notdef glyph" in message and record.args:
            char = str(record.args[0])  # type: ignore[index]
            text, page = _text_with(document, char)
            on_page = f" on page {page}" if page else ""
            said = f'no font has a glyph for {char!r} (U+{ord(char[0]):04X}){on_page}, in "{text}"'
            problems.append(Problem(where, None, "glyphs", said))
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
