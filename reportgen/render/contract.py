"""The page contract: the headed sections every brief page shows, defined once.

The page template renders the fixed sections from `page` (the Renderer passes
PAGE in), the composer lists every heading in the snapshot, and PDF
verification looks for exactly those titles. A project template that drops
one of them fails the build with an error naming the block that should render
it, rather than failing PDF verification without saying why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup


@dataclass(frozen=True)
class Part:
    """A headed section of the page: the template block that renders it, its title, its id."""

    block: str
    title: str
    anchor: str


@dataclass(frozen=True)
class PageContract:
    """The fixed sections of brief.html.j2, in page order around the brief's own sections."""

    sections_block: str = "sections"  # renders the brief's sections, one <h2> each
    sellside_block: str = "sellside"  # v1.1: valuation and catalysts, after the sections
    risks: Part = Part("risks", "Risks", "risks")
    reconciliation: Part = Part("appendix", "Source reconciliation", "appendix")
    sources: Part = Part("sources", "Sources", "sources")


PAGE = PageContract()


@dataclass(frozen=True)
class Heading:
    """One <h2> the page must show, and the block responsible for it."""

    title: str
    block: str


def page_headings(
    section_titles: Sequence[str], sellside_titles: Sequence[str], appendix: bool
) -> list[Heading]:
    """Every <h2> of the page, in order: what the rendered HTML and the PDF must show."""
    headings = [Heading(title, PAGE.sections_block) for title in section_titles]
    headings += [Heading(title, PAGE.sellside_block) for title in sellside_titles]
    fixed = [PAGE.risks, *([PAGE.reconciliation] if appendix else []), PAGE.sources]
    return headings + [Heading(part.title, part.block) for part in fixed]


_H2 = re.compile(r"<h2\b[^>]*>(.*?)</h2\s*>", re.DOTALL | re.IGNORECASE)


def missing_headings(html: str, headings: Sequence[Heading]) -> list[Heading]:
    """The headings no <h2> of the rendered page contains (as PDF verification compares)."""
    shown = [flat(Markup(m.group(1)).striptags()) for m in _H2.finditer(html)]
    return [h for h in headings if not any(flat(h.title) in text for text in shown)]


def flat(text: str) -> str:
    """Whitespace and case as a PDF may show them (wrapped lines, uppercase headings)."""
    return " ".join(text.split()).lower()
