"""`reportgen review --accept`: acceptances written into review.yaml, its comments kept.

The file written is read back by brief/review.py before it replaces the old one.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TypeVar

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from reportgen.brief.placeholders import is_placeholder, markers
from reportgen.brief.review import Gate, parse_review, review_path, signer_problem
from reportgen.config import DEFAULT_LIMITS, Limits
from reportgen.errors import Figure, Problem, ReviewError, Value
from reportgen.files import write_atomic

T = TypeVar("T", CommentedMap, CommentedSeq)


def accept(
    brief_dir: Path,
    gate: Gate,
    keys: Sequence[str],
    *,
    by: str,
    reason: str,
    on: date,
    limits: Limits = DEFAULT_LIMITS,
) -> list[str]:
    """Write an acceptance for each key (`all`: every open finding that can be accepted)
    into review.yaml, atomically, keeping every other entry; the keys written. `--by` and
    `--reason` are held to review.yaml's own rules first, and the file written is read
    back by its loader before it replaces the old one: a sign-off never breaks the brief."""
    chosen = _chosen(gate, keys)
    for option, text in (("--by", by), ("--reason", reason)):
        if wrong := signer_problem(text, limits):
            raise ReviewError(f"{option}: {wrong}")
    if words := markers(reason):
        raise ReviewError(f"--reason: placeholder text ({', '.join(words)}): write the real reason")
    path = review_path(brief_dir)
    data, header = _existing(path)
    for key, problem in chosen.items():
        entry = _yaml_entry(key, by.strip(), on, reason.strip(), problem)
        at = next((i for i, item in enumerate(data) if item.get("key") == key), None)
        if at is None:
            data.append(entry)
        else:
            data[at] = entry  # in place: the comments around it stay
    text = header + _dump(data)
    if errors := [p for p in parse_review(text, path, limits)[1] if p.severity == "error"]:
        refused = f"{errors[0].key}: {errors[0].message}"
        raise ReviewError(f"review.yaml would not be readable, nothing written: {refused}")
    write_atomic(path, text.encode("utf-8"))
    return list(chosen)


def _chosen(gate: Gate, keys: Sequence[str]) -> dict[str, Problem]:
    """finding key -> its current finding, for the keys asked; ReviewError for a bad one."""
    current = {p.finding: p for p in [*gate.open, *(p for p, _ in gate.accepted)] if p.finding}
    if list(keys) == ["all"]:
        return {p.finding: p for p in gate.open if p.finding and not is_placeholder(p.finding)}
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
        chosen[key] = current[key]
    return chosen


def _existing(path: Path) -> tuple[CommentedSeq, str]:
    """review.yaml as round-trip data (its comments kept), and the text of a file that
    holds only comments so far (ruamel reads that as nothing, so it is kept as is)."""
    if not path.is_file():
        return CommentedSeq(), ""
    text = path.read_text(encoding="utf-8-sig")
    # The build has read it with the hardened loader already; a plain one keeps dates
    # as dates, which the hardened one would leave as text and write back quoted.
    data = YAML(typ="rt").load(text)
    if data is None:
        return CommentedSeq(), text if not text.strip() or text.endswith("\n") else text + "\n"
    if not isinstance(data, CommentedSeq):
        raise ReviewError(f"{path}: must be a list of entries (- key: ...)")
    return data, ""


def _yaml_entry(key: str, by: str, on: date, reason: str, problem: Problem) -> CommentedMap:
    """One entry as the contract shows it: `accepted` and `values` on one line each, and
    one line per figure the finding concerns (what the acceptance binds to)."""
    accepted = _flow(CommentedMap([("by", by), ("on", on), ("reason", reason)]))
    values = _flow(CommentedSeq(map(_yaml_value, problem.values)))
    entry = CommentedMap([("key", key), ("accepted", accepted), ("values", values)])
    if problem.figures:
        entry["figures"] = CommentedSeq(_yaml_figure(f) for f in problem.figures)
    return entry


def _flow(node: T) -> T:
    """A mapping or list written on one line."""
    node.fa.set_flow_style()
    return node


def _yaml_figure(figure: Figure) -> CommentedMap:
    """{value: 12.5, unit: USD bn, period: FY2021, source: alpha} on one line."""
    pairs = [("value", _yaml_value(figure.value))]
    pairs += [(name, getattr(figure, name)) for name in ("unit", "period", "source")]
    if figure.high is not None:
        pairs.append(("high", _yaml_value(figure.high)))
    return _flow(CommentedMap(pairs))


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
