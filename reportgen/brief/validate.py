"""Stage 2: cross-references and rules of brief-format v1 -> every problem at once.

Schema errors (types, missing keys) were caught while loading. Here: ids that
must exist, data files that must stay inside the brief, columns that must be in
the CSV, helper calls in Markdown. Unused sources and the figure checks of
brief/integrity/ (hand-typed figures, conflicts, stale data, inconsistencies) are
warnings: the brief still builds and shows them in its appendix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from reportgen.brief.bounds import canonical, line_break, number_problem
from reportgen.brief.consistency_market import check_sellside
from reportgen.brief.data import Frame
from reportgen.brief.datachecks import DataChecks
from reportgen.brief.helpers import HelperCall, image_problems, scan_helpers
from reportgen.brief.integrity import Conflict, check_integrity
from reportgen.brief.integrity.provenance import doc_name
from reportgen.brief.market import Rating
from reportgen.brief.placeholders import placeholders, samples
from reportgen.brief.review import Acceptance, Gate, apply_review, load_review
from reportgen.brief.spec import Spec
from reportgen.config import DEFAULT_VERDICT, VerdictConfig
from reportgen.errors import BriefError, HelperSyntaxError, Problem
from reportgen.mailtext import header_problem, parse_mailbox

BRIEF_ID = re.compile(r"^[a-z0-9-]+$")
LEVEL_WORDS = {"moderate": "medium", "very high": "very-high"}  # other words are the level
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
    entries: list[Acceptance] = field(default_factory=list)  # review.yaml, read once

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
    if any(p.severity == "error" for p in problems):
        raise BriefError(problems)
    gate = apply_review([p for p in problems if p.severity == "warning"], entries)
    return Checked(spec, v.frames, v.helpers, gate.open, v.conflicts, gate, verdict, entries)


class _Validator(DataChecks):
    def __init__(self, spec: Spec, ratings: Sequence[Rating] | None, verdict: VerdictConfig):
        super().__init__(spec)
        self.ratings, self.verdict = ratings, verdict
        self.helpers: dict[str, list[HelperCall]] = {}
        self.conflicts: list[Conflict] = []

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
        self.check_mail_headers()
        self.problems += samples(self.spec, self.frames)

    def check_brief_id(self) -> None:
        if not BRIEF_ID.match(self.spec.brief_id):
            message = f"brief folder name '{self.spec.brief_id}' must use only a-z, 0-9 and '-'"
            self.problems.append(Problem(self.spec.yaml_path, None, "id", message))

    def check_verdict_label(self) -> None:
        """A label that names a risk or reward level must name the levels given (docs/checks.md)."""
        verdict = self.brief.verdict
        for level, what in LEVEL_IN_LABEL.findall(canonical(verdict.label)):
            said, kind = re.sub(r"[\s-]+", " ", level.lower()), what.lower()
            said = LEVEL_WORDS.get(said, said)
            actual = verdict.risk if kind == "risk" else verdict.reward
            if said != actual:
                why = f"'{verdict.label}' says {said} {kind} but verdict.{kind} is {actual}: "
                why += "make the label match, or word it without a level"
                self.error(("verdict", "label"), why)

    def check_authors(self) -> None:
        """A name or role prints on one line in the header and the certification."""
        for i, author in enumerate(self.brief.authors):
            for key in ("name", "role"):
                if why := line_break((getattr(author, key) or "").strip()):  # `name: |` ends in \n
                    self.error(("authors", i, key), why)

    def check_unique_ids(self) -> None:
        for kind in ("metrics", "tables", "charts"):
            seen: dict[str, int] = {}
            for i, item in enumerate(getattr(self.brief, kind)):
                if item.id in seen:
                    first = self.spec.place((kind, seen[item.id])).line
                    self.error((kind, i, "id"), f"duplicate id '{item.id}' (first at line {first})")
                seen.setdefault(item.id, i)

    def check_metrics(self) -> None:
        for i, metric in enumerate(self.brief.metrics):
            self.known_source(("metrics", i, "source"), metric.source)
            for key in ("value", "high"):  # YAML numbers were bounded on loading; CSV ones here
                number = getattr(metric, key)
                if number is not None and (refused := number_problem(number, self.spec.limits)):
                    self.error(("metrics", i, key), refused)
            if metric.high is not None and metric.high < metric.value:
                message = f"range end {metric.high:g} is below value {metric.value:g}"
                self.error(("metrics", i, "high"), message)

    def check_sections(self) -> None:
        tables, charts = {t.id for t in self.brief.tables}, {c.id for c in self.brief.charts}
        for i, section in enumerate(self.brief.sections):
            for kind, ids in (("table", tables), ("chart", charts)):
                for j, name in enumerate(getattr(section, f"{kind}s")):
                    if name not in ids:
                        message = f"unknown {kind} '{name}' (known: {', '.join(sorted(ids))})"
                        self.error(("sections", i, f"{kind}s", j), message)

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
            self.problems += image_problems(doc, self.spec.root, self.spec.limits, doc_name(doc))
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
                    what = f'{call.name}("{call.arg}"): unknown {call.name} id'
                    message = f"{what} '{call.arg}' (known: {listed})"
                    self.problems.append(Problem(call.place.path, call.place.line, key, message))

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
                    why = f"source '{sid}' {key} '{text}' looks like a file path: readers see it "
                    why += "in Sources; name the publisher or title as a reader would"
                    self.warn(("sources", sid, key), why, f"source-path:{sid}:{key}")

    def check_mail_headers(self) -> None:
        """What `send` would refuse in a mail header or envelope (reportgen.mailtext), found by
        `check` and `build` at its line: the subject's texts and the recipients' mailboxes."""
        keys = ["title", "subject.name", "subject.ticker", "verdict.label"]
        keys += ["market.rating", "market.currency"] if self.brief.market else []
        for key in keys:
            if (text := attrgetter(key)(self.brief)) and (why := header_problem(text)):
                self.error(tuple(key.split(".")), why)
        for i, address in enumerate(self.brief.recipients):
            try:
                parse_mailbox(address)
            except ValueError as exc:
                self.error(("recipients", i), str(exc))

    def check_figures(self) -> None:
        """Provenance, conflicts, freshness and consistency (brief/integrity/); all warnings."""
        found, self.conflicts = check_integrity(self.spec, self.frames)
        self.problems += found


def _finding_dict(problem: Problem, acceptance: Acceptance | None = None) -> dict[str, Any]:
    """One finding as the author reads it: key, place, message, values (and sign-off)."""
    out: dict[str, Any] = {
        "finding": problem.finding,
        "where": f"{problem.path}:{problem.line}" if problem.line else str(problem.path),
        "key": problem.key,
        "message": problem.message,
        "values": list(problem.values),
    }
    if acceptance is not None:
        on = acceptance.on.isoformat()
        out["accepted"] = {"by": acceptance.by, "on": on, "reason": acceptance.reason}
    return out


def findings_json(brief_id: str, gate: Gate, pdf_sha256: str) -> bytes:
    """build/<id>/findings.json, written with every PDF: what the author must know about the
    PDF with this hash (check messages never reach the reader's copy). The send gate reads the
    build record's open findings instead (output.LastGood): a PDF built before a review was
    accepted stays a draft until it is rebuilt."""
    report = {
        "brief": brief_id,
        "pdf_sha256": pdf_sha256,
        "publishable": gate.publishable,
        "open": [_finding_dict(p) for p in gate.open],
        "accepted": [_finding_dict(p, a) for p, a in gate.accepted],
    }
    return json.dumps(report, indent=1, ensure_ascii=False).encode("utf-8")
