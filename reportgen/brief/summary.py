"""What an email says about a brief, taken from the validated brief (never from the PDF or a file).

`summarize(checked)` is pure: the build core calls it once per brief and keeps
the result in `Built.summary`, so delivery never loads brief.yaml again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from reportgen.brief.data import format_with_unit
from reportgen.brief.helpers import plain_text
from reportgen.brief.market import target_text, upside
from reportgen.brief.validate import Checked
from reportgen.brief.valuation import format_premium


@dataclass(frozen=True)
class KeyFigure:
    """One figure of the key-figures box, with the name of the source it comes from."""

    label: str
    value: str  # formatted with its unit, as in the PDF
    period: str | None
    source: str  # the source's short name or title


@dataclass(frozen=True)
class BriefSummary:
    """The facts a message about one brief shows: plain values, picklable."""

    brief_id: str
    title: str
    company: str
    ticker: str | None
    as_of: date
    verdict: str
    risk: str
    reward: str
    summary: str  # Markdown, helpers resolved to plain text
    key_figures: list[KeyFigure]
    recipients: list[str]
    rating: str | None = None  # the call, as page one shows it (v1.2)
    target: str | None = None  # "USD 160.00"
    upside: str | None = None  # "+26.7%"


def summarize(checked: Checked) -> BriefSummary:
    """The email's view of a checked brief."""
    spec = checked.spec
    brief, market = spec.brief, spec.brief.market
    figures = {m.id: format_with_unit(m.value, m.unit, m.high) for m in brief.metrics}
    sources = {sid: s.short or s.title for sid, s in brief.sources.items()}
    key = [
        KeyFigure(m.label, figures[m.id], m.period, sources[m.source])
        for m in brief.metrics
        if m.key
    ]
    doc = spec.docs.get("verdict.summary")
    summary = plain_text(doc, figures) if doc else ""  # each mail template escapes it
    gain = upside(market) if market else None
    return BriefSummary(
        brief_id=spec.brief_id,
        title=brief.title,
        company=brief.subject.name,
        ticker=brief.subject.ticker,
        as_of=brief.as_of,
        verdict=brief.verdict.label,
        risk=brief.verdict.risk,
        reward=brief.verdict.reward,
        summary=_paragraphs(summary),
        key_figures=key,
        recipients=list(brief.recipients),
        rating=market.rating if market else None,
        target=target_text(market) if market and market.target else None,
        upside=format_premium(gain) if gain is not None else None,
    )


def _paragraphs(markdown: str) -> str:
    """Unwrap the lines of each paragraph (YAML folds them where the analyst typed them)."""
    paragraphs = re.split(r"\n\s*\n", markdown.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())
