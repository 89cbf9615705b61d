"""Editions: every PDF that `send` or `nightly` delivered, kept unchanged, with a manifest.

    <out>/<id>/editions/<as_of>-<sha8>.pdf     the PDF exactly as attached (immutable)
    <out>/<id>/editions/<as_of>-<sha8>.json    its snapshot: what "Changes since" compares with
    <out>/<id>/editions/manifest.jsonl         one line per delivery run of a PDF:
        {"file", "as_of", "sha256", "sent", "recipients": {address: sent | failed | ...}}
        and one {"file", "pruned"} line when retention removed its files

The files live in `<out>/.reportgen/editions/<id>/`, so they outlive every build version;
`<out>/<id>/editions` is a link to that folder from each version. The manifest is append-only:
the archive and audit log, never consulted to decide whether to send (the ledger alone does).
Editions are kept at least `[compliance].retention_days` (default 1095: three years) after they
were last sent; pruning never removes a younger one, and does nothing while the clock reads
earlier than the newest delivery (a clock that jumped cannot delete).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from reportgen.errors import EditionError
from reportgen.files import write_atomic
from reportgen.output import editions_folder, link_editions
from reportgen.render.changes import Snapshot

log = logging.getLogger(__name__)

EDITIONS_DIR = "editions"
MANIFEST = "manifest.jsonl"


@dataclass
class Edition:
    """One delivered PDF and what happened to it, merged from its manifest lines."""

    file: str  # <as_of>-<sha8>.pdf, inside the editions folder
    as_of: str
    sha256: str
    first_sent: str
    last_sent: str
    recipients: dict[str, str] = field(default_factory=dict)
    pruned: str | None = None


def record_edition(
    out: Path,
    brief_id: str,
    as_of: date,
    pdf: bytes,
    snapshot: bytes | None,
    statuses: dict[str, str],
    at: datetime,
) -> Path:
    """Keep this PDF (once; never overwritten) and its snapshot, and log who got it."""
    folder = editions_folder(out, brief_id)
    sha = hashlib.sha256(pdf).hexdigest()
    stem = f"{as_of.isoformat()}-{sha[:8]}"
    path = folder / f"{stem}.pdf"
    try:
        if not path.is_file():
            write_atomic(path, pdf)
        elif hashlib.sha256(path.read_bytes()).hexdigest() != sha:
            raise EditionError(
                f"{path}: an edition file with this name holds other bytes; left as is"
            )
        if snapshot is not None and not (folder / f"{stem}.json").is_file():
            write_atomic(folder / f"{stem}.json", snapshot)
        line = {"file": path.name, "as_of": as_of.isoformat(), "sha256": sha, "sent": _iso(at)}
        _append(folder / MANIFEST, {**line, "recipients": statuses})
        link_editions(out, brief_id)  # <out>/<id>/editions/ from the current build too
    except OSError as exc:
        raise EditionError(f"{folder}: edition not kept: {exc.strerror or exc}") from exc
    return path


def _iso(at: datetime) -> str:
    """UTC, to the second: manifest times compare as text."""
    return at.astimezone(UTC).isoformat(timespec="seconds")


def _append(manifest: Path, line: dict[str, Any]) -> None:
    """One JSON line, fsynced: the manifest is the record of what went out."""
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def list_editions(out: Path, brief_id: str) -> list[Edition]:
    """Every edition of a brief, oldest first, its recipients' latest status merged."""
    manifest = editions_folder(out, brief_id) / MANIFEST
    if not manifest.is_file():
        return []
    found: dict[str, Edition] = {}
    for number, text in enumerate(manifest.read_bytes().splitlines(), 1):
        try:  # bytes: a torn or garbled line (not UTF-8) is skipped like any unreadable one
            _merge(found, json.loads(text))
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("%s:%d: skipped an unreadable manifest line", manifest, number)
    return sorted(found.values(), key=lambda e: e.first_sent)


def _merge(found: dict[str, Edition], line: dict[str, Any]) -> None:
    name = line["file"]
    if "pruned" in line:
        found[name].pruned = str(line["pruned"])
        return
    edition = found.setdefault(
        name, Edition(name, line["as_of"], line["sha256"], line["sent"], line["sent"])
    )
    edition.last_sent = max(edition.last_sent, line["sent"])
    edition.recipients.update({str(k): str(v) for k, v in dict(line["recipients"]).items()})


def last_delivered_snapshot(out: Path, brief_id: str, sha256: str | None = None) -> Snapshot | None:
    """The snapshot "Changes since" compares with: the newest kept edition delivered (with
    the PDF `sha256`: what one reader last got), dated when it was last sent. None when there
    is none (the build then compares with its previous build)."""
    found = [
        e
        for e in list_editions(out, brief_id)
        if "sent" in e.recipients.values() and not e.pruned and sha256 in (None, e.sha256)
    ]
    for edition in sorted(found, key=lambda e: e.last_sent, reverse=True):
        path = editions_folder(out, brief_id) / edition.file.replace(".pdf", ".json")
        try:
            snapshot = Snapshot(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            log.warning("%s: unreadable edition snapshot (%s)", path, exc)
            continue
        return replace(snapshot, generated=edition.last_sent, delivered=True)
    return None


def prune_editions(out: Path, brief_id: str, retention_days: int, now: datetime) -> list[str]:
    """Remove the files of editions last sent more than retention_days ago; their names."""
    editions = list_editions(out, brief_id)
    kept = [e for e in editions if not e.pruned]
    if not kept or _iso(now) < max(e.last_sent for e in editions):
        return []  # nothing to do, or the clock reads before the newest delivery: never trust it
    limit = _iso(now - timedelta(days=retention_days))
    folder = editions_folder(out, brief_id)
    removed = []
    try:
        for edition in kept:
            if edition.last_sent >= limit:
                continue
            for path in (folder / edition.file, folder / edition.file.replace(".pdf", ".json")):
                path.unlink(missing_ok=True)
            _append(folder / MANIFEST, {"file": edition.file, "pruned": _iso(now)})
            removed.append(edition.file)
    except OSError as exc:
        raise EditionError(f"{folder}: pruning old editions failed: {exc}") from exc
    return removed
