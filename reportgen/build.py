"""The pipeline: load -> validate -> compose -> render HTML -> PDF -> write.

`build_brief` is the library entry point the CLI, the nightly job and any
scheduler call. A failed brief is reported and the batch goes on.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from reportgen.brief.market import Rating
from reportgen.brief.spec import BRIEF_FILE, load_spec
from reportgen.brief.validate import Checked, validate
from reportgen.errors import BriefError, Problem, ReportgenError
from reportgen.output import write_atomic
from reportgen.render.backmatter import scale_of
from reportgen.render.changes import CHANGES_FILE, SNAPSHOT_FILE, load_snapshot
from reportgen.render.document import compose
from reportgen.render.environment import Renderer

log = logging.getLogger(__name__)

Status = Literal["built", "skipped", "failed", "checked"]


@dataclass
class BuildResult:
    """What happened to one brief."""

    brief_dir: Path
    status: Status
    problems: list[Problem] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage (see `stage`)
    peak_mib: float = 0.0  # peak resident memory of the process that built it (batch builds)

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
        return [p for p in self.problems if p.severity == "warning"]


_stage_times: ContextVar[dict[str, float] | None] = ContextVar("stage_times", default=None)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Time one pipeline stage into the recorder opened by `timed_build_brief`, if any."""
    start = time.perf_counter()
    try:
        yield
    finally:
        times = _stage_times.get()
        if times is not None:
            times[name] = times.get(name, 0.0) + time.perf_counter() - start


def timed_build_brief(brief_dir: Path, out_dir: Path, **options: Any) -> BuildResult:
    """`build_brief` with seconds per stage (and in all) in `result.timings`."""
    times: dict[str, float] = {}
    token = _stage_times.set(times)
    start = time.perf_counter()
    try:
        result = build_brief(brief_dir, out_dir, **options)
    finally:
        _stage_times.reset(token)
    result.timings = {**times, "total": time.perf_counter() - start}
    return result


def generated_time() -> datetime:
    """Now, or SOURCE_DATE_EPOCH when set, so that builds can be byte-reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC).replace(microsecond=0)


def find_briefs(paths: Iterable[Path]) -> list[Path]:
    """Brief folders named directly, or every brief folder inside a named folder."""
    found: list[Path] = []
    for path in paths:
        if (path / BRIEF_FILE).is_file() or not path.is_dir():
            found.append(path)
            continue
        inner = sorted(p for p in path.iterdir() if (p / BRIEF_FILE).is_file())
        found += inner or [path]
    return found


def check_brief(
    brief_dir: Path, strict: bool = False, ratings: Sequence[Rating] | None = None
) -> tuple[Checked | None, list[Problem]]:
    """Load and validate: the checked brief (None on errors, or on warnings when strict)
    and every problem found. `ratings`: the [compliance] scale, when the project has one."""
    try:
        checked = validate(load_spec(brief_dir), ratings)
    except BriefError as exc:
        return None, exc.problems
    if strict and checked.warnings:
        return None, strictly(checked.warnings)
    return checked, checked.warnings


def strictly(problems: list[Problem]) -> list[Problem]:
    """--strict (the nightly job): every warning counts as an error."""
    return [replace(p, severity="error") for p in problems]


def build_brief(
    brief_dir: Path,
    out_dir: Path,
    *,
    renderer: Renderer | None = None,
    pdf: bool = True,
    now: datetime | None = None,
    strict: bool = False,
) -> BuildResult:
    """Build one brief into out_dir/<id>/<id>.html and .pdf; never raises for a bad brief.
    A PDF that fails verification is not promoted: status "failed", problems say why."""
    renderer = renderer or Renderer()
    with stage("check"):
        checked, problems = check_brief(brief_dir, strict, scale_of(renderer.theme))
    if checked is None:
        return BuildResult(brief_dir, "failed", problems)
    try:
        outputs, late = _render_and_write(
            checked, out_dir, renderer, pdf, now or generated_time(), strict
        )
    except BriefError as exc:  # verification failed: the previous output stays
        return BuildResult(brief_dir, "failed", [*problems, *exc.problems])
    except ReportgenError as exc:
        problems = [*problems, Problem(brief_dir / BRIEF_FILE, None, "build", str(exc))]
        return BuildResult(brief_dir, "failed", problems)
    except Exception as exc:  # a bug or a library failure: report it, keep the batch going
        log.debug("build of %s failed", brief_dir, exc_info=True)
        message = f"{type(exc).__name__}: {exc}"
        return BuildResult(
            brief_dir,
            "failed",
            [*problems, Problem(brief_dir / BRIEF_FILE, None, "build", message)],
        )
    return BuildResult(brief_dir, "built", [*problems, *late], outputs)


def _render_and_write(
    checked: Checked, out_dir: Path, renderer: Renderer, pdf: bool, now: datetime, strict: bool
) -> tuple[list[Path], list[Problem]]:
    """Write the outputs once all are ready and the PDF is verified; (paths, late warnings)."""
    target = out_dir / checked.spec.brief_id
    with stage("compose"):
        document = compose(checked, renderer.partial, now, previous=load_snapshot(target))
    with stage("html"):
        html = renderer.page(document)
    files = {target / f"{checked.spec.brief_id}.html": html.encode("utf-8")}
    found: list[Problem] = []
    if (
        pdf
    ):  # HTML-only previews leave the snapshot alone, so the next real build still shows changes
        from reportgen.pdf.verify import Expected, render_pdf, verify_pdf

        pdf_path = target / f"{checked.spec.brief_id}.pdf"
        with stage("pdf"):
            rendered = render_pdf(html, checked.spec.root, pdf_path)
        with stage("verify"):
            found = rendered.problems + verify_pdf(
                rendered.pdf, Expected.of(document.snapshot), where=pdf_path
            )
        found = strictly(found) if strict else found
        if any(p.severity == "error" for p in found):
            raise BriefError(found)
        files[pdf_path] = rendered.pdf
        files[target / SNAPSHOT_FILE] = document.snapshot.to_json()
        files[target / CHANGES_FILE] = document.changes.to_json()
    with stage("write"):
        for path, data in files.items():  # written only once every output is ready
            write_atomic(path, data)
    return list(files), found


def build_all(
    brief_dirs: Sequence[Path], out_dir: Path, *, pdf: bool = True, strict: bool = False
) -> list[BuildResult]:
    """Build each brief in turn; one failure does not stop the others."""
    renderer = Renderer()
    return [build_brief(d, out_dir, renderer=renderer, pdf=pdf, strict=strict) for d in brief_dirs]
