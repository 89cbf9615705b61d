"""Incremental builds: content hashes, never timestamps, decide what needs building again.

- The build key (in each build record): the brief's files, reportgen's code and templates,
  the versions of the libraries that draw the page, the page config, the options and the
  pinned build time. A brief whose key matches and whose outputs are intact is skipped.
- The chart cache (`<out>/.reportgen/charts/<hash>.svg`), keyed by what a chart is drawn
  from: a brief with one changed metric redraws only its chart.

Checking 100 unchanged briefs costs milliseconds each: nothing heavy is imported here.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from reportgen.files import write_atomic
from reportgen.record import Record, intact, read_record

log = logging.getLogger(__name__)

CHART_DIR = Path(".reportgen") / "charts"
PACKAGE = Path(__file__).resolve().parent
# Libraries whose version can change the bytes of the HTML or the PDF.
OUTPUT_LIBRARIES = (
    "jinja2",
    "markdown-it-py",
    "matplotlib",
    "pandas",
    "weasyprint",
    "pydyf",
    "fonttools",
)


def _digest(parts: Iterable[str | bytes]) -> str:
    """One sha256 over parts, each length-prefixed so that no two splits collide."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(f"{len(data)}:".encode())
        h.update(data)
    return h.hexdigest()


# Files above this are hashed by size and modification time, not read: a brief's own
# files are far smaller ([limits] in reportgen.toml), and loading refuses larger ones.
READ_LIMIT = 64 << 20


def tree_digest(root: Path) -> str:
    """The hash of every file under `root`: relative names and contents, in sorted order.

    A link leaving `root` counts by where it points, never by what it points at (a
    link to a 1.5 GB file elsewhere is refused when the brief loads, not read here)."""
    parts: list[str | bytes] = []
    resolved = root.resolve()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = path.relative_to(root).as_posix()
        target = path.resolve()
        if not target.is_relative_to(resolved):
            parts += [name, f"link to {target}"]
        elif (stat := target.stat()).st_size > READ_LIMIT:
            parts += [name, f"size {stat.st_size}, modified {stat.st_mtime_ns}"]
        else:
            with path.open("rb") as handle:  # read in blocks: a large CSV is never held whole
                parts += [name, hashlib.file_digest(handle, "sha256").hexdigest()]
    return _digest(parts)


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """reportgen's version, its code and the versions of the libraries that shape output."""
    from importlib.metadata import PackageNotFoundError, version

    from reportgen import __version__

    parts: list[str | bytes] = [__version__]
    for path in sorted(PACKAGE.rglob("*.py")):
        parts += [path.relative_to(PACKAGE).as_posix(), path.read_bytes()]
    for name in OUTPUT_LIBRARIES:
        try:
            parts += [name, version(name)]
        except PackageNotFoundError:
            parts += [name, "-"]
    return _digest(parts)


def batch_key(
    templates: Sequence[str], *, pdf: bool, theme: str = "", clock: datetime | None = None
) -> str:
    """What every brief of a batch shares: code, libraries, the templates (their
    `tree_digest`s), the look, options, and the build time when it is pinned
    (SOURCE_DATE_EPOCH, the nightly edition)."""
    options = {"pdf": pdf, "clock": clock.isoformat() if clock else "", "theme": theme}
    return _digest([code_fingerprint(), *templates, json.dumps(options, sort_keys=True)])


def build_key(brief_digest: str, common: str) -> str:
    """A brief's key: its files (`tree_digest`) and what the batch shares (`batch_key`)."""
    return _digest([common, brief_digest])


def unchanged(out_dir: Path, brief_id: str, key: str) -> Record | None:
    """The one rule for an unchanged brief: its last good build used exactly `key`
    and its outputs are intact. Returns that build's record."""
    record = read_record(out_dir, brief_id)
    if record is None or record.key != key or not record.outputs:
        return None
    if not intact(out_dir, brief_id, record):
        log.debug("%s/%s changed since it was built; rebuilding", out_dir, brief_id)
        return None
    return record


@dataclass(frozen=True)
class ChartCache:
    """SVGs by content hash in one folder (<out>/.reportgen/charts), shared safely by worker
    processes (atomic writes): the project's chart store (render.charts.ChartStore)."""

    folder: Path

    def svg(self, parts: Sequence[str], draw: Callable[[], Markup]) -> Markup:
        """The cached SVG for these parts (and this code and its libraries), or draw it."""
        key = _digest([code_fingerprint(), *parts])
        path = self.folder / f"{key}.svg"
        try:
            return Markup(path.read_bytes().decode("utf-8"))  # a chart we drew, by its hash
        except (OSError, UnicodeDecodeError):
            pass
        svg = draw()
        try:
            write_atomic(path, svg.encode("utf-8"))
        except OSError as exc:  # a read-only cache costs speed, never a brief
            log.warning("could not keep chart in cache %s: %s", self.folder, exc)
        return svg
