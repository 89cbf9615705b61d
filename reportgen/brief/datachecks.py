"""Tables and charts against their CSV files: the file exists inside the brief, the columns
named exist, every row's source is known, chart values are numbers, highlights match a row.
The base of the validator (validate.py), with the problem list every rule adds to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reportgen.brief.data import Frame, number_of, read_csv
from reportgen.brief.estimates import no_column
from reportgen.brief.labels import guessed_legend
from reportgen.brief.models import Chart, Table
from reportgen.brief.spec import Loc, Spec, is_inside
from reportgen.errors import Problem


class DataChecks:
    """The data-file rules, and the problem list and cited sources every rule adds to."""

    def __init__(self, spec: Spec):
        self.spec, self.brief = spec, spec.brief
        self.problems: list[Problem] = []
        self.frames: dict[str, Frame] = {}
        self.cited: set[str] = set()

    def error(self, loc: Loc, message: str) -> None:
        self.problems.append(self.spec.problem(loc, message))

    def warn(self, loc: Loc, message: str, finding: str, values: tuple[str, ...] = ()) -> None:
        self.problems.append(self.spec.finding(loc, message, finding, values))

    def known_source(self, loc: Loc, source: str) -> None:
        self.cited.add(source)
        if source not in self.brief.sources:
            known = ", ".join(self.brief.sources)
            self.error(loc, f"unknown source '{source}' (known: {known})")

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
            result = read_csv(path, self.spec.limits)
            if isinstance(result, Problem):
                if result not in self.problems:  # a table and a chart may share the file
                    self.problems.append(result)
                return None
            self.frames[name] = result
        return self.frames[name]

    def need_columns(self, loc: Loc, frame: Frame, columns: Iterable[str]) -> bool:
        if missing := no_column(frame, columns):
            self.error(loc, missing)
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
                message = f"unknown source '{sid}' (known: {', '.join(self.brief.sources)})"
                self.problems.append(Problem(frame.path, frame.row_line(row), "source", message))

    def data_of(
        self, kind: str, i: int, item: Table | Chart, named: Mapping[str, Iterable[str] | None]
    ) -> Frame | None:
        """The data file of a table or chart, its source checked, with every column `named`
        (by key) in it; None when it cannot be read or lacks one."""
        frame = self.frame((kind, i, "data"), item.data)
        if frame is None:
            return None
        self.check_source_of(kind, i, item, frame)
        for key, columns in named.items():
            if columns and not self.need_columns((kind, i, key), frame, columns):
                return None
        return frame

    def check_table(self, i: int, table: Table) -> None:
        sort = [table.sort.lstrip("-")] if table.sort else None
        named = {"columns": table.columns, "format": table.format, "sort": sort}
        frame = self.data_of("tables", i, table, named)
        if frame is not None and table.highlight is not None:
            first = next(iter(table.columns)) if table.columns else frame.df.columns[0]
            if table.highlight not in map(str, frame.df[first]):
                why, key = f"no row where {first} is '{table.highlight}'", f"highlight:{table.id}"
                self.warn(("tables", i, "highlight"), why, key, (table.highlight,))

    def check_chart(self, i: int, chart: Chart) -> None:
        group = [chart.group] if chart.group else []
        frame = self.data_of(
            "charts", i, chart, {"x": [chart.x], "y": chart.y_columns, "group": group}
        )
        if frame is None:
            return
        for column in chart.y_columns:
            cells = list(frame.df[column])
            row = next((r for r, v in enumerate(cells) if v == v and number_of(v) is None), None)
            if row is not None:  # the one number rule: `0700` is a code, not 700
                message = f"column '{column}' has a value that is not a number: {cells[row]!r}"
                self.problems.append(
                    Problem(frame.path, frame.row_line(row), f"charts[{i}].y", message)
                )
        if chart.highlight is not None and chart.highlight not in map(str, frame.df[chart.x]):
            why, key = f"no '{chart.highlight}' in column {chart.x}", f"highlight:{chart.id}"
            self.warn(("charts", i, "highlight"), why, key, (chart.highlight,))
        if guessed := guessed_legend(chart):  # words a reader sees that the author never wrote
            shown = ", ".join(f"'{label}' for {column}" for column, label in guessed)
            self.warn(
                ("charts", i, "y"),
                f"legend label guessed from the CSV header: {shown}; name it under labels:",
                f"chart-label:{chart.id}",
                tuple(label for _, label in guessed),
            )
