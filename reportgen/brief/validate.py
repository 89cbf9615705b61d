"""Stage 2: cross-references and rules of brief-format v1 -> every problem at once.

Schema errors (types, missing keys) were caught while loading. Here: ids that
must exist, data files that must stay inside the brief, columns that must be in
the CSV, helper calls in Markdown. Unused sources and the figure checks of
integrity.py (hand-typed figures, conflicts, stale data, inconsistencies) are
warnings: the brief still builds and shows them in its appendix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reportgen.brief.consistency_market import check_sellside
from reportgen.brief.data import Frame, read_csv
from reportgen.brief.integrity import Conflict, check_integrity
from reportgen.brief.market import Rating
from reportgen.brief.models import Chart, Metric, Table
from reportgen.brief.spec import Loc, Spec, is_inside
from reportgen.errors import BriefError, Problem
from reportgen.render.markdown import HelperCall, HelperSyntaxError, scan_helpers

BRIEF_ID = re.compile(r"^[a-z0-9-]+$")


@dataclass
class Checked:
    """A brief that passed every rule: its spec, its data and its warnings."""

    spec: Spec
    frames: dict[str, Frame]
    helpers: dict[str, list[HelperCall]]
    warnings: list[Problem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def validate(spec: Spec, ratings: Sequence[Rating] | None = None) -> Checked:
    """Run every rule; raise BriefError with all errors (and warnings) when any fails.
    `ratings`: the project's [compliance] scale, when it has one."""
    v = _Validator(spec, ratings)
    v.run()
    errors = [p for p in v.problems if p.severity == "error"]
    if errors:
        raise BriefError(v.problems)
    warnings = [p for p in v.problems if p.severity == "warning"]
    return Checked(spec, v.frames, v.helpers, warnings, v.conflicts)


class _Validator:
    def __init__(self, spec: Spec, ratings: Sequence[Rating] | None = None):
        self.spec = spec
        self.ratings = ratings
        self.brief = spec.brief
        self.problems: list[Problem] = []
        self.frames: dict[str, Frame] = {}
        self.helpers: dict[str, list[HelperCall]] = {}
        self.cited: set[str] = set()
        self.conflicts: list[Conflict] = []

    def error(self, loc: Loc, message: str) -> None:
        self.problems.append(self.spec.problem(loc, message))

    def warn(self, loc: Loc, message: str) -> None:
        self.problems.append(self.spec.problem(loc, message, "warning"))

    def run(self) -> None:
        self.check_brief_id()
        self.check_unique_ids()
        self.check_metrics()
        for i, table in enumerate(self.brief.tables):
            self.check_table(i, table)
        for i, chart in enumerate(self.brief.charts):
            self.check_chart(i, chart)
        self.check_sections()
        self.check_risks()
        self.check_markdown()
        self.problems += check_sellside(self.spec, self.frame, self.known_source, self.ratings)
        self.check_unused_sources()
        self.check_figures()

    def check_brief_id(self) -> None:
        if not BRIEF_ID.match(self.spec.brief_id):
            message = f"brief folder name '{self.spec.brief_id}' must use only a-z, 0-9 and '-'"
            self.problems.append(Problem(self.spec.yaml_path, None, "id", message))

    def check_unique_ids(self) -> None:
        groups: list[tuple[str, Sequence[Metric | Table | Chart]]] = [
            ("metrics", self.brief.metrics),
            ("tables", self.brief.tables),
            ("charts", self.brief.charts),
        ]
        for kind, items in groups:
            seen: dict[str, int] = {}
            for i, item in enumerate(items):
                if item.id in seen:
                    first = self.spec.place((kind, seen[item.id])).line
                    self.error((kind, i, "id"), f"duplicate id '{item.id}' (first at line {first})")
                seen.setdefault(item.id, i)

    def known_source(self, loc: Loc, source: str) -> None:
        self.cited.add(source)
        if source not in self.brief.sources:
            known = ", ".join(self.brief.sources)
            self.error(loc, f"unknown source '{source}' (known: {known})")

    def check_metrics(self) -> None:
        for i, metric in enumerate(self.brief.metrics):
            self.known_source(("metrics", i, "source"), metric.source)
            if metric.high is not None and metric.high < metric.value:
                self.error(
                    ("metrics", i, "high"),
                    f"range end {metric.high:g} is below value {metric.value:g}",
                )

    def frame(self, loc: Loc, name: str) -> Frame | None:
        """Read a data file once; an error at `loc` when it is missing or unreadable."""
        path = self.spec.root / name
        if not is_inside(self.spec.root, path):
            self.error(loc, f"'{name}' is outside the brief folder")
            return None
        if not path.is_file():
            self.error(loc, f"data file '{name}' does not exist")
            return None
        if name not in self.frames:
            result = read_csv(path)
            if isinstance(result, Problem):
                if (
                    result not in self.problems
                ):  # a table and a chart may share the file: say it once
                    self.problems.append(result)
                return None
            self.frames[name] = result
        return self.frames[name]

    def need_columns(self, loc: Loc, frame: Frame, columns: Iterable[str]) -> bool:
        missing = [c for c in columns if c not in frame.df.columns]
        if missing:
            have = ", ".join(map(str, frame.df.columns))
            self.error(
                loc, f"no column '{missing[0]}' in {Path(frame.path).name} (columns: {have})"
            )
        return not missing

    def check_source_of(self, kind: str, i: int, item: Table | Chart, frame: Frame) -> None:
        if item.source is not None:
            self.known_source((kind, i, "source"), item.source)
            return
        if "source" not in frame.df.columns:
            self.error((kind, i), f"needs a source (or a 'source' column in {item.data})")
            return
        for row, value in enumerate(frame.df["source"]):
            sid = "" if value != value else str(value).strip()  # NaN != NaN
            self.cited.add(sid)
            if sid not in self.brief.sources:
                known = ", ".join(self.brief.sources)
                self.problems.append(
                    Problem(
                        frame.path,
                        frame.row_line(row),
                        "source",
                        f"unknown source '{sid}' (known: {known})",
                    )
                )

    def check_table(self, i: int, table: Table) -> None:
        frame = self.frame(("tables", i, "data"), table.data)
        if frame is None:
            return
        self.check_source_of("tables", i, table, frame)
        if table.columns is not None and not self.need_columns(
            ("tables", i, "columns"), frame, table.columns
        ):
            return
        if table.sort and not self.need_columns(
            ("tables", i, "sort"), frame, [table.sort.lstrip("-")]
        ):
            return
        if table.highlight is not None:
            first = next(iter(table.columns)) if table.columns else frame.df.columns[0]
            values = {str(v) for v in frame.df[first]}
            if table.highlight not in values:
                self.warn(
                    ("tables", i, "highlight"), f"no row where {first} is '{table.highlight}'"
                )

    def check_chart(self, i: int, chart: Chart) -> None:
        frame = self.frame(("charts", i, "data"), chart.data)
        if frame is None:
            return
        self.check_source_of("charts", i, chart, frame)
        if not self.need_columns(("charts", i, "x"), frame, [chart.x]):
            return
        if not self.need_columns(("charts", i, "y"), frame, chart.y_columns):
            return
        if chart.group and not self.need_columns(("charts", i, "group"), frame, [chart.group]):
            return
        import pandas as pd

        for column in chart.y_columns:
            values = pd.to_numeric(frame.df[column], errors="coerce")
            bad = values.isna() & frame.df[column].notna()
            if bad.any():
                row = int(bad.to_numpy().nonzero()[0][0])
                self.problems.append(
                    Problem(
                        frame.path,
                        frame.row_line(row),
                        f"charts[{i}].y",
                        f"column '{column}' has a value that is not a number: {frame.df[column][row]!r}",
                    )
                )
        if chart.highlight is not None and chart.highlight not in {
            str(v) for v in frame.df[chart.x]
        }:
            self.warn(("charts", i, "highlight"), f"no '{chart.highlight}' in column {chart.x}")

    def check_sections(self) -> None:
        tables = {t.id for t in self.brief.tables}
        charts = {c.id for c in self.brief.charts}
        for i, section in enumerate(self.brief.sections):
            for j, tid in enumerate(section.tables):
                if tid not in tables:
                    self.error(
                        ("sections", i, "tables", j),
                        f"unknown table '{tid}' (known: {', '.join(sorted(tables))})",
                    )
            for j, cid in enumerate(section.charts):
                if cid not in charts:
                    self.error(
                        ("sections", i, "charts", j),
                        f"unknown chart '{cid}' (known: {', '.join(sorted(charts))})",
                    )

    def check_risks(self) -> None:
        for i, risk in enumerate(self.brief.risks):
            for j, source in enumerate(risk.sources):
                self.known_source(("risks", i, "sources", j), source)

    def check_markdown(self) -> None:
        known = {
            "metric": {m.id for m in self.brief.metrics},
            "cite": set(self.brief.sources),
            "table": {t.id for t in self.brief.tables},
            "chart": {c.id for c in self.brief.charts},
        }
        for key, doc in self.spec.docs.items():
            try:
                calls = scan_helpers(doc)
            except HelperSyntaxError as exc:
                self.problems.append(Problem(exc.place.path, exc.place.line, key, exc.message))
                continue
            self.helpers[key] = calls
            for call in calls:
                if call.name == "cite":
                    self.cited.add(call.arg)
                if call.arg not in known[call.name]:
                    listed = ", ".join(sorted(known[call.name])) or "none"
                    self.problems.append(
                        Problem(
                            call.place.path,
                            call.place.line,
                            key,
                            f"{call.name}(\"{call.arg}\"): unknown {call.name} id '{call.arg}' (known: {listed})",
                        )
                    )

    def check_unused_sources(self) -> None:
        for sid in self.brief.sources:
            if sid not in self.cited:
                self.warn(("sources", sid), f"source '{sid}' is never cited")

    def check_figures(self) -> None:
        """Provenance, conflicts, freshness and consistency (integrity.py); all warnings."""
        result = check_integrity(self.spec, self.frames)
        self.problems += result.problems
        self.conflicts = result.conflicts
