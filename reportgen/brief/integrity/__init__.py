"""Stage 2b: can the brief's figures be trusted? Provenance, conflicts, freshness, consistency.

Runs inside validation over the loaded spec and its CSV frames. Every finding
is a warning naming the file and line to fix (`--strict` makes them errors);
conflicts are also returned as data for the brief's reconciliation appendix.
One module per check:

- provenance: numbers typed into Markdown prose with no traceable source;
- conflicts: the same figure reported differently by two sources (metrics,
  and CSV rows of one entity and period). Two period texts are the same
  period when they parse to the same period, or when one is a whole year
  marked as not stated ("2025 (period not stated)") and the other falls in
  that year (periods.py);
- freshness: figures and sources older than a limit before `as_of`;
- consistency: share sums over 100%, growth rates their levels contradict,
  percentages outside a plausible range.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reportgen.brief.data import Frame
from reportgen.brief.integrity.conflicts import Conflict, Reported, find_conflicts
from reportgen.brief.integrity.consistency import growth_consistency, percent_ranges, share_sums
from reportgen.brief.integrity.freshness import freshness
from reportgen.brief.integrity.periods import Period, parse_period, same_period
from reportgen.brief.integrity.provenance import provenance
from reportgen.brief.spec import Spec
from reportgen.errors import Problem

__all__ = [
    "Conflict",
    "Integrity",
    "Period",
    "Reported",
    "check_integrity",
    "parse_period",
    "same_period",
]


@dataclass
class Integrity:
    """What the figure checks found: warnings to print and conflicts to reconcile."""

    problems: list[Problem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def check_integrity(spec: Spec, frames: dict[str, Frame]) -> Integrity:
    """Every figure check over a brief whose data files were read into `frames`."""
    brief = spec.brief
    tolerance = brief.checks.tolerance_pct
    problems: list[Problem] = []
    for doc in spec.docs.values():
        problems += provenance(doc)
    conflicts = find_conflicts(spec, frames, tolerance)
    problems += [c.problem() for c in conflicts]
    problems += freshness(spec)
    problems += share_sums(spec, frames, tolerance)
    problems += growth_consistency(spec)
    problems += percent_ranges(spec)
    return Integrity(problems, conflicts)
