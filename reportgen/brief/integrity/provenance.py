"""Provenance: numbers typed into Markdown prose that no metric or CSV backs.

A number typed into prose (`$5.6 billion`, `34%`) is a figure with no
traceable source. Years, dates, ordinals, list numbers, footnote-like `[3]`,
identifiers (`Q2`, `5G`, `COVID-19`) and anything inside a helper call are not
figures.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from reportgen.brief.helpers import Prose, split_helpers
from reportgen.brief.integrity.figures import MONTHS
from reportgen.brief.spec import MarkdownDoc
from reportgen.errors import HelperSyntaxError, Problem

_MONTH_WORDS = "|".join(sorted(MONTHS, key=len, reverse=True))
_NOT_PROSE = re.compile(
    r"`[^`\n]*`"  # inline code
    r"|\]\([^)]*\)|<?https?://[^\s)>]+>?"  # link targets and bare URLs
    r"|\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"  # dates
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTH_WORDS})\b"  # 20 November
    rf"|\b(?:{_MONTH_WORDS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?=\s*,?\s*\d{{4}})"  # November 20, 2026
    r"|\[\d+\]"  # footnote-like marks: verification checks those
    r"|^[ \t>]*\d{1,9}[.)](?=\s)"  # ordered-list numbers
    r"|^[ \t]*#{1,6}[ \t]+\d{1,3}(?:\.\d{1,3})*\.?(?=\s)",  # numbered headings: ## 2.1 Outlook
    re.DOTALL | re.IGNORECASE | re.MULTILINE,
)
_NUMBER = re.compile(r"(?<![\w.,'’])\d+(?:[.,]\d+)*")
_UNIT_AFTER = re.compile(
    r"\s?(?:%|per ?cent\b|pp\b|bps?\b|bn\b|billion\b|mn\b|m\b|million\b|tn\b|trillion\b|k\b|x\b|×)",
    re.IGNORECASE,
)
_CURRENCY_BEFORE = re.compile(r"(?:US\$|HK\$|[$€£¥]|\b(?:USD|RMB|CNY|HKD|EUR|GBP|JPY)\s?)[-−]?$")


def provenance(doc: MarkdownDoc) -> list[Problem]:
    """Hand-typed figures in one Markdown text, each with its file and line.
    Helper calls are not prose; text whose helpers do not parse is left to validation's error."""
    try:
        parts = split_helpers(doc)
    except HelperSyntaxError:
        return []
    prose, starts = "", []  # starts: (offset in prose, line) of each prose part
    for part in parts:
        if isinstance(part, Prose):
            starts.append((len(prose), part.line))
            prose += part.text
        else:
            prose += " "
    prose = _NOT_PROSE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), prose)
    problems = []
    for shown, offset in _figures(prose):
        start, line = next((s, n) for s, n in reversed(starts) if s <= offset)
        line += prose.count("\n", start, offset)
        message = f"hand-typed figure '{shown}' is not traced to a source: "
        message += 'make it a metric and write {{ metric("id") }}'
        key = f"hand-typed:{doc_name(doc)}:{shown}"
        problems.append(Problem(doc.place.path, line, doc.key, message, "warning", key, (shown,)))
    return problems


def doc_name(doc: MarkdownDoc) -> str:
    """The .md file a text lives in, or its key when it is inline (verdict.summary)."""
    return doc.place.path.name if doc.place.path.suffix == ".md" else doc.key


def _figures(prose: str) -> Iterator[tuple[str, int]]:
    """(figure as written, offset) for every number in prose that is a figure."""
    for m in _NUMBER.finditer(prose):
        start, end = m.span()
        before, after = prose[:start], prose[end:]
        if re.search(r"[A-Za-z0-9]-$", before):
            continue  # part of an identifier: COVID-19, 2024-25
        unit = _UNIT_AFTER.match(after)
        if not unit and re.match(r"[A-Za-z]", after):
            continue  # ordinal or identifier: 3rd, 5G, 1990s
        digits = m.group()
        if not unit and re.fullmatch(r"(19|20)\d\d", digits):
            continue  # a year
        currency = _CURRENCY_BEFORE.search(before)
        sign = re.search(r"(?<![A-Za-z0-9])[-−+]$", before)
        begin = currency.start() if currency else start - (1 if sign else 0)
        finish = end + (unit.end() if unit else 0)
        yield prose[begin:finish].strip(), begin
