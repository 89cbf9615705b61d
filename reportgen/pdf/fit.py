"""Stage 6a: keep the back matter off a page of its own when a small adjustment fits it.

A last page that holds nothing but Sources and the disclaimer (or their last
lines) looks unfinished on paper. When the first layout ends like that, the
page is laid out again with slightly tighter type (style.css, `html[data-fit]`:
leading, paragraph spacing, chart height), step by step, and the first try
that saves the page is kept. If none does, the back matter keeps its own page:
the adjustments stay small, so the brief never looks squeezed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from reportgen.render.contract import PAGE

FIT_STEPS = (1, 2)  # style.css defines html[data-fit="1"] and html[data-fit="2"]
_HTML_TAG = re.compile(r"<html\b", re.IGNORECASE)


def fitted(html: str, lay_out: Callable[[str], Any]) -> Any:
    """The laid-out document; re-laid tighter only when the back matter would stand alone."""
    document = lay_out(html)
    if not back_matter_alone(document):
        return document
    for step in FIT_STEPS:
        candidate = lay_out(_HTML_TAG.sub(f'<html data-fit="{step}"', html, count=1))
        if len(candidate.pages) < len(document.pages):
            return candidate
    return document


def back_matter_alone(document: Any) -> bool:
    """Does the last page start at the Sources heading or after it (nothing of the brief
    proper above them)? A brief of one page never does."""
    if len(document.pages) < 2:
        return False
    blocks = _body_children(document.pages[-1])
    index = {id(element): i for i, element in enumerate(blocks)}
    sources = next((i for i, el in enumerate(blocks) if el.get("id") == PAGE.sources.anchor), None)
    first = _first_block(document.pages[-1], index)
    return sources is not None and first is not None and first >= sources


def _body_children(page: Any) -> list[Any]:
    """The elements directly inside <body>, in document order."""
    root = next((box.element for box in page._page_box.children if box.element is not None), None)
    body = root.find("body") if root is not None else None
    return list(body) if body is not None else []


def _first_block(page: Any, index: dict[int, int]) -> int | None:
    """The position (in <body>) of the first of body's children with a box on this page."""
    stack = list(page._page_box.children)
    while stack:
        box = stack.pop(0)
        position = index.get(id(getattr(box, "element", None)))
        if position is not None:
            return position
        stack[:0] = list(getattr(box, "children", ()))
    return None
