"""Incremental builds: content hashes decide what needs building again.

Two caches, both keyed by what shapes the output, never by timestamps:

- A build stamp beside each brief's outputs (`<out>/<id>/.reportgen-build.json`):
  the hash of every file in the brief folder, the templates, reportgen's own
  code and version, the versions of the libraries that draw the page, and the
  build options. A brief whose key matches and whose outputs are intact is
  skipped without importing anything heavy.
- A chart cache (`<out>/.reportgen/charts/<hash>.svg`) keyed by chart spec +
  data + series labels + house style (charts.py is part of reportgen's code
  hash) + matplotlib version, so a brief with one changed metric does not
  redraw its unchanged charts.

This module imports only the standard library: checking 100 unchanged briefs
must cost milliseconds each.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reportgen.errors import Problem
from reportgen.output import write_atomic

log = logging.getLogger(__name__)

STAMP_FILE = ".reportgen-build.json"
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


def tree_digest(root: Path) -> str:
    """The hash of every file under `root`: relative names and contents, in sorted order."""
    parts: list[str | bytes] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        parts += [path.relative_to(root).as_posix(), path.read_bytes()]
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


def batch_key(template_dirs: Sequence[Path], *, pdf: bool, theme: str = "") -> str:
    """What every brief of a batch shares: code, libraries, templates (read now), options."""
    options = {"pdf": pdf, "epoch": os.environ.get("SOURCE_DATE_EPOCH", ""), "theme": theme}
    templates = [tree_digest(d) for d in template_dirs if d.is_dir()]
    return _digest([code_fingerprint(), *templates, json.dumps(options, sort_keys=True)])


def build_key(brief_dir: Path, common: str) -> str:
    """The content hash of everything a brief's outputs are made from (`common`: batch_key)."""
    return _digest([common, tree_digest(brief_dir)])


@dataclass(frozen=True)
class Stamp:
    """What the last good build of a brief was made from, and what it wrote."""

    key: str
    outputs: dict[str, str]  # file name relative to the brief's output folder -> sha256
    problems: list[Problem]  # its warnings, replayed when the brief is skipped


def stamp_path(out_dir: Path, brief_id: str) -> Path:
    return out_dir / brief_id / STAMP_FILE


def read_stamp(out_dir: Path, brief_id: str) -> Stamp | None:
    """The stamp of the last good build, or None when there is none or it is unreadable."""
    try:
        raw = json.loads(stamp_path(out_dir, brief_id).read_text(encoding="utf-8"))
        problems = [
            Problem(
                Path(p["path"]),
                p["line"],
                p["key"],
                p["message"],
                p["severity"],
                p.get("finding"),
                tuple(p.get("values", ())),
            )
            for p in raw["problems"]
        ]
        return Stamp(raw["key"], dict(raw["outputs"]), problems)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_stamp(
    out_dir: Path, brief_id: str, key: str, outputs: Sequence[Path], problems: Sequence[Problem]
) -> None:
    """Record a good build: its key, a hash of each output and its warnings."""
    folder = (out_dir / brief_id).resolve()
    inside = [p.resolve() for p in outputs if p.resolve().is_relative_to(folder)]
    stamp = {
        "key": key,
        "outputs": {p.relative_to(folder).as_posix(): _file_hash(p) for p in inside},
        "problems": [problem_dict(p) for p in problems],
    }
    write_atomic(stamp_path(out_dir, brief_id), json.dumps(stamp, indent=1).encode("utf-8"))


def problem_dict(problem: Problem) -> dict[str, object]:
    """A problem as plain JSON data (for stamps and `reportgen build --json`)."""
    return {
        "path": str(problem.path),
        "line": problem.line,
        "key": problem.key,
        "message": problem.message,
        "severity": problem.severity,
        **({"finding": problem.finding, "values": list(problem.values)} if problem.finding else {}),
    }


def unchanged(out_dir: Path, brief_id: str, key: str) -> Stamp | None:
    """The stamp when the brief's last good build used exactly `key` and its outputs are intact."""
    stamp = read_stamp(out_dir, brief_id)
    if stamp is None or stamp.key != key or not stamp.outputs:
        return None
    folder = out_dir / brief_id
    for name, digest in stamp.outputs.items():
        path = folder / name
        if not path.is_file() or _file_hash(path) != digest:
            log.debug("%s changed since it was built; rebuilding", path)
            return None
    return stamp


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class ChartCache:
    """SVGs by content hash in one folder; shared safely by worker processes (atomic writes)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def svg(self, parts: Sequence[str], draw: Callable[[], str]) -> str:
        """The cached SVG for these parts, or draw it and keep it."""
        from importlib.metadata import version

        key = _digest([code_fingerprint(), version("matplotlib"), *parts])
        path = self.folder / f"{key}.svg"
        try:
            return path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            pass
        svg = draw()
        try:
            write_atomic(path, svg.encode("utf-8"))
        except OSError as exc:  # a read-only cache costs speed, never a brief
            log.warning("could not keep chart in cache %s: %s", self.folder, exc)
        return svg


_chart_cache: ContextVar[ChartCache | None] = ContextVar("reportgen_chart_cache", default=None)


@contextmanager
def using_chart_cache(cache: ChartCache | None) -> Iterator[None]:
    """Charts drawn inside this block go through `cache` (None: always draw)."""
    token = _chart_cache.set(cache)
    try:
        yield
    finally:
        _chart_cache.reset(token)


def cached_svg(parts: Sequence[str], draw: Callable[[], str]) -> str:
    """Draw a chart through the cache in use, if any; `parts` must fully describe it."""
    cache = _chart_cache.get()
    return draw() if cache is None else cache.svg(parts, draw)
