"""Stage 6a: no page wasted at the end of the brief when a small adjustment saves it.

A last page that holds nothing but Sources and the disclaimer (or their last
lines) looks unfinished on paper, and so does a page a third empty before a
section the template starts on a new page (the compliance back matter). When
the first layout ends like that, the page is laid out again with slightly
tighter type (style.css, `html[data-fit]`: leading, paragraph spacing, chart
height), step by step, and the first try with fewer pages is kept. If none
saves a page, the first layout stands: the adjustments stay small, so the brief
never looks squeezed, and a brief that ends well costs one layout as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from reportgen.render.document import PAGE

FIT_STEPS = (1, 2)  # style.css defines html[data-fit="1"] and html[data-fit="2"]
FORCED = ("page", "left", "right", "recto", "verso")  # break-before values that force a page
# A page used less than this may be pulled back onto the one before: the brief's last page
# when it holds a mere tail, a page before a forced break when it is a third empty or more.
SHORT_TAIL, SHORT_BEFORE_BREAK = 0.25, 0.7
_HTML_TAG = re.compile(r"<html\b", re.IGNORECASE)

Blocks = tuple[list[tuple[int, Any]], list[Any]]
"""A page's boxes of <body>'s children with their positions, and those children."""


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
        if not blocks or not _ends_a_flow(pages, number) or _forced_start(pages, number):
            continue
        ids = [element.get("id") for element in elements]
        sources = ids.index(PAGE.sources.anchor) if PAGE.sources.anchor in ids else len(ids)
        short = SHORT_TAIL if number == len(pages) - 1 else SHORT_BEFORE_BREAK
        if blocks[0][0] >= sources or _used(document.pages[number]) < short:
            return True
    return False


def _ends_a_flow(pages: list[Blocks], number: int) -> bool:
    """The last page, or the page before one the template forces."""
    return number == len(pages) - 1 or _forced_start(pages, number + 1)


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
    body = _body_box(page._page_box)
    frame = page._page_box
    if body is None or not body.children:
        return 0.0
    top = frame.content_box_y()
    bottom = max(child.position_y + child.margin_height() for child in body.children)
    return (bottom - top) / frame.height


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
    for child in getattr(box, "children", ()):
        if getattr(child, "element_tag", None) == "body":
            return child
        if getattr(child, "element_tag", None) == "html":
            return _body_box(child)
    return None
