"""The build core: load -> validate -> compose -> HTML -> PDF -> verify, as values.

`make_brief` returns a `Built` and touches no file (`output.write_built` writes it),
for every caller: build, batch workers, Dask, serve, nightly. Any exception while
making a brief, RecursionError and MemoryError included, becomes that brief's
failure: one line, never a traceback, and the other briefs go on.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path

from reportgen.brief.market import Rating
from reportgen.brief.review import Gate, apply_review
from reportgen.brief.spec import BRIEF_FILE, load_spec
from reportgen.brief.summary import summarize
from reportgen.brief.validate import Checked, findings_json, validate
from reportgen.config import DEFAULT_LIMITS, DEFAULT_VERDICT, Limits, VerdictConfig
from reportgen.errors import BriefError, Problem, ReportgenError
from reportgen.project import Project
from reportgen.record import Built
from reportgen.render.changes import Snapshot
from reportgen.render.compose import compose

log = logging.getLogger(__name__)


def failure(brief_dir: Path, exc: BaseException, key: str = "build") -> list[Problem]:
    """Any exception as the brief's problems: its own when it carries them, else one line."""
    if isinstance(exc, BriefError):
        return exc.problems
    log.debug("%s of %s failed", key, brief_dir, exc_info=exc)
    if isinstance(exc, ReportgenError):
        message = str(exc)
    elif isinstance(exc, RecursionError):
        message = "nested too deeply to process (RecursionError)"
    elif isinstance(exc, MemoryError):
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)  # this process's, as its worker set it
        over = "" if soft == resource.RLIM_INFINITY else f" over the limit of {soft // 2**20} MiB"
        message = (
            f"ran out of memory{over} "
            "(raise it with [build].memory_limit in reportgen.toml or --memory-limit)"
        )
    else:
        message = f"{type(exc).__name__}: {exc}"
    return [Problem(brief_dir / BRIEF_FILE, None, key, message)]


def check_brief(
    brief_dir: Path,
    strict: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    ratings: Sequence[Rating] | None = None,
    verdict: VerdictConfig = DEFAULT_VERDICT,
) -> tuple[Checked | None, list[Problem]]:
    """Load (within [limits]) and validate by the [compliance] `ratings` and [verdict]: the
    checked brief (None on errors, or warnings when strict) and every problem. Never raises."""
    try:
        checked = validate(load_spec(brief_dir, limits), ratings, verdict)
    except Exception as exc:  # one bad brief must not stop the others
        return None, failure(brief_dir, exc, "brief")
    if strict and checked.warnings:
        return None, strictly(checked.warnings)
    return checked, checked.warnings


def check_in(
    brief_dir: Path, project: Project, strict: bool = False
) -> tuple[Checked | None, list[Problem]]:
    """`check_brief` by the project's [limits], rating scale (if any) and [verdict]."""
    ratings = (project.back_matter.ratings or None) if project.back_matter else None
    return check_brief(brief_dir, strict, project.config.limits, ratings, project.config.verdict)


def strictly(problems: list[Problem]) -> list[Problem]:
    """--strict (the nightly job): every warning counts as an error."""
    return [replace(p, severity="error") for p in problems]


@contextmanager
def _timed(times: dict[str, float], stage: str) -> Iterator[None]:
    """Add the seconds of a stage to `times` (shown by `build -v` and `--json`)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        times[stage] = times.get(stage, 0.0) + time.perf_counter() - start


def make_brief(
    brief_dir: Path,
    project: Project,
    previous: Snapshot | None,
    *,
    pdf: bool = True,
    strict: bool = False,
    where: Path | None = None,
) -> Built:
    """Make one brief of `project` in memory, stamped with the project's clock, compared
    with `previous` for the changes box. Never raises for a bad brief: a failed Built says
    why (a PDF that fails verification is a failure too). `where`: the path the PDF is meant
    for, named in verification messages (default: <brief>/<id>.pdf)."""
    times: dict[str, float] = {}
    start, stages = time.perf_counter(), functools.partial(_timed, times)
    brief_id = brief_dir.resolve().name
    with stages("check"):
        checked, problems = check_in(brief_dir, project, strict)
    built = Built(brief_dir, brief_id)
    if checked is not None:
        try:
            built = _make(checked, project, previous, pdf, strict, stages, where)
        except Exception as exc:  # a bug, a library or a template failure fails this brief only
            built.problems = failure(brief_dir, exc)
    built.problems = [*problems, *built.problems]
    built.timings = {**times, "total": time.perf_counter() - start}
    return built


def _make(
    checked: Checked,
    project: Project,
    previous: Snapshot | None,
    pdf: bool,
    strict: bool,
    stages: Callable[[str], AbstractContextManager[None]],
    where: Path | None,
) -> Built:
    """Compose, render and (unless HTML-only) lay out and verify the PDF."""
    spec = checked.spec
    renderer = project.renderer()
    # a clock the caller pinned is used as is: a worker's environment (SOURCE_DATE_EPOCH as
    # it was when the fork server started) is never read again
    generated = project.clock or project.now()
    with stages("compose"):
        document = compose(
            checked, renderer.partial, generated, previous=previous, charts=project.charts
        )
    with stages("html"):
        html = renderer.page(document)
    built = Built(spec.root, spec.brief_id, [], html, None, document.snapshot, document.changes)
    built.summary = summarize(checked)
    if not pdf:
        built.publishable = checked.publishable  # an HTML preview's DRAFT mark; never sent
        return built
    from reportgen.pdf.verify import Expected, render_pdf, verify_pdf  # lazy: WeasyPrint is heavy

    where = where or spec.root / f"{spec.brief_id}.pdf"

    def laid_out(html: str) -> tuple[bytes, list[Problem]]:
        with stages("pdf"):
            rendered = render_pdf(html, spec.root, where)
        with stages("verify"):
            expected = Expected.of(document.snapshot)
            return rendered.pdf, rendered.problems + verify_pdf(rendered.pdf, expected, where=where)

    pdf_bytes, found = laid_out(html)
    gate = decide(checked, found)
    if not gate.publishable and not document.draft:  # the PDF's own findings make it a draft
        document = replace(document, draft=True)
        with stages("html"):
            built.html = html = renderer.page(document)
        pdf_bytes, again = laid_out(html)
        # a draft stays a draft: the first layout's findings still count, even when the
        # marked layout no longer raises them (the mark and the decision never disagree)
        found = list(dict.fromkeys([*found, *again]))
        gate = decide(checked, found)
    errors = [p for p in found if p.severity == "error"]
    later = [p for p in gate.open if p not in checked.review.open]  # the PDF's open findings
    built.problems = strictly(found) if strict else [*errors, *later]
    if not any(p.severity == "error" for p in built.problems):
        built.pdf = pdf_bytes
        built.publishable = gate.publishable
        sha = hashlib.sha256(pdf_bytes).hexdigest()
        built.findings = findings_json(spec.brief_id, gate, sha)
    else:
        built.html = None  # not promoted: the previous output stays
    return built


def decide(checked: Checked, found: list[Problem]) -> Gate:
    """Publishable, decided once for every reader (the DRAFT mark, findings.json, the build
    record, --json, send, nightly): the brief's warnings and the laid-out PDF's own, put
    through review.yaml together. Any open finding makes the build a draft."""
    warnings = [p for p in found if p.severity == "warning"]
    if not warnings:
        return checked.review
    review = checked.review
    every = [*review.open, *(p for p, _ in review.accepted), *warnings]
    return apply_review(every, checked.entries)
