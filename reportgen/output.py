"""The output folder: the one place that writes build outputs, and reads them back later.

A brief's outputs are replaced together or not at all. Each build writes a
fresh version folder, `<out>/.reportgen/versions/<id>/<version>/`, with every
file fsynced, then switches the symlink `<out>/<id>` to it with one atomic
rename. A reader of `<out>/<id>/` sees the whole previous build or the whole
new one, never an HTML and a PDF of different builds, whether the disk fills
at any write or the process is killed between any two steps. Versions no link
points to (left by a failed or killed build) are removed by the next build of
that brief. An `<out>/<id>` that is still a plain folder (built by reportgen
before this layout) is moved into the versions on its first rebuild.

Beside the outputs, the build record `.reportgen-build.json` keeps what the
build was made from (the key the cache compares, the digest of the brief's
files), a hash of each output, its warnings, and what its email needs (the
summary and the changes), so `reportgen send` mails the last good PDF without
loading the brief again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from reportgen.built import Built, open_findings
from reportgen.errors import Problem, ReportgenError
from reportgen.publish.summary import BriefSummary, KeyFigure
from reportgen.render.changes import CHANGES_FILE, SNAPSHOT_FILE, Changes, Snapshot, load_snapshot

log = logging.getLogger(__name__)

RECORD_FILE = ".reportgen-build.json"
FINDINGS_FILE = "findings.json"  # for the author: brief/findings.py
VERSIONS = Path(".reportgen") / "versions"
# Delivered editions outlive every version: kept here, linked from each version as editions/.
EDITIONS = Path(".reportgen") / "editions"
EDITIONS_LINK = "editions"

WriteFile = Callable[[Path, bytes], None]


class OutputError(ReportgenError):
    """The last good build of a brief is missing, incomplete or unreadable."""


def write_file(path: Path, data: bytes) -> None:
    """Write and fsync one new file (the seam through which tests fill the disk)."""
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o644)


@dataclass(frozen=True)
class Inputs:
    """What a build was made from: the cache key and the digest of the brief's own files."""

    key: str = ""
    digest: str = ""


def write_built(
    built: Built, out_dir: Path, inputs: Inputs = Inputs(), *, write: WriteFile | None = None
) -> list[Path]:
    """Write a good build as a new version of `<out>/<id>/` and switch to it atomically;
    the paths of its outputs. On any error the previous version stays whole.
    `write` (default: write_file) writes one new file: the seam for fault injection."""
    write = write or write_file
    assert built.ok and built.html is not None, "only a good build is written"
    files = _files(built, out_dir)
    files[RECORD_FILE] = _record(built, files, inputs)
    version = _new_version(out_dir, built.brief_id)
    try:
        for name, data in files.items():
            write(version / name, data)
        _link_editions(out_dir, built.brief_id, version)
        _fsync_dir(version)
        _switch(out_dir, built.brief_id, version)
    except BaseException:
        shutil.rmtree(version, ignore_errors=True)
        raise
    _forget_old_versions(out_dir, built.brief_id, keep=version)
    return [out_dir / built.brief_id / name for name in files if name != RECORD_FILE]


def _files(built: Built, out_dir: Path) -> dict[str, bytes]:
    """Every output file by name. An HTML-only preview keeps the last real build's snapshot,
    so the next real build still shows what changed since it."""
    assert built.html is not None and built.snapshot is not None and built.changes is not None
    files = {f"{built.brief_id}.html": built.html.encode("utf-8")}
    if built.pdf is None:
        previous = out_dir / built.brief_id / SNAPSHOT_FILE
        if previous.is_file():
            files[SNAPSHOT_FILE] = previous.read_bytes()
        return files
    files[f"{built.brief_id}.pdf"] = built.pdf
    files[SNAPSHOT_FILE] = built.snapshot.to_json()
    files[CHANGES_FILE] = built.changes.to_json()
    if built.findings is not None:
        files[FINDINGS_FILE] = built.findings
    return files


def _record(built: Built, files: dict[str, bytes], inputs: Inputs) -> bytes:
    record = {
        "key": inputs.key,
        "inputs": inputs.digest,
        "outputs": {name: _sha256(data) for name, data in files.items()},
        "problems": [problem_dict(p) for p in built.problems if p.severity == "warning"],
        "summary": _summary_dict(built.summary) if built.pdf is not None else None,
        "changes": asdict(built.changes) if built.pdf is not None and built.changes else None,
    }
    return json.dumps(record, indent=1, ensure_ascii=False).encode("utf-8")


def editions_folder(out_dir: Path, brief_id: str) -> Path:
    """Where a brief's delivered editions are kept, whatever version is current."""
    return out_dir / EDITIONS / brief_id


def _link_editions(out_dir: Path, brief_id: str, version: Path) -> None:
    """`<out>/<id>/editions/` in a version, once the brief has editions: a relative link to
    the folder that keeps them, so a new build never hides one."""
    kept = editions_folder(out_dir, brief_id)
    if kept.is_dir() and not (version / EDITIONS_LINK).exists():
        os.symlink(os.path.relpath(kept, version), version / EDITIONS_LINK, True)


def link_editions(out_dir: Path, brief_id: str) -> None:
    """The same for the current version, when its first edition has just been kept."""
    current = out_dir / brief_id
    if current.is_dir():
        _link_editions(out_dir, brief_id, current.resolve())


def _new_version(out_dir: Path, brief_id: str) -> Path:
    folder = out_dir / VERSIONS / brief_id / f"{time.time_ns()}-{os.getpid()}"
    folder.mkdir(parents=True)
    return folder


def _switch(out_dir: Path, brief_id: str, version: Path) -> None:
    """Point `<out>/<id>` at the new version with one rename (atomic on POSIX)."""
    link = out_dir / brief_id
    staged = out_dir / f".{brief_id}.{version.name}.link"
    os.symlink(version.relative_to(out_dir), staged)
    try:
        if link.is_dir() and not link.is_symlink():  # a folder from before versions: keep it aside
            os.rename(link, version.parent / f"unversioned-{version.name}")
        os.replace(staged, link)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    _fsync_dir(out_dir)


def _forget_old_versions(out_dir: Path, brief_id: str, keep: Path) -> None:
    """Remove versions no link points to; a failure here costs disk space, never output."""
    for old in (out_dir / VERSIONS / brief_id).iterdir():
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
    for staged in out_dir.glob(f".{brief_id}.*.link"):
        staged.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- reading back what an earlier run wrote -----------------------------------


def read_previous(out_dir: Path, brief_id: str) -> Snapshot | None:
    """The last real build's snapshot, for the changes box (None on a first build)."""
    return load_snapshot(out_dir / brief_id)


@dataclass(frozen=True)
class Record:
    """The build record of a brief's last good build."""

    key: str
    inputs: str
    outputs: dict[str, str]  # file name -> sha256
    problems: list[Problem]  # its warnings, replayed when the brief is skipped
    summary: BriefSummary | None
    changes: Changes | None


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
            _summary_from(raw.get("summary")),
            Changes.from_dict(raw["changes"]) if raw.get("changes") else None,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        if path.exists():
            log.warning("%s: ignored, unreadable (%s)", path, exc)
        return None


def intact(out_dir: Path, brief_id: str, record: Record) -> bool:
    """Every output the record lists is there with the bytes it was written with."""
    folder = out_dir / brief_id
    for name, digest in record.outputs.items():
        try:
            if _sha256((folder / name).read_bytes()) != digest:
                return False
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class LastGood:
    """A brief's good PDF and what its email says: from a build just made, or from disk."""

    brief_id: str
    pdf_path: Path
    pdf: bytes
    summary: BriefSummary
    changes: Changes | None
    inputs: str  # digest of the brief's files it was made from (for `only_changed`)
    snapshot: bytes | None = None  # kept with a delivered edition (the next changes box)
    open_findings: tuple[Problem, ...] = ()  # not accepted in review.yaml: a draft, never sent


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
    snapshot = _read_output(out_dir, brief_id, SNAPSHOT_FILE, record.outputs)
    return LastGood(
        brief_id,
        pdf_path,
        pdf,
        record.summary,
        record.changes,
        record.inputs,
        snapshot,
        open_findings(record.problems),
    )


def _read_output(out_dir: Path, brief_id: str, name: str, hashes: dict[str, str]) -> bytes | None:
    """An output of the current version when it is there and whole, else None."""
    try:
        data = (out_dir / brief_id / name).read_bytes()
    except OSError:
        return None
    return data if hashes.get(name) == _sha256(data) else None


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
    )


# --- JSON forms ------------------------------------------------------------------


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
    return Problem(
        Path(raw["path"]),
        raw["line"],
        raw["key"],
        raw["message"],
        raw["severity"],
        raw.get("finding"),
        tuple(raw.get("values", ())),
    )


def _summary_dict(summary: BriefSummary | None) -> dict[str, Any] | None:
    return None if summary is None else {**asdict(summary), "as_of": summary.as_of.isoformat()}


def _summary_from(raw: dict[str, Any] | None) -> BriefSummary | None:
    if raw is None:
        return None
    figures = [KeyFigure(**figure) for figure in raw["key_figures"]]
    return BriefSummary(
        **{**raw, "as_of": date.fromisoformat(raw["as_of"]), "key_figures": figures}
    )
