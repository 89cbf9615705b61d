"""Catalysts: dated events that could move the thesis, as a short timeline.

Dated to a day (2027-02-15), a month (2027-02) or a quarter (2027-Q1), sorted by the
period's first day. One whose whole period ended before `as_of` has probably happened: a
warning, so that the author removes it or reports what happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from reportgen.brief.integrity.figures import Period
from reportgen.brief.models import Catalyst
from reportgen.brief.spec import Spec
from reportgen.errors import Problem


@dataclass(frozen=True)
class When:
    """A catalyst's date: its first and last day and how a reader sees it."""

    start: date
    end: date
    text: str  # '15 Feb 2027', 'Feb 2027', 'Q1 2027'


def parse_when(text: str) -> When:
    """'2027-02-15' | '2027-02' | '2027-Q1' (the model checked the shape) -> When.
    ValueError for a shape that names no real day (2027-02-30, 2027-13)."""
    year, _, rest = text.partition("-")
    y = int(year)
    if rest.startswith("Q"):
        q = int(rest[1])
        return When(date(y, 3 * q - 2, 1), Period(y, "quarter", q).end(), f"Q{q} {y}")
    if len(rest) == 2:
        start = date(y, int(rest), 1)
        return When(start, Period(y, "month", start.month).end(), start.strftime("%b %Y"))
    day = date.fromisoformat(text)
    return When(day, day, f"{day.day} {day.strftime('%b %Y')}")


@dataclass(frozen=True)
class Dated:
    index: int  # position in brief.yaml, for messages
    when: When
    catalyst: Catalyst


def timeline(catalysts: list[Catalyst]) -> list[Dated]:
    """The catalysts whose dates parse, earliest first (ties keep the author's order)."""
    dated = []
    for i, catalyst in enumerate(catalysts):
        try:
            dated.append(Dated(i, parse_when(catalyst.when), catalyst))
        except ValueError:
            continue  # reported by check_catalysts
    return sorted(dated, key=lambda d: (d.when.start, d.index))


def check_catalysts(spec: Spec) -> list[Problem]:
    """Impossible dates are errors; a catalyst wholly before `as_of` is a warning."""
    problems = []
    as_of = spec.brief.as_of
    for i, catalyst in enumerate(spec.brief.catalysts):
        loc = ("catalysts", i, "when")
        try:
            when = parse_when(catalyst.when)
        except ValueError:
            problems.append(spec.problem(loc, f"'{catalyst.when}' is not a real date"))
            continue
        if when.end < as_of:
            message = (
                f"catalyst '{catalyst.event}' is dated {when.text}, before as_of "
                f"{as_of.isoformat()}: already happened?"
            )
            key = f"past-catalyst:{catalyst.when}:{_slug(catalyst.event)}"
            problems.append(spec.finding(loc, message, key, (catalyst.when,)))
    return problems


def _slug(text: str) -> str:
    """An event as part of its finding key: 'Q3 FY2027 results' -> 'q3-fy2027-results'."""
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:40]
