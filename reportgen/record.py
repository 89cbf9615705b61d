"""The values a build makes (`Built`, and `BuildResult` in a batch) and its build record:
its JSON form (output.py writes it) read back so that a skipped or mailed brief needs no
brief folder loaded again (`Record`, and `LastGood`: the last good build as `send` mails it).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import TypeAdapter

from reportgen.brief.summary import BriefSummary
from reportgen.errors import OutputError, Problem
from reportgen.render.changes import SNAPSHOT_FILE, Changes, Snapshot

log = logging.getLogger(__name__)

RECORD_FILE = ".reportgen-build.json"
SUMMARY = TypeAdapter(BriefSummary | None)  # what an email needs, as JSON data and back
Status = Literal["built", "skipped", "failed"]


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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Inputs:
    """What a build was made from: the cache key, the digest of the brief's own files and
    of the project config that shapes its page (with the digest: its edition)."""

    key: str = ""
    digest: str = ""
    page: str = ""


def record_bytes(
    built: Built,
    files: dict[str, bytes],
    inputs: Inputs,
    before: Record | None = None,
) -> bytes:
    """The build record of a build about to be written: what it was made from, a hash of
    each output, its warnings, and what its email needs. `before`: the record it replaces
    (a draft carries the latest publishable call forward from it)."""
    made = built.pdf is not None  # an HTML-only preview: no email, never publishable
    publishable = built.publishable and made
    # the call the ratings distribution counts: this build's when publishable, else the
    # latest publishable build's before it, carried forward while the brief is a draft
    latest = before.last_publishable_call if before else None
    if publishable:
        call = built.snapshot.call if built.snapshot and built.snapshot.call else {}
        latest = {name: part["value"] for name, part in call.items()}
    record = {
        "key": inputs.key,
        "inputs": inputs.digest,
        "page": inputs.page,  # the page config it was built with: its edition, with "inputs"
        "outputs": {name: _sha256(data) for name, data in files.items()},
        "publishable": publishable,  # the build's decision: send's gate reads this
        "last_publishable_call": latest,
        "problems": [problem_dict(p) for p in built.problems if p.severity == "warning"],
        "summary": SUMMARY.dump_python(built.summary, mode="json") if made else None,
        "changes": asdict(built.changes) if made and built.changes else None,
    }
    return json.dumps(record, indent=1, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class Record:
    """The build record of a brief's last good build."""

    key: str
    inputs: str
    outputs: dict[str, str]  # file name -> sha256
    problems: list[Problem]  # its warnings, replayed when the brief is skipped
    summary: BriefSummary | None
    changes: Changes | None
    publishable: bool  # the build's decision (build.decide); a record without it is rebuilt
    last_publishable_call: dict[str, str] | None = None  # of this or an earlier build; None: none
    page: str = ""  # digest of the page config it was built with ("": an older record)


def read_record(out_dir: Path, brief_id: str) -> Record | None:
    """The record of the last good build, or None when there is none or it is unreadable."""
    path = out_dir / brief_id / RECORD_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Record(
            raw["key"],
            raw.get("inputs", ""),
            dict(raw["outputs"]),
            [problem_from_dict(p) for p in raw["problems"]],
            SUMMARY.validate_python(raw.get("summary")),
            Changes.from_dict(raw["changes"]) if raw.get("changes") else None,
            _flag(raw["publishable"]),
            _call(raw.get("last_publishable_call")),
            str(raw.get("page", "")),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        if path.exists():
            why = f"no {exc} (an older reportgen wrote it)" if isinstance(exc, KeyError) else exc
            log.warning("%s: ignored, unreadable: %s; the brief is built again", path, why)
        return None


def _flag(value: object) -> bool:
    """A JSON true or false, nothing else (a record edited to "yes" is unreadable)."""
    if not isinstance(value, bool):
        raise TypeError(f"publishable: {value!r} is not true or false")
    return value


def _call(value: object) -> dict[str, str] | None:
    """A recorded call: names to texts, or None."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise TypeError(f"last_publishable_call: {value!r} is not a call")
    return {str(k): v for k, v in value.items()}


def intact(out_dir: Path, brief_id: str, record: Record) -> bool:
    """Every output the record lists is there with the bytes it was written with."""
    hashes = record.outputs
    return all(_output(out_dir, brief_id, name, hashes) is not None for name in hashes)


def _output(out_dir: Path, brief_id: str, name: str, hashes: dict[str, str]) -> bytes | None:
    """An output as the record lists it, when it is there and whole; else None."""
    try:
        data = (out_dir / brief_id / name).read_bytes()
    except OSError:
        return None
    return data if hashes.get(name) == _sha256(data) else None


@dataclass(frozen=True)
class LastGood:
    """A brief's good PDF and what its email says: from a build just made, or from disk."""

    brief_id: str
    pdf_path: Path
    pdf: bytes
    summary: BriefSummary
    changes: Changes | None
    inputs: str  # digest of the brief's files it was made from (its edition, with the config)
    snapshot: bytes | None = None  # kept with a delivered edition (the next changes box)
    open_findings: tuple[Problem, ...] = ()  # not accepted in review.yaml: why it is a draft
    publishable: bool = False  # the build's decision, as its record holds it: the send gate
    page: str = ""  # the page config it was built with ("": the project's now)


def last_good(out_dir: Path, brief_id: str) -> LastGood:
    """The last good build of a brief as `send` mails it; OutputError saying why not."""
    pdf_path = out_dir / brief_id / f"{brief_id}.pdf"
    if not pdf_path.is_file():
        raise OutputError(f"no built PDF at {pdf_path}: run `reportgen build` first")
    record = read_record(out_dir, brief_id)
    if record is None or record.summary is None:
        raise OutputError(f"{out_dir / brief_id}: no build record: rebuild it")
    try:
        pdf = pdf_path.read_bytes()
    except OSError as exc:
        raise OutputError(f"{pdf_path}: cannot read: {exc.strerror or exc}") from exc
    if record.outputs.get(pdf_path.name) != _sha256(pdf):
        raise OutputError(f"{pdf_path}: not a complete PDF (truncated or edited?): rebuild it")
    snapshot = _output(out_dir, brief_id, SNAPSHOT_FILE, record.outputs)
    return LastGood(
        brief_id,
        pdf_path,
        pdf,
        record.summary,
        record.changes,
        record.inputs,
        snapshot,
        open_findings(record.problems),
        record.publishable,
        record.page,
    )


def just_built(built: Built, out_dir: Path, inputs: str) -> LastGood:
    """The same, from a build this process just wrote (nothing is read back)."""
    assert built.pdf is not None and built.summary is not None
    pdf_path = out_dir / built.brief_id / f"{built.brief_id}.pdf"
    snapshot = built.snapshot.to_json() if built.snapshot is not None else None
    return LastGood(
        built.brief_id,
        pdf_path,
        built.pdf,
        built.summary,
        built.changes,
        inputs,
        snapshot,
        open_findings(built.problems),
        built.publishable,
    )


def problem_dict(problem: Problem) -> dict[str, object]:
    """A problem as plain JSON data (for records and `reportgen build --json`)."""
    return {
        "path": str(problem.path),
        "line": problem.line,
        "key": problem.key,
        "message": problem.message,
        "severity": problem.severity,
        **({"finding": problem.finding, "values": list(problem.values)} if problem.finding else {}),
    }


def problem_from_dict(raw: dict[str, Any]) -> Problem:
    path, values = Path(raw["path"]), tuple(raw.get("values", ()))
    line, key, message, severity = raw["line"], raw["key"], raw["message"], raw["severity"]
    return Problem(path, line, key, message, severity, raw.get("finding"), values)
