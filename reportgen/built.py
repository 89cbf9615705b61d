"""The values a build makes: one brief made in memory (`Built`), and what happened to it
in a batch (`BuildResult`). Only output.py writes them; delivery reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from reportgen.brief.summary import BriefSummary
from reportgen.errors import Problem
from reportgen.render.changes import Changes, Snapshot

Status = Literal["built", "skipped", "failed", "checked"]


@dataclass
class Built:
    """One brief made in memory: its outputs and what its mail needs (picklable)."""

    brief_dir: Path
    brief_id: str
    problems: list[Problem] = field(default_factory=list)
    html: str | None = None  # None: not made (see problems)
    pdf: bytes | None = None  # None: an HTML-only preview, or not made
    snapshot: Snapshot | None = None
    changes: Changes | None = None
    summary: BriefSummary | None = None
    findings: bytes | None = None  # findings.json: what the author must know about this PDF
    publishable: bool = False  # the build's one decision (build.decide): no DRAFT mark, may be sent
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage and "total"
    peak_mib: float = 0.0  # peak resident memory of the process that made it (batch.run_task)

    @property
    def ok(self) -> bool:
        return self.html is not None and not any(p.severity == "error" for p in self.problems)


@dataclass
class BuildResult:
    """What happened to one brief in a build: made and written, skipped or failed."""

    brief_dir: Path
    status: Status
    problems: list[Problem] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage (see `make_brief`)
    peak_mib: float = 0.0  # peak resident memory of the process that built it (batch builds)
    built: Built | None = None  # the values behind a "built" result, for delivery
    digest: str = ""  # of the brief's files it was made from (cache.tree_digest)
    publishable: bool = False  # the build's decision (Built.publishable, or the build record's)

    @property
    def brief_id(self) -> str:
        return self.brief_dir.resolve().name

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Its open findings: warnings not accepted in review.yaml; each makes it a draft."""
        return list(open_findings(self.problems))

    open_findings = warnings


def open_findings(problems: list[Problem]) -> tuple[Problem, ...]:
    """The findings nobody accepted in review.yaml: a build's warnings are exactly those
    (accepted ones are left out), and any one makes it a draft (build.decide)."""
    return tuple(p for p in problems if p.severity == "warning")
