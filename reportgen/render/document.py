"""Stage 3: the render-ready `Document`, the plain values templates read (compose.py makes it).

The page contract, the headed sections every page shows, is defined here once:
the template renders the fixed ones from PAGE, the snapshot lists every heading, and PDF
verification looks for those titles; a template that drops one is an error naming its
block, not a PDF verification failure that does not say why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from markupsafe import Markup

from reportgen.brief.models import Author, Brief, Source
from reportgen.render.backmatter import CallRow
from reportgen.render.changes import Changes, Snapshot
from reportgen.render.sellside import SellSide


@dataclass(frozen=True)
class Part:
    """A headed section of the page (an <h2> it must show): the template block that renders
    it, its title, its id."""

    block: str
    title: str
    anchor: str = ""


@dataclass(frozen=True)
class PageContract:
    """The fixed sections of brief.html.j2, in page order around the brief's own sections."""

    sections_block: str = "sections"  # renders the brief's sections, one <h2> each
    sellside_block: str = "sellside"  # v1.1: valuation and catalysts, after the sections
    risks: Part = Part("risks", "Risks", "risks")
    reconciliation: Part = Part("appendix", "Source reconciliation", "appendix")
    sources: Part = Part("sources", "Sources", "sources")


PAGE = PageContract()


def page_headings(sections: Sequence[str], sellside: Sequence[str], appendix: bool) -> list[Part]:
    """Every <h2> of the page, in order: what the rendered HTML and the PDF must show, from
    the titles of the brief's sections and of the sell-side views."""
    headings = [Part(PAGE.sections_block, title) for title in sections]
    headings += [Part(PAGE.sellside_block, title) for title in sellside]
    return [*headings, PAGE.risks, *([PAGE.reconciliation] if appendix else []), PAGE.sources]


_H2 = re.compile(r"<h2\b[^>]*>(.*?)</h2\s*>", re.DOTALL | re.IGNORECASE)


def missing_headings(html: str, headings: Sequence[Part]) -> list[Part]:
    """The headings no <h2> of the rendered page contains (as PDF verification compares)."""
    shown = [flat(Markup(m.group(1)).striptags()) for m in _H2.finditer(html)]
    return [h for h in headings if not any(flat(h.title) in text for text in shown)]


def flat(text: str) -> str:
    """Whitespace and case as a PDF may show them (wrapped lines, uppercase headings)."""
    return " ".join(text.split()).lower()


LEVELS = ("low", "medium", "high")
RUNNING_WIDTH = 110
NUMBERED_BLOCKS = (PAGE.sections_block, PAGE.sellside_block, PAGE.risks.block)


@dataclass(frozen=True)
class KeyFigureView:
    label: str
    value: str
    period: str | None
    marks: Markup
    as_of: str | None = None  # the period of a stale figure, tagged "as of" for the reader


@dataclass(frozen=True)
class SectionView:
    title: str
    anchor: str
    html: Markup


@dataclass(frozen=True)
class RiskView:
    number: int
    title: str
    likelihood: str
    impact: str
    html: Markup
    marks: Markup


@dataclass(frozen=True)
class Reconciliation:
    label: str
    period: str | None
    values: list[tuple[str, Markup]]  # (formatted value, marks)
    spread: str
    used: Markup  # which value the brief shows where, with footnote marks
    reason: str | None = None  # the reviewer's, from review.yaml, once accepted


@dataclass
class Document:
    brief: Brief
    brief_id: str
    generated: datetime
    verdict_html: Markup
    sections: list[SectionView]
    risks: list[RiskView]
    key_figures: list[KeyFigureView]
    reconciliations: list[Reconciliation]
    sources: list[tuple[int, str, Source]]
    snapshot: Snapshot  # this build, stored for the next one and for verification
    changes: Changes  # vs the previous build's snapshot; the box shows when changes.any
    headings: list[Part]  # every <h2> of the page, in order (the contract)
    draft: bool = False  # an open finding: marked DRAFT on every page, never emailed
    history: list[CallRow] = field(default_factory=list)  # the back matter's rating history
    stale: dict[str, str] = field(default_factory=dict)  # metric id -> period, tagged "as of"
    sellside: SellSide = field(default_factory=SellSide)  # v1.1: market, comps, catalysts

    @property
    def risk_matrix(self) -> list[tuple[str, list[list[RiskView]]]]:
        """Rows by likelihood (high first), columns by impact (low to high)."""
        risks = self.risks
        return [
            (lik, [[r for r in risks if (r.likelihood, r.impact) == (lik, i)] for i in LEVELS])
            for lik in reversed(LEVELS)
        ]

    @property
    def as_of(self) -> date:
        return self.brief.as_of

    @property
    def analysts(self) -> list[Author]:
        return self.brief.authors

    @property
    def running_head(self) -> str:
        """The running header: subject, ticker, title, on one line. Shortened with "…" past
        RUNNING_WIDTH half-width characters (a CJK character counts two), which 7.5 pt type
        fits across the A4 text block."""
        subject = self.brief.subject
        ticker = f"{subject.exchange}: {subject.ticker}" if subject.exchange else subject.ticker
        text = " · ".join(part for part in (subject.name, ticker or "", self.brief.title) if part)
        width = 0
        for i, char in enumerate(text):
            width += 2 if unicodedata.east_asian_width(char) in "WF" else 1
            if width > RUNNING_WIDTH:
                return text[:i].rstrip(" ·") + "…"
        return text

    @property
    def rated(self) -> bool:
        """A rating on the page: the firm's disclosures apply, never a "not a recommendation"."""
        return bool(self.brief.market and self.brief.market.rating)

    @property
    def top_risks(self) -> list[RiskView]:
        """The three risks that score highest on likelihood × impact (ties: the author's order)."""
        score = {level: i + 1 for i, level in enumerate(LEVELS)}
        ranked = sorted(self.risks, key=lambda r: -score[r.likelihood] * score[r.impact])
        return ranked[:3]

    def number(self, title: str) -> int | None:
        """The number of a numbered section (the brief's own, the sell-side ones, Risks):
        consecutive down the page; the appendix, sources and back matter have none."""
        numbered = [h.title for h in self.headings if h.block in NUMBERED_BLOCKS]
        last = max((i for i, t in enumerate(numbered) if t == title), default=None)
        return None if last is None else last + 1

    def shows(self, part: Part) -> bool:
        """Does the page show this fixed section? (the appendix only when it has something)"""
        return part in self.headings

    def source_number(self, source_id: str) -> int | None:
        """A listed source's footnote number (for marks outside the text: the changes box)."""
        return next((n for n, sid, _ in self.sources if sid == source_id), None)
