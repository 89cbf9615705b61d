"""Stage 2: cross-references and rules of brief-format v1 -> every problem at once.

Schema errors (types, missing keys) were caught while loading. Here: ids that
must exist, data files that must stay inside the brief, columns that must be in
the CSV, helper calls in Markdown. Unused sources and the figure checks of
brief/integrity/ (hand-typed figures, conflicts, stale data, inconsistencies) are
warnings: the brief still builds and shows them in its appendix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from reportgen.brief.bounds import canonical, line_break, number_problem
from reportgen.brief.consistency_market import check_sellside
from reportgen.brief.data import Frame
from reportgen.brief.datachecks import DataChecks
from reportgen.brief.helpers import HelperCall, scan_helpers
from reportgen.brief.images import image_key, image_name, image_problem, images_in
from reportgen.brief.integrity import Conflict, check_integrity
from reportgen.brief.integrity.provenance import doc_name
from reportgen.brief.mailfields import header_problems
from reportgen.brief.market import Rating
from reportgen.brief.models import Chart, Metric, Table
from reportgen.brief.placeholders import placeholders
from reportgen.brief.review import Gate, apply_review, load_review
from reportgen.brief.samples import samples
from reportgen.brief.spec import Loc, MarkdownDoc, Spec
from reportgen.config import DEFAULT_VERDICT, VerdictConfig
from reportgen.errors import BriefError, HelperSyntaxError, Problem

BRIEF_ID = re.compile(r"^[a-z0-9-]+$")
LEVEL_WORDS = {
    "low": "low",
    "medium": "medium",
    "moderate": "medium",
    "high": "high",
    "very high": "very-high",
}
LEVEL_IN_LABEL = re.compile(
    r"\b(very[\s-]+high|high|medium|moderate|low)[\s-]+(risk|reward)\b", re.IGNORECASE
)
"""'High-Risk', 'very high reward', 'Moderate Risk': a level word joined to risk or reward."""
PATH_LIKE = re.compile(
    r"(?<![\w:/])(?:~|\.{1,2})?/[\w.-]"  # /srv/x, ./x, ~/x
    r"|\b[A-Za-z]:\\"  # C:\\
    r"|\b[\w.-]+/[\w.-]+/[\w.-]"  # shared/seeds/x
    r"|\b[\w-]+\.(?:txt|md|csv|tsv|ya?ml|json|toml|html?|pdf|docx?|xlsx?)\b",  # a file's name
    re.IGNORECASE,
)
"""A file path or file name in reader-facing text (a source's publisher or title)."""


@dataclass
class Checked:
    """A brief that passed every rule: its spec, its data and its warnings."""

    spec: Spec
    frames: dict[str, Frame]
    helpers: dict[str, list[HelperCall]]
    warnings: list[Problem] = field(default_factory=list)  # open: not accepted in review.yaml
    conflicts: list[Conflict] = field(default_factory=list)
    review: Gate = field(default_factory=Gate)
    verdict: VerdictConfig = DEFAULT_VERDICT  # the [verdict] thresholds it was checked by

    @property
    def publishable(self) -> bool:
        """Every finding reviewed and accepted: no DRAFT mark, may be emailed."""
        return self.review.publishable


def validate(
    spec: Spec,
    ratings: Sequence[Rating] | None = None,
    verdict: VerdictConfig = DEFAULT_VERDICT,
) -> Checked:
    """Run every rule; raise BriefError with all errors (and warnings) when any fails.
    Warnings accepted in review.yaml are left out of `warnings` (see review.py).
    `ratings`: the project's [compliance] scale, when it has one; `verdict`: its thresholds."""
    v = _Validator(spec, ratings, verdict)
    v.run()
    entries, review_problems = load_review(spec.root, spec.limits)
    problems = v.problems + review_problems
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise BriefError(problems)
    gate = apply_review([p for p in problems if p.severity == "warning"], entries)
    return Checked(spec, v.frames, v.helpers, gate.open, v.conflicts, gate, verdict)


class _Validator(DataChecks):
    def __init__(
        self,
        spec: Spec,
        ratings: Sequence[Rating] | None = None,
        verdict: VerdictConfig = DEFAULT_VERDICT,
    ):
        self.spec = spec
        self.ratings = ratings
        self.verdict = verdict
        self.brief = spec.brief
        self.problems: list[Problem] = []
        self.frames: dict[str, Frame] = {}
        self.helpers: dict[str, list[HelperCall]] = {}
        self.cited: set[str] = set()
        self.conflicts: list[Conflict] = []

    def error(self, loc: Loc, message: str) -> None:
        self.problems.append(self.spec.problem(loc, message))

    def warn(self, loc: Loc, message: str, finding: str, values: tuple[str, ...] = ()) -> None:
        problem = self.spec.problem(loc, message, "warning")
        self.problems.append(replace(problem, finding=finding, values=values))

    def run(self) -> None:
        self.check_brief_id()
        self.check_verdict_label()
        self.check_authors()
        self.check_unique_ids()
        self.check_metrics()
        for i, table in enumerate(self.brief.tables):
            self.check_table(i, table)
        for i, chart in enumerate(self.brief.charts):
            self.check_chart(i, chart)
        self.check_sections()
        self.check_risks()
        self.check_markdown()
        self.problems += check_sellside(
            self.spec, self.frame, self.known_source, self.ratings, self.verdict
        )
        self.check_unused_sources()
        self.check_source_paths()
        self.check_figures()
        self.problems += placeholders(self.spec, self.frames)
        self.problems += header_problems(self.spec)  # what a mail header would refuse
        self.problems += samples(self.spec, self.frames)

    def check_brief_id(self) -> None:
        if not BRIEF_ID.match(self.spec.brief_id):
            message = f"brief folder name '{self.spec.brief_id}' must use only a-z, 0-9 and '-'"
            self.problems.append(Problem(self.spec.yaml_path, None, "id", message))

    def check_verdict_label(self) -> None:
        """A label that names a risk or reward level must name the levels given (docs/checks.md)."""
        verdict = self.brief.verdict
        for level, what in LEVEL_IN_LABEL.findall(canonical(verdict.label)):
            said = LEVEL_WORDS[re.sub(r"[\s-]+", " ", level.lower())]
            actual = verdict.risk if what.lower() == "risk" else verdict.reward
            if said != actual:
                self.error(
                    ("verdict", "label"),
                    f"'{verdict.label}' says {said} {what.lower()} but verdict.{what.lower()} "
                    f"is {actual}: make the label match, or word it without a level",
                )

    def check_authors(self) -> None:
        """A name or role prints on one line in the header and the certification."""
        for i, author in enumerate(self.brief.authors):
            for key in ("name", "role"):
                why = line_break(
                    (getattr(author, key) or "").strip()
                )  # `name: |` ends in a newline
                if why:
                    self.error(("authors", i, key), why)

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
            for key in ("value", "high"):  # YAML numbers were bounded on loading; CSV ones here
                number = getattr(metric, key)
                refused = None if number is None else number_problem(number, self.spec.limits)
                if refused:
                    self.error(("metrics", i, key), refused)
            if metric.high is not None and metric.high < metric.value:
                self.error(
                    ("metrics", i, "high"),
                    f"range end {metric.high:g} is below value {metric.value:g}",
                )

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
            self.check_images(doc)
            try:
                calls = scan_helpers(doc)
            except HelperSyntaxError as exc:
                self.problems.append(Problem(exc.path, exc.line, key, exc.message))
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

    def check_images(self, doc: MarkdownDoc) -> None:
        """An image the page will not show is a warning at its line, never a silent gap."""
        for src, line in images_in(doc):
            refused = image_problem(self.spec.root, src, self.spec.limits)
            if refused:
                self.problems.append(
                    Problem(
                        doc.place.path,
                        line,
                        doc.key,
                        f"image {image_name(src)} not shown: {refused}",
                        "warning",
                        finding=f"image:{doc_name(doc)}:{image_key(src)}",
                        values=(refused,),
                    )
                )

    def check_unused_sources(self) -> None:
        for sid in self.brief.sources:
            if sid not in self.cited:
                self.warn(("sources", sid), f"source '{sid}' is never cited", f"unused:{sid}")

    def check_source_paths(self) -> None:
        """A publisher or title that reads as a file path is the author's, not the reader's."""
        for sid, source in self.brief.sources.items():
            for key in ("publisher", "title"):
                text = getattr(source, key) or ""
                if "://" not in text and PATH_LIKE.search(text):
                    self.warn(
                        ("sources", sid, key),
                        f"source '{sid}' {key} '{text}' looks like a file path: readers see it "
                        "in Sources; name the publisher or title as a reader would",
                        f"source-path:{sid}:{key}",
                    )

    def check_figures(self) -> None:
        """Provenance, conflicts, freshness and consistency (brief/integrity/); all warnings."""
        result = check_integrity(self.spec, self.frames)
        self.problems += result.problems
        self.conflicts = result.conflicts
