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

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from reportgen.brief.bounds import raise_hint, size_problem, text_problem
from reportgen.brief.placeholders import is_placeholder, markers
from reportgen.brief.yamlfile import hardened
from reportgen.config import DEFAULT_LIMITS, Limits
from reportgen.errors import Problem, ReviewError, Value, one_line
from reportgen.files import write_atomic

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

    def holds_for(self, values: Sequence[Value]) -> bool:
        """Still valid: the finding is about exactly the values that were accepted."""
        return _canonical(self.values) == _canonical(values)


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
        data = hardened(limits).load(path.read_text(encoding="utf-8-sig"))
    except MaxDepthExceededError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        why = f"nested deeper than {limits.depth} levels ({raise_hint('depth')})"
        return [], [Problem(path, line, "review", why)]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        why = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
        return [], [Problem(path, mark.line + 1 if mark else None, "review", one_line(why))]
    except (YAMLError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = " ".join(str(exc).split()) or type(exc).__name__  # a reader error spans lines
        return [], [Problem(path, None, "review", one_line(why))]
    if data is None:
        return [], []
    if not isinstance(data, CommentedSeq):
        return [], [Problem(path, 1, "review", "must be a list of entries (- key: ...)")]
    entries: list[Acceptance] = []
    problems: list[Problem] = []
    for index, item in enumerate(data):
        line = data.lc.item(index)[0] + 1
        entry = _entry(item, path, line, f"[{index}]", problems, limits)
        if entry is not None:
            entries.append(entry)
    return entries, problems


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
        problems.append(
            Problem(
                path,
                line,
                f"{where}.accepted.reason",
                f"placeholder text left in the brief ({', '.join(words)}): write the real reason",
                "warning",
                finding=f"placeholder:{path.name}:{line}",
                values=tuple(words),
            )
        )
    return Acceptance(
        item["key"].strip(),
        accepted["by"].strip(),
        _date(accepted["on"]),
        accepted["reason"].strip(),
        tuple(_plain(v) for v in item.get("values", [])),
        line,
    )


def _malformed(item: Any, limits: Limits) -> tuple[str, str] | None:
    """(key, message) of the first thing wrong with an entry, or None."""
    if not isinstance(item, dict):
        return "", "must be a mapping: key, accepted, values"
    unknown = sorted(set(map(str, item)) - {"key", "accepted", "values"})
    if unknown:
        return f".{unknown[0]}", "unknown key (known: key, accepted, values)"
    if not isinstance(item.get("key"), str) or not item["key"].strip():
        return ".key", "required: the finding's key, as `reportgen review` lists it"
    accepted = item.get("accepted")
    if not isinstance(accepted, dict):
        return ".accepted", "required: {by: NAME, on: YYYY-MM-DD, reason: TEXT}"
    for name in ("by", "reason"):
        if not isinstance(accepted.get(name), str) or not accepted[name].strip():
            return f".accepted.{name}", "required text"
        if wrong := text_problem(accepted[name], limits):  # the reason reaches the page
            return f".accepted.{name}", wrong
    on = accepted.get("on")
    if not isinstance(on, str | date):
        return ".accepted.on", "required: the date of the review, YYYY-MM-DD"
    try:
        _date(on)
    except ValueError as exc:
        return ".accepted.on", f"must be a real date written YYYY-MM-DD, not {on!r} ({exc})"
    values = item.get("values", [])
    if not isinstance(values, list) or not all(_is_value(v) for v in values):
        return ".values", "must be a list of numbers and texts"
    return None


def _date(value: str | date) -> date:
    """`on:` as a date (the hardened loader leaves dates as the text typed)."""
    return value if isinstance(value, date) else date.fromisoformat(value.strip())


def _is_value(value: object) -> bool:
    return isinstance(value, int | float | str) and not isinstance(value, bool)


def _plain(value: Any) -> Value:
    """ruamel's scalar types as plain float or str."""
    return str(value) if isinstance(value, str) else float(value)


def _canonical(values: Sequence[Value]) -> list[str]:
    """Values compared as a multiset: 36 == 36.0, order free, text trimmed."""
    return sorted(
        f"t:{v.strip()}" if isinstance(v, str) else f"n:{round(float(v), 9)!r}" for v in values
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
        elif entry.holds_for(problem.values):
            gate.accepted.append((problem, entry))
        else:
            gate.open.append(problem)
            gate.lapsed[entry.key] = entry
    found = {p.finding for p in warnings}
    gate.resolved = [e for e in entries if e.key not in found]
    return gate


def accept(
    brief_dir: Path,
    gate: Gate,
    keys: Sequence[str],
    *,
    by: str,
    reason: str,
    on: date,
) -> list[str]:
    """Write an acceptance for each key (`all`: every open finding that can be accepted)
    into review.yaml, atomically, keeping every other entry; the keys written."""
    chosen = _chosen(gate, keys)
    if words := markers(reason):
        raise ReviewError(f"--reason: placeholder text ({', '.join(words)}): write the real reason")
    if not by.strip() or not reason.strip():
        raise ReviewError("--by and --reason must not be empty")
    path = review_path(brief_dir)
    data, header = _existing(path)
    for key, values in chosen.items():
        entry = _yaml_entry(key, by.strip(), on, reason.strip(), values)
        at = next((i for i, item in enumerate(data) if item.get("key") == key), None)
        if at is None:
            data.append(entry)
        else:
            data[at] = entry
    write_atomic(path, (header + _dump(data)).encode("utf-8"))
    return list(chosen)


def _chosen(gate: Gate, keys: Sequence[str]) -> dict[str, tuple[Value, ...]]:
    """finding key -> its current values, for the keys asked; ReviewError for a bad one."""
    current = {p.finding: p for p in [*gate.open, *(p for p, _ in gate.accepted)] if p.finding}
    if list(keys) == ["all"]:
        return {
            p.finding: p.values for p in gate.open if p.finding and not is_placeholder(p.finding)
        }
    chosen = {}
    for key in keys:
        if key not in current:
            known = ", ".join(sorted(current)) or "none"
            raise ReviewError(f"unknown finding '{key}' (findings now: {known})")
        if is_placeholder(key):
            raise ReviewError(
                f"{key}: placeholder text cannot be accepted: "
                f"replace it ({current[key].path}:{current[key].line})"
            )
        chosen[key] = current[key].values
    return chosen


def _existing(path: Path) -> tuple[CommentedSeq, str]:
    """review.yaml as round-trip data (its comments kept), and the text of a file that
    holds only comments so far (ruamel reads that as nothing, so it is kept as is)."""
    if not path.is_file():
        return CommentedSeq(), ""
    text = path.read_text(encoding="utf-8-sig")
    data = YAML(typ="rt").load(text)
    if data is None:
        return CommentedSeq(), text if not text.strip() or text.endswith("\n") else text + "\n"
    if not isinstance(data, CommentedSeq):
        raise ReviewError(f"{path}: must be a list of entries (- key: ...)")
    return data, ""


def _yaml_entry(
    key: str, by: str, on: date, reason: str, values: tuple[Value, ...]
) -> CommentedMap:
    """One entry as the contract shows it: `accepted` and `values` on one line each."""
    accepted = CommentedMap([("by", by), ("on", on), ("reason", reason)])
    accepted.fa.set_flow_style()
    listed = CommentedSeq(_yaml_value(v) for v in values)
    listed.fa.set_flow_style()
    return CommentedMap([("key", key), ("accepted", accepted), ("values", listed)])


def _yaml_value(value: Value) -> Value | int:
    """36.0 written as 36, as an analyst would type it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _dump(data: CommentedSeq) -> str:
    yaml = YAML(typ="rt")
    yaml.width = 4096  # one entry's `accepted` stays on one line
    yaml.indent(mapping=2, sequence=2, offset=0)
    yaml.representer.ignore_aliases = lambda _data: True  # one date shared: no &id001 / *id001
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()
