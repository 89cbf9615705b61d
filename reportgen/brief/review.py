"""Review sign-off: review.yaml beside brief.yaml, read and checked, and what it leaves open.

A warning about a brief's figures (a conflict, a stale figure, a hand-typed number...) is
a *finding* with a stable key (`Problem.finding`) and the values it is about. An analyst
who has looked at one accepts it in review.yaml (its own file: the sign-off shows in a
diff), with who, when and why:

    - key: conflict:china_share_alibaba
      accepted: {by: A. Analyst, on: 2026-11-21, reason: "Both shown; the brief uses ..."}
      values: [35.8, 36]

An acceptance lapses when a figure behind it changes; placeholder text is never accepted.
A brief with an open finding is a draft: it builds, marked DRAFT, and is never emailed.
Each entry is checked as brief.yaml is (for the build, and for `--accept` before it writes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedSeq

from reportgen.brief.bounds import canonical, line_problem, size_problem
from reportgen.brief.placeholders import is_placeholder, markers
from reportgen.brief.yamlfile import load_text
from reportgen.config import DEFAULT_LIMITS, Limits
from reportgen.errors import Figure, Problem, Value, one_line

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
            *(" ".join(canonical(text).split()) for text in (f.unit, f.period, f.source)),
        )  # texts as the reader sees them: NFKC, single spaces
        for f in figures
    )


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


def load_review(
    brief_dir: Path, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[Acceptance], list[Problem]]:
    """The entries of review.yaml (none when there is no file) and its problems:
    errors for a malformed entry, a placeholder warning for a reason still to write.
    Read like brief.yaml, within the [limits]: no aliases, tags or deep nesting."""
    path = review_path(brief_dir)
    if not path.is_file():
        return [], []
    if too_big := size_problem(path, limits.brief_bytes, "brief_bytes"):
        return [], [Problem(path, None, "review", too_big)]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as exc:
        return [], [Problem(path, None, "review", one_line(str(exc)))]
    return parse_review(text, path, limits)


def parse_review(
    text: str, path: Path, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[Acceptance], list[Problem]]:
    """review.yaml's entries and problems from its text (see load_review)."""
    data, refused = load_text(text, limits, joined=True)
    if refused is not None:
        return [], [Problem(path, refused[0], "review", one_line(refused[1]))]
    if data is None:
        return [], []
    if not isinstance(data, CommentedSeq):
        return [], [Problem(path, 1, "review", "must be a list of entries (- key: ...)")]
    entries: dict[str, Acceptance] = {}
    problems: list[Problem] = []
    for index, item in enumerate(data):
        line = data.lc.item(index)[0] + 1
        entry = _entry(item, path, line, f"[{index}]", problems, limits)
        if entry is None:
            continue
        if first := entries.get(entry.key):  # which of the two would count? neither, say so
            why = f"'{entry.key}' is accepted twice (first at line {first.line}): keep one entry"
            problems.append(Problem(path, line, f"[{index}].key", why))
            continue
        entries[entry.key] = entry
    return list(entries.values()), problems


def _entry(
    item: Any, path: Path, line: int, where: str, problems: list[Problem], limits: Limits
) -> Acceptance | None:
    """One entry, checked: key, accepted {by, on, reason}, values."""
    wrong = _malformed(item, limits)
    if wrong is not None:
        problems.append(Problem(path, line, f"{where}{wrong[0]}", wrong[1]))
        return None
    accepted = item["accepted"]
    if words := markers(accepted["reason"]):
        why = f"placeholder text left in the brief ({', '.join(words)}): write the real reason"
        key, mark = f"{where}.accepted.reason", f"placeholder:{path.name}:{line}"
        problems.append(Problem(path, line, key, why, "warning", mark, tuple(words)))
    figures = item.get("figures")
    return Acceptance(
        item["key"].strip(),
        accepted["by"].strip(),
        _date(accepted["on"]),
        accepted["reason"].strip(),
        tuple(_plain(v) for v in item.get("values", [])),
        line,
        None if figures is None else tuple(_figure(f) for f in figures),
    )


ENTRY_KEYS = ("key", "accepted", "values", "figures")
FIGURE_KEYS = ("value", "unit", "period", "source", "high")


def _malformed(item: Any, limits: Limits) -> tuple[str, str] | None:
    """(key, message) of the first thing wrong with an entry, or None. Every text is
    held to the brief's rules: `reportgen review` prints them, the reason reaches the page."""
    if not isinstance(item, dict):
        return "", "must be a mapping: key, accepted, values"
    unknown = sorted(set(map(str, item)) - set(ENTRY_KEYS))
    if unknown:
        return f".{unknown[0]}", f"unknown key (known: {', '.join(ENTRY_KEYS)})"
    if not isinstance(item.get("key"), str) or not item["key"].strip():
        return ".key", "required: the finding's key, as `reportgen review` lists it"
    if wrong := line_problem(item["key"], limits):
        return ".key", wrong
    accepted = item.get("accepted")
    if not isinstance(accepted, dict):
        return ".accepted", "required: {by: NAME, on: YYYY-MM-DD, reason: TEXT}"
    for name in ("by", "reason"):
        if wrong := signer_problem(accepted.get(name), limits):
            return f".accepted.{name}", wrong
    if wrong := _on_problem(accepted.get("on")):
        return ".accepted.on", wrong
    values = item.get("values", [])
    texts_and_numbers = (
        line_problem(v, limits) is None if isinstance(v, str) else _is_number(v) for v in values
    )
    if not isinstance(values, list) or not all(texts_and_numbers):
        return ".values", "must be a list of numbers and texts (one line each)"
    return _figures_problem(item.get("figures", []), limits)


def signer_problem(text: object, limits: Limits) -> str | None:
    """What is wrong with a `by` or `reason`, in review.yaml or on the command line."""
    if not isinstance(text, str) or not text.strip():
        return "required text"
    return line_problem(text, limits)


def _on_problem(on: object) -> str | None:
    """`on:` must be a real date, and not one after today: a review not yet done."""
    if not isinstance(on, str | date):
        return "required: the date of the review, YYYY-MM-DD"
    try:
        day = _date(on)
    except ValueError as exc:
        return f"must be a real date written YYYY-MM-DD, not {on!r} ({exc})"
    today = date.today()
    if day > today:
        return f"{day.isoformat()} is after today ({today.isoformat()}): date the review when it is done"
    return None


def _figures_problem(figures: object, limits: Limits) -> tuple[str, str] | None:
    """`figures:` a list of {value, unit, period, source, high} as `--accept` writes it."""
    if not isinstance(figures, list):
        return ".figures", "must be a list of {value: NUMBER, unit: ..., period: ..., source: ...}"
    for index, figure in enumerate(figures):
        where = f".figures[{index}]"
        if not isinstance(figure, dict) or not _is_number(figure.get("value")):
            return where, "must be a mapping with a number `value` (and unit, period, source)"
        unknown = sorted(set(map(str, figure)) - set(FIGURE_KEYS))
        if unknown:
            return f"{where}.{unknown[0]}", f"unknown key (known: {', '.join(FIGURE_KEYS)})"
        for name in ("unit", "period", "source"):
            text = figure.get(name, "")
            if not isinstance(text, str):
                return f"{where}.{name}", f"must be text: quote it, '{text}'"
            if wrong := line_problem(text, limits):
                return f"{where}.{name}", wrong
        if figure.get("high") is not None and not _is_number(figure["high"]):
            return f"{where}.high", "must be a number"
    return None


def _date(value: str | date) -> date:
    """`on:` as a date (the hardened loader leaves dates as the text typed), written as
    brief.yaml writes dates: Python would also read `20261121` and `2026-W47-6`."""
    if isinstance(value, date):
        return value
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        raise ValueError("not YYYY-MM-DD")
    return date.fromisoformat(value.strip())


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _figure(item: dict[str, Any]) -> Figure:
    """One `figures:` entry, as checked by _figures_problem."""
    high = item.get("high")
    unit, period, source = (str(item.get(name, "")) for name in ("unit", "period", "source"))
    return Figure(float(item["value"]), unit, period, source, None if high is None else float(high))


def _plain(value: Any) -> Value:
    """ruamel's scalar types as plain float or str."""
    return str(value) if isinstance(value, str) else float(value)
