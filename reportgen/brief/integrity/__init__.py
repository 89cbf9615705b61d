"""Stage 2b: can the brief's figures be trusted? Provenance, conflicts, freshness, consistency.

Every finding is a warning naming the file and line to fix (`--strict` makes them
errors); conflicts are also data for the reconciliation appendix. One module per check:
provenance (hand-typed numbers in prose), conflicts (one figure, two values), freshness
(figures and sources too old for `as_of`), consistency (shares over 100%, growth its
levels contradict, implausible percentages).
"""

from __future__ import annotations

from reportgen.brief.data import Frame
from reportgen.brief.integrity.conflicts import Conflict, find_conflicts
from reportgen.brief.integrity.consistency import growth_consistency, percent_ranges, share_sums
from reportgen.brief.integrity.figures import parse_period, same_period
from reportgen.brief.integrity.freshness import freshness
from reportgen.brief.integrity.provenance import provenance
from reportgen.brief.spec import Spec
from reportgen.errors import Problem

__all__ = ["Conflict", "check_integrity", "parse_period", "same_period"]


def check_integrity(spec: Spec, frames: dict[str, Frame]) -> tuple[list[Problem], list[Conflict]]:
    """Every figure check over a brief whose data files were read into `frames`: the
    warnings to print and the conflicts to reconcile."""
    tolerance = spec.brief.checks.tolerance_pct
    problems = [p for doc in spec.docs.values() for p in provenance(doc)]
    conflicts = find_conflicts(spec, frames, tolerance)
    problems += [c.problem() for c in conflicts]
    problems += freshness(spec) + share_sums(spec, frames, tolerance)
    problems += growth_consistency(spec) + percent_ranges(spec)
    return problems, conflicts
