"""Reporting periods named in free text, and when two texts name the same one.

Shared by the conflict, freshness and consistency checks: a figure's period is
written by hand ('Q2 2026', 'H1 2025', 'FY2025', '2025 (period not stated)').
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from reportgen.brief.bounds import canonical

PeriodKind = Literal["month", "quarter", "half", "year"]


@dataclass(frozen=True)
class Period:
    """A reporting period parsed from free text such as 'Q2 2026', 'H1 2025', 'FY2025'."""

    year: int
    kind: PeriodKind
    index: int = 0  # month 1-12, quarter 1-4, half 1-2; 0 for a year
    unstated: bool = False  # "2025 (period not stated)": somewhere in that year

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.year, self.kind, self.index)

    def end(self) -> date:
        month = {"month": 1, "quarter": 3, "half": 6, "year": 12}[self.kind] * (self.index or 1)
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    def year_before(self) -> Period:
        return Period(self.year - 1, self.kind, self.index)


MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_PERIOD = re.compile(
    r"^(?:(?P<q>Q[1-4])\s*(?:FY|CY)?'?\s*(?P<qy>\d{4})"
    r"|(?P<qy2>\d{4})\s*(?P<q2>Q[1-4])"
    r"|(?P<h>[H][12])\s*(?:FY|CY)?'?\s*(?P<hy>\d{4})"
    r"|(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<my>\d{4})"
    r"|(?:FY|CY)?\s*(?P<y>\d{4}))"
    r"\s*(?P<note>\(.*\))?$",
    re.IGNORECASE,
)
_UNSTATED = re.compile(r"not stated|unstated|unknown|unspecified", re.IGNORECASE)


def parse_period(text: str | None) -> Period | None:
    """The period a text names, or None when it names no single period ('three years')."""
    m = _PERIOD.match(canonical(text or "").strip())
    if not m:
        return None
    unstated = bool(m["note"] and _UNSTATED.search(m["note"]))
    if m["q"] or m["q2"]:
        return Period(int(m["qy"] or m["qy2"]), "quarter", int((m["q"] or m["q2"])[1]), unstated)
    if m["h"]:
        return Period(int(m["hy"]), "half", int(m["h"][1]), unstated)
    if m["mon"]:
        month = MONTHS.get(m["mon"].lower())
        return Period(int(m["my"]), "month", month, unstated) if month else None
    return Period(int(m["y"]), "year", 0, unstated)


def same_period(a: str, b: str) -> bool:
    """Do two period texts name the same period? They do when they parse to one, or when
    one is a whole year not stated ('2025 (period not stated)') and the other is in it."""
    if norm(a) == norm(b):
        return True
    pa, pb = parse_period(a), parse_period(b)
    if pa is None or pb is None:
        return False
    if pa.key == pb.key:
        return True
    vague = [p for p in (pa, pb) if p.unstated and p.kind == "year"]
    return bool(vague) and pa.year == pb.year


def norm(text: str | None) -> str:
    """As read (NFKC), lower case, single spaces: how labels and periods are compared."""
    return " ".join(canonical(text or "").lower().split())
