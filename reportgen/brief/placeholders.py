"""Placeholder text left in a brief: findings that no review can accept.

`reportgen new` writes a brief full of PLACEHOLDER values so that it builds at
once; nothing with such text in it may reach a reader. Every YAML value, every
Markdown text, every CSV cell (and header) the brief uses is scanned for:

- PLACEHOLDER, TODO, TBD, XXX, FIXME: in capitals, as whole words (an `s`
  plural too), because that is how authors mark a gap, and because the
  lower-case words are ordinary English ("a placeholder for growth") or part
  of identifiers (`placeholder-report`, `todo_count`);
- lorem ipsum, in any case.

Whole words: "TBDX", "XXXL" and "TODO_LIST" are not flagged (`_` and letters
join a word). Text is read as the reader sees it (NFKC): full-width `ＴＯＤＯ` is TODO. YAML comments are not scanned: the scaffold's comments say what
to replace. Each line is reported once, naming every marker on it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

from reportgen.brief.bounds import canonical
from reportgen.brief.data import Frame
from reportgen.brief.spec import Loc, Place, Spec, format_loc
from reportgen.errors import Problem

MARKERS = re.compile(
    r"(?<!\w)(?:PLACEHOLDER|TODO|TBD|XXX|FIXME)S?(?!\w)|\blorem\s+ipsum\b", re.IGNORECASE
)
KIND = "placeholder"
MARKDOWN_FIELDS = re.compile(r"^(?:verdict\.summary|sections\[\d+\]\.body|risks\[\d+\]\.body)$")


def markers(text: str) -> list[str]:
    """The placeholder markers in a text, each once, in order of appearance."""
    found = [m.group() for m in MARKERS.finditer(canonical(text)) if _counts(m.group())]
    return list(dict.fromkeys(found))


def _counts(word: str) -> bool:
    """Capitals only for the marker words; 'lorem ipsum' in any case."""
    return word.lower().startswith("lorem") or word.removesuffix("s").isupper()


def placeholders(spec: Spec, frames: dict[str, Frame]) -> list[Problem]:
    """Every line of the brief, its Markdown and its CSV data that still holds placeholder text."""
    problems = [_problem(place, key, words) for place, key, words in _yaml_values(spec)]
    for doc in spec.docs.values():
        for offset, line in enumerate(doc.text.splitlines()):
            if words := markers(html.unescape(line)):  # Markdown prints &#84;ODO as TODO
                place = Place(doc.place.path, (doc.place.line or 1) + offset)
                problems.append(_problem(place, doc.key, words))
    for frame in frames.values():
        problems += _csv_cells(frame)
    return sorted(dict.fromkeys(problems), key=lambda p: (str(p.path), p.line or 0))


def _yaml_values(spec: Spec) -> Iterator[tuple[Place, str, list[str]]]:
    """(place, key, markers) of every scalar value in brief.yaml (Markdown fields aside)."""
    raw = spec.brief.model_dump(mode="json", exclude_defaults=True)
    for loc, value in _scalars(raw, ()):
        key = format_loc(loc)
        if MARKDOWN_FIELDS.match(key):
            continue  # scanned line by line as Markdown, wherever its text lives
        if words := markers(value):
            yield (
                spec.place((*loc, "#text")) if isinstance(loc[-1], str) else spec.place(loc),
                key,
                words,
            )


def _scalars(node: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _scalars(value, (*loc, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _scalars(value, (*loc, index))
    elif isinstance(node, str):
        yield loc, node


def _csv_cells(frame: Frame) -> list[Problem]:
    """Header and cells of one data file, a problem per line that holds a marker."""
    df = frame.df
    problems = []
    if words := markers(" ".join(map(str, df.columns))):
        problems.append(_problem(Place(frame.path, 1), "columns", words))
    for row in range(len(df)):
        cells = " | ".join(str(v) for v in df.iloc[row] if v == v)  # NaN != NaN
        if words := markers(cells):
            problems.append(_problem(Place(frame.path, frame.row_line(row)), "row", words))
    return problems


def _problem(place: Place, key: str, words: list[str]) -> Problem:
    shown = ", ".join(words)
    message = f"placeholder text left in the brief ({shown}): replace it with the real content"
    return unacceptable(place, key, KIND, message, tuple(words))


def unacceptable(
    place: Place, key: str, kind: str, message: str, values: tuple[str, ...]
) -> Problem:
    """A finding no review can accept (placeholders, samples), keyed by file and line."""
    finding = f"{kind}:{place.path.name}:{place.line or 0}"
    return Problem(place.path, place.line, key, message, "warning", finding, values)


def is_placeholder(finding: str | None) -> bool:
    """Placeholder text and sample data (brief/samples.py) cannot be accepted by a review."""
    return bool(finding) and str(finding).startswith((f"{KIND}:", "sample:"))
