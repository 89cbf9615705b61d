"""Stage 1: read a brief folder into a typed `Spec`, keeping the line of every key.

brief.yaml is read by yamlfile.py (ruamel's round-trip loader, within the
[limits]) so that a pydantic error at `metrics[2].source` can be reported at the
line the analyst typed it on. Every file is checked against its size limit with
stat before it is read, and never through a link that leaves the brief folder.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reportgen.brief.bounds import bad_character, canonical, size_problem
from reportgen.brief.data import number_of, scan_csv
from reportgen.brief.models import METRIC_CSV_COLUMNS, Brief
from reportgen.brief.yamlfile import Loc, Place, format_loc, read_yaml
from reportgen.config import DEFAULT_LIMITS, Limits
from reportgen.errors import BriefError, Figure, Problem, Severity, Value

BRIEF_FILE = "brief.yaml"
Figures = tuple[Figure, ...]


@dataclass(frozen=True)
class MarkdownDoc:
    """A piece of Markdown and where its first line stands, for helper errors."""

    key: str
    text: str
    place: Place


@dataclass
class Spec:
    """A loaded, schema-valid brief: the model plus where everything came from."""

    brief: Brief
    root: Path
    brief_id: str
    places: dict[Loc, Place]
    docs: dict[str, MarkdownDoc] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)  # what it was loaded under; images use them

    @property
    def yaml_path(self) -> Path:
        return self.root / BRIEF_FILE

    def place(self, loc: Loc) -> Place:
        """The nearest known place for a location: the key itself or its closest parent."""
        return _nearest(self.places, loc, self.yaml_path)

    def problem(self, loc: Loc, message: str, severity: Severity = "error") -> Problem:
        where = self.place(loc)
        return Problem(where.path, where.line, format_loc(loc), message, severity)

    def finding(
        self, loc: Loc, message: str, key: str, values: tuple[Value, ...], figures: Figures = ()
    ) -> Problem:
        """A warning a reviewer can accept: its finding `key`, and the values and figures an
        acceptance binds to."""
        where, name = self.place(loc), format_loc(loc)
        return Problem(where.path, where.line, name, message, "warning", key, values, figures)


def find_briefs(paths: Iterable[Path]) -> list[Path]:
    """Brief folders named directly, or every brief folder inside a named folder."""
    found: list[Path] = []
    for path in paths:
        folder = path.is_dir() and not (path / BRIEF_FILE).is_file()
        inner = sorted(p for p in path.iterdir() if (p / BRIEF_FILE).is_file()) if folder else []
        found += inner or [path]
    return found


def load_spec(root: Path, limits: Limits = DEFAULT_LIMITS) -> Spec:
    """Read and schema-check one brief folder; raise BriefError listing every problem."""
    yaml_path = root / BRIEF_FILE
    if yaml_path.exists() and not is_inside(root, yaml_path):
        raise BriefError([Problem(yaml_path, None, "brief.yaml", "links outside the brief folder")])
    raw, places, problems = read_yaml(yaml_path, limits)
    if isinstance(raw.get("metrics"), str):
        raw["metrics"] = _read_metrics_csv(root, raw["metrics"], places, problems, limits)
    try:
        brief = Brief.model_validate(raw)
    except ValidationError as exc:
        reported = {p.key for p in problems}  # a refused number is not also "not a number"
        for error in exc.errors():
            loc = _data_loc(error["loc"], raw)
            place, key = _nearest(places, loc, yaml_path), format_loc(loc) or "brief.yaml"
            if key not in reported:
                problems.append(Problem(place.path, place.line, key, _friendly(error)))
    if problems:
        raise BriefError(problems)
    spec = Spec(brief=brief, root=root, brief_id=root.resolve().name, places=places, limits=limits)
    spec.docs = _collect_markdown(spec, problems)
    if problems:
        raise BriefError(problems)
    return spec


def _read_metrics_csv(
    root: Path, name: str, places: dict[Loc, Place], problems: list[Problem], limits: Limits
) -> list[dict[str, Any]]:
    """`metrics: metrics.csv` — one metric a row, with the CSV's own line numbers."""
    path = root / name
    yaml_place = places.get(("metrics",), Place(root / BRIEF_FILE, None))
    if not is_inside(root, path) or not path.is_file():
        why = "is outside the brief folder" if not is_inside(root, path) else "does not exist"
        problems.append(Problem(yaml_place.path, yaml_place.line, "metrics", f"'{name}' {why}"))
        return []
    refused = scan_csv(path, limits)
    if refused is not None:
        problems.append(refused)
        return []
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        unknown = sorted(set(reader.fieldnames or []) - set(METRIC_CSV_COLUMNS))
        if unknown:
            problems.append(Problem(path, 1, "metrics", f"unknown columns: {', '.join(unknown)}"))
        for index, row in enumerate(reader):
            places[("metrics", index)] = Place(path, reader.line_num)
            for column in row:
                places[("metrics", index, column)] = Place(path, reader.line_num)
            rows.append(_metric_row(row))
    return rows


def _metric_row(row: dict[str, str]) -> dict[str, Any]:
    """CSV cells are text: turn number and flag columns into the types the model wants."""
    out: dict[str, Any] = {k: v.strip() for k, v in row.items() if k and v and v.strip()}
    for column in ("value", "high"):  # the rule of every CSV cell: `1,234` stays text, refused
        if column in out and (number := number_of(out[column])) is not None:
            out[column] = number
    if "key" in out:  # a typo ('ture') stays text, refused at its cell, never false
        out["key"] = FLAGS.get(canonical(out["key"]).lower(), out["key"])
    return out


FLAGS = dict.fromkeys(("true", "yes", "y", "1"), True)
FLAGS |= dict.fromkeys(("false", "no", "n", "0"), False)


def _data_loc(loc: tuple[Any, ...], raw: Any) -> Loc:
    """Drop pydantic's union tags ('list[str]', 'str') that are not keys of the data."""
    out: list[str | int] = []
    node = raw
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            out.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not _is_type_tag(part):
            out.append(part)  # a missing required key: name it
            break
    return tuple(out)


def _is_type_tag(part: str) -> bool:
    return bool(re.search(r"[\[\]]", part)) or part in ("str", "int", "float", "bool")


def _nearest(places: dict[Loc, Place], loc: Loc, path: Path) -> Place:
    for end in range(len(loc), -1, -1):
        if loc[:end] in places:
            return places[loc[:end]]
    return Place(path, None)


FIXED = {"missing": "required key is missing", "extra_forbidden": "unknown key"}
FIXED["too_short"] = "needs at least one entry"
MUST_BE = dict.fromkeys(("float_type", "float_parsing", "finite_number"), "a number")
MUST_BE |= dict.fromkeys(("int_type", "int_parsing", "int_from_float"), "a whole number")
MUST_BE |= {"string_type": "text", "bool_type": "true or false"}


def _friendly(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind in FIXED:
        return FIXED[kind]
    if kind in MUST_BE:
        return f"must be {MUST_BE[kind]}, not {_as_yaml(error['input'])}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}, not {error['input']!r}"
    if kind == "string_pattern_mismatch":
        return f"{error['input']!r} may only use {ctx['pattern']}"
    if kind.startswith("date_"):
        why = f" ({ctx['error']})" if ctx.get("error") else ""
        return f"must be a real date written YYYY-MM-DD, not {error['input']!r}{why}"
    return str(error["msg"])


def _as_yaml(value: object) -> str:
    """A value as brief.yaml spells it (`true`, not Python's True), short enough for a line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def is_inside(root: Path, path: Path) -> bool:
    """True when `path` (after resolving links and '..') stays inside the brief folder."""
    return path.resolve().is_relative_to(root.resolve())


def _collect_markdown(spec: Spec, problems: list[Problem]) -> dict[str, MarkdownDoc]:
    """Every Markdown field, read from its .md file when it names one."""
    brief = spec.brief
    fields: list[tuple[Loc, str]] = [(("verdict", "summary"), brief.verdict.summary)]
    fields += [(("sections", i, "body"), s.body) for i, s in enumerate(brief.sections)]
    fields += [(("risks", i, "body"), r.body) for i, r in enumerate(brief.risks)]
    if brief.market is not None:  # v1.2: the target's method and the risks to it
        for key in ("method", "target_risks"):
            text = getattr(brief.market, key)
            fields += [(("market", key), text)] if text else []
    docs = [_markdown_doc(spec, loc, value, problems) for loc, value in fields]
    return {doc.key: doc for doc in docs if doc is not None}


def _markdown_doc(spec: Spec, loc: Loc, value: str, problems: list[Problem]) -> MarkdownDoc | None:
    key, name = format_loc(loc), value.strip()
    if "\n" in name or not name.lower().endswith(".md"):
        return _printable(MarkdownDoc(key, value, spec.place((*loc, "#text"))), problems)
    path, why = spec.root / name, None
    if not is_inside(spec.root, path):
        why = f"'{name}' is outside the brief folder"
    elif not path.is_file():
        why = f"Markdown file '{name}' does not exist"
    else:
        why = size_problem(path, spec.limits.markdown_bytes, "markdown_bytes")
    try:
        text = "" if why else path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        why = f"'{name}' is not UTF-8 text"
    except OSError as exc:
        why = f"'{name}' cannot be read ({exc.strerror})"
    if why:
        problems.append(spec.problem(loc, why))
        return None
    return _printable(MarkdownDoc(key, text, Place(path, 1)), problems)


def _printable(doc: MarkdownDoc, problems: list[Problem]) -> MarkdownDoc | None:
    """The doc, or None with a problem at the line of its first invisible character."""
    found = bad_character(doc.text)
    if found is None:
        return doc
    line = (doc.place.line or 1) + doc.text.count("\n", 0, found[0])
    problems.append(Problem(doc.place.path, line, doc.key, found[1]))
    return None
