"""The output folder: the one place that writes build outputs.

A brief's outputs are replaced together or not at all: each build writes a fresh version
folder, `<out>/.reportgen/versions/<id>/<version>/`, every file fsynced, then switches the
symlink `<out>/<id>` to it with one atomic rename, so a reader sees the whole previous build
or the whole new one whenever the disk fills or the process is killed. The next build of a
brief removes the versions no link points to (and moves in an older plain `<out>/<id>`).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from reportgen.files import write_file
from reportgen.record import RECORD_FILE, Built, Inputs, read_record, record_bytes
from reportgen.render.changes import CHANGES_FILE, SNAPSHOT_FILE

FINDINGS_FILE = "findings.json"  # for the author: brief/validate.py
VERSIONS = Path(".reportgen") / "versions"
# Delivered editions outlive every version: kept here, linked from each version as editions/.
EDITIONS = Path(".reportgen") / "editions"
EDITIONS_LINK = "editions"
WriteFile = Callable[[Path, bytes], None]
NO_INPUTS = Inputs()  # a build written without a cache key (tests, previews)


def write_built(
    built: Built, out_dir: Path, inputs: Inputs = NO_INPUTS, *, write: WriteFile | None = None
) -> list[Path]:
    """Write a good build as a new version of `<out>/<id>/` and switch to it atomically;
    the paths of its outputs. On any error the previous version stays whole.
    `write` (default: write_file) writes one new file: the seam for fault injection."""
    write = write or write_file
    assert built.ok and built.html is not None, "only a good build is written"
    files = _files(built, out_dir)
    before = read_record(out_dir, built.brief_id)
    files[RECORD_FILE] = record_bytes(built, files, inputs, before)
    version = out_dir / VERSIONS / built.brief_id / f"{time.time_ns()}-{os.getpid()}"
    version.mkdir(parents=True)
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
