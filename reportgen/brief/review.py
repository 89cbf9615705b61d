"""Review sign-off: review.yaml beside brief.yaml, and what it leaves open.

A warning about a brief's figures (a conflict, a stale figure, a hand-typed
number...) is a *finding* with a stable key (`Problem.finding`) and the values
it is about (`Problem.values`). An analyst who has looked at one accepts it,
with who, when and why, in review.yaml (its own file: the spec stays the
author's, the sign-off shows in a diff):

    - key: conflict:china_share_alibaba
      accepted: {by: A. Analyst, on: 2026-11-21, reason: "Both shown; the brief uses ..."}
      values: [35.8, 36]

An acceptance holds while the finding's values are the ones accepted (in any
order); when a figure behind it changes, it lapses and the finding is open
again. Placeholder text can never be accepted. A brief with an open finding is
a draft: it builds, marked DRAFT, and is never emailed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from reportgen.brief.bounds import canonical
from reportgen.brief.placeholders import is_placeholder
from reportgen.brief.spec import Loc, Spec
from reportgen.errors import Figure, Problem, Value

REVIEW_FILE = "review.yaml"


@dataclass(frozen=True)
class Acceptance:
    """One entry of review.yaml: a finding someone looked at and let stand."""

    key: str
    by: str
    on: date
    reason: str
    values: tuple[Value, ...]
    line: int | None = None
    figures: tuple[Figure, ...] | None = None  # None: written before figures were recorded

    def same_values(self, values: Sequence[Value]) -> bool:
        """The values accepted, in any order (36 is 36.0)."""
        return _canonical(self.values) == _canonical(values)

    def holds_for(self, problem: Problem) -> bool:
        """Still valid: the finding is about exactly the values, and the figures as the
        reader sees them (unit, period, source, every side), that were accepted."""
        if not self.same_values(problem.values):
            return False
        if not problem.figures:
            return True
        return self.figures is not None and _figures(self.figures) == _figures(problem.figures)


@dataclass
class Gate:
    """The brief's warnings with the review applied: what is open, what was signed off."""

    open: list[Problem] = field(default_factory=list)
    accepted: list[tuple[Problem, Acceptance]] = field(default_factory=list)
    lapsed: dict[str, Acceptance] = field(default_factory=dict)  # values changed since
    resolved: list[Acceptance] = field(default_factory=list)  # entries naming no finding now

    @property
    def publishable(self) -> bool:
        return not self.open

    def reason_for(self, finding: str | None) -> str | None:
        """The reviewer's reason for an accepted finding (shown to readers beside it)."""
        return next((a.reason for p, a in self.accepted if p.finding == finding), None)


def finding(
    spec: Spec,
    loc: Loc,
    message: str,
    key: str,
    values: tuple[Value, ...],
    figures: tuple[Figure, ...] = (),
) -> Problem:
    """A warning a reviewer can accept: its finding `key`, and the values and figures an
    acceptance binds to."""
    problem = spec.problem(loc, message, "warning")
    return replace(problem, finding=key, values=values, figures=figures)


def review_path(brief_dir: Path) -> Path:
    return brief_dir / REVIEW_FILE


def _canonical(values: Sequence[Value]) -> list[str]:
    """Values compared as a multiset: 36 == 36.0, order free, text trimmed."""
    return sorted(
        f"t:{v.strip()}" if isinstance(v, str) else f"n:{round(float(v), 9)!r}" for v in values
    )


def _figures(figures: Sequence[Figure]) -> list[tuple[str, ...]]:
    """Figures compared side by side, in any order: each side's value, range end, unit,
    period and source together (two sources swapping values is a change)."""
    return sorted(
        (
            _canonical([f.value])[0],
            "-" if f.high is None else _canonical([f.high])[0],
            _words(f.unit),
            _words(f.period),
            _words(f.source),
        )
        for f in figures
    )


def _words(text: str) -> str:
    """A text as the reader sees it: NFKC, single spaces."""
    return " ".join(canonical(text).split())


def apply_review(warnings: Sequence[Problem], entries: Sequence[Acceptance]) -> Gate:
    """Split warnings into open and accepted; a placeholder or a warning without a
    finding key is always open."""
    by_key = {e.key: e for e in entries}
    gate = Gate()
    for problem in warnings:
        entry = by_key.get(problem.finding or "")
        if entry is None or is_placeholder(problem.finding):
            gate.open.append(problem)
        elif entry.holds_for(problem):
            gate.accepted.append((problem, entry))
        else:
            gate.open.append(problem)
            gate.lapsed[entry.key] = entry
    found = {p.finding for p in warnings}
    gate.resolved = [e for e in entries if e.key not in found]
    return gate
