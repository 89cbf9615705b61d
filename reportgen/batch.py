"""Many briefs at once: skip the unchanged ones, build the rest in parallel.

One per-brief task, `run_task`, runs the same everywhere: in this process (one
brief, or `-j 1`), in a pool of local worker processes (`-j N`), or on a Dask
distributed cluster (`--dask tcp://host:8786`). Each worker keeps its Jinja
environment and WeasyPrint font configuration across briefs. Dask workers may
be other machines: they read the brief folders (which must be readable there at
the same absolute path) and send the output files back; only this process
writes into the output folder. Every result is byte-identical to a serial
build: the same code runs on the same inputs, and nothing depends on timing.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from reportgen.cache import (
    CHART_DIR,
    ChartCache,
    batch_key,
    build_key,
    problem_dict,
    unchanged,
    using_chart_cache,
    write_stamp,
)
from reportgen.errors import BuildError, Problem
from reportgen.output import write_atomic
from reportgen.render.changes import SNAPSHOT_FILE
from reportgen.render.theme import Theme

if TYPE_CHECKING:
    from reportgen.build import BuildResult
    from reportgen.render.environment import Renderer

log = logging.getLogger(__name__)

OnResult = Callable[["BuildResult"], None]

# WeasyPrint (with Pango) keeps about half a MiB per PDF it writes, whatever we
# share or free; a fresh worker after this many briefs keeps memory flat over
# any batch, for a restart every minute or so.
BRIEFS_PER_WORKER = 50


@dataclass(frozen=True)
class BatchOptions:
    """How to build a batch; the defaults are what `reportgen build` does."""

    pdf: bool = True
    jobs: int | None = None  # worker processes; None: one per core
    force: bool = False  # rebuild even briefs whose inputs are unchanged
    dask: str | None = None  # a Dask scheduler address: build there instead
    template_dirs: tuple[Path, ...] = ()
    theme: Theme = field(
        default_factory=Theme
    )  # [theme] of reportgen.toml; part of every brief's build key
    strict: bool = False  # warnings fail a brief (an unchanged brief with warnings is rebuilt)


@dataclass(frozen=True)
class BuildTask:
    """One brief to build: the unit of work sent to a worker."""

    brief_dir: Path
    out_dir: Path
    generated: datetime  # one time stamp for the whole batch, whichever machine builds
    pdf: bool = True
    template_dirs: tuple[Path, ...] = ()
    ship: bool = False  # build in a private folder and return the files (remote workers)
    theme: Theme = field(default_factory=Theme)
    strict: bool = False
    previous: bytes | None = None  # shipped: the last snapshot.json, for the changes box


@dataclass
class TaskOutcome:
    """A worker's answer: the result, and the output files when they were shipped."""

    result: BuildResult
    files: dict[str, bytes] = field(default_factory=dict)  # path under out_dir -> bytes


@dataclass
class BatchSummary:
    """Every result in the order the briefs were given, and how the batch ran."""

    results: list[BuildResult]
    seconds: float
    workers: str  # "1 process", "2 worker processes", "Dask at tcp://..."

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)


@lru_cache(maxsize=4)
def _renderer(template_dirs: tuple[Path, ...], theme: Theme) -> Renderer:
    """One Jinja environment per process and template path: templates compile once."""
    from reportgen.render.environment import Renderer

    return Renderer(template_dirs, theme)


# matplotlib's rc settings are process-wide: a Dask worker with several threads
# must not draw two briefs at once. Parallelism comes from processes.
_one_at_a_time = threading.Lock()


def run_task(task: BuildTask) -> TaskOutcome:
    """Build one brief; never raises for a bad brief (the result says why it failed)."""
    with _one_at_a_time:
        return _run_task(task)


def _run_task(task: BuildTask) -> TaskOutcome:
    from reportgen.build import timed_build_brief

    renderer = _renderer(task.template_dirs, task.theme)
    options: dict[str, Any] = {
        "renderer": renderer,
        "pdf": task.pdf,
        "now": task.generated,
        "strict": task.strict,
    }
    if not task.ship:
        with using_chart_cache(ChartCache(task.out_dir / CHART_DIR)):
            result = timed_build_brief(task.brief_dir, task.out_dir, **options)
        result.peak_mib = _peak_mib()
        return TaskOutcome(result)
    with (
        tempfile.TemporaryDirectory(prefix="reportgen-") as tmp,
        using_chart_cache(ChartCache(_worker_chart_dir())),
    ):
        scratch = Path(tmp)
        if task.previous is not None:
            write_atomic(scratch / task.brief_dir.name / SNAPSHOT_FILE, task.previous)
        result = timed_build_brief(task.brief_dir, scratch, **options)
        files = {}
        if result.ok:
            files = {
                p.relative_to(scratch).as_posix(): p.read_bytes()
                for p in sorted(scratch.rglob("*"))
                if p.is_file()
            }
        result.outputs = [task.out_dir / p.relative_to(scratch) for p in result.outputs]
    result.peak_mib = _peak_mib()
    return TaskOutcome(result, files)


def _peak_mib() -> float:
    """This process's peak resident memory so far: a worker's, in a pool."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_chart_dir() -> Path:
    """A remote worker's own chart cache, kept across tasks in its temp folder."""
    return Path(tempfile.gettempdir()) / f"reportgen-charts-{os.getuid()}"


def build_many(
    brief_dirs: Sequence[Path],
    out_dir: Path,
    options: BatchOptions = BatchOptions(),
    on_result: OnResult | None = None,
) -> BatchSummary:
    """Skip unchanged briefs, build the others; `on_result` hears of each brief as it ends."""
    start = time.perf_counter()
    report = on_result or (lambda result: None)
    results: dict[int, BuildResult] = {}
    pending: dict[int, str] = {}  # index -> input key, for the stamp once built
    common = batch_key(
        [*options.template_dirs, _builtin_templates()],
        pdf=options.pdf,
        theme=options.theme.fingerprint(),
    )
    for index, brief_dir in enumerate(brief_dirs):
        key = build_key(brief_dir, common)
        skipped = None if options.force else _skipped(brief_dir, out_dir, key)
        if skipped is not None and options.strict and skipped.warnings:
            skipped = None  # strict: rebuild, so that its warnings fail it
        if skipped is None:
            pending[index] = key
            continue
        results[index] = skipped
        report(skipped)
    workers, outcomes = _dispatch(brief_dirs, out_dir, options, list(pending))
    for index, outcome in outcomes:
        results[index] = _finish(outcome, out_dir, pending[index])
        report(results[index])
    ordered = [results[i] for i in range(len(brief_dirs))]
    return BatchSummary(ordered, time.perf_counter() - start, workers)


def _builtin_templates() -> Path:
    from reportgen.render.environment import builtin_templates

    return builtin_templates()


def _skipped(brief_dir: Path, out_dir: Path, key: str) -> BuildResult | None:
    """A 'skipped' result when the last good build used the same inputs and is intact."""
    from reportgen.build import BuildResult

    brief_id = brief_dir.resolve().name
    stamp = unchanged(out_dir, brief_id, key)
    if stamp is None:
        return None
    outputs = [out_dir / brief_id / name for name in stamp.outputs]
    return BuildResult(brief_dir, "skipped", list(stamp.problems), outputs)


def _dispatch(
    brief_dirs: Sequence[Path], out_dir: Path, options: BatchOptions, indices: list[int]
) -> tuple[str, Iterator[tuple[int, TaskOutcome]]]:
    """Choose where to build: Dask, a local pool, or this process (one brief or -j 1)."""
    if not indices:
        return "nothing to build", iter(())
    from reportgen.build import generated_time

    now = generated_time()

    def task(i: int, ship: bool = False) -> BuildTask:
        brief_dir, out = (
            (brief_dirs[i].resolve(), out_dir.resolve()) if ship else (brief_dirs[i], out_dir)
        )
        snapshot = out / brief_dir.name / SNAPSHOT_FILE
        previous = snapshot.read_bytes() if ship and snapshot.is_file() else None
        return BuildTask(
            brief_dir,
            out,
            now,
            options.pdf,
            options.template_dirs,
            ship,
            options.theme,
            options.strict,
            previous,
        )

    if options.dask:
        tasks = {i: task(i, ship=True) for i in indices}
        return f"Dask at {options.dask}", _on_dask(options.dask, tasks)
    jobs = min(options.jobs or os.cpu_count() or 1, len(indices))
    if jobs <= 1 and len(indices) <= BRIEFS_PER_WORKER:
        return "1 process", ((i, run_task(task(i))) for i in indices)
    workers = f"{jobs} worker process{'es' if jobs > 1 else ''}"
    return workers, _in_pools(jobs, {i: task(i) for i in indices})


def _in_pools(jobs: int, tasks: dict[int, BuildTask]) -> Iterator[tuple[int, TaskOutcome]]:
    """Fresh workers for every BRIEFS_PER_WORKER briefs each (not the pool's own
    max_tasks_per_child, which can hang on Python 3.11)."""
    items = list(tasks.items())
    step = jobs * BRIEFS_PER_WORKER
    for start in range(0, len(items), step):
        yield from _in_pool(jobs, dict(items[start : start + step]))


def _in_pool(jobs: int, tasks: dict[int, BuildTask]) -> Iterator[tuple[int, TaskOutcome]]:
    """Local worker processes, started by a fork server (safe when this process has threads)."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(
        jobs,
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.getcwd(),),
    ) as pool:
        futures = {pool.submit(run_task, task): i for i, task in tasks.items()}
        for future in as_completed(futures):
            i = futures[future]
            yield i, _outcome(future, tasks[i])


def _start_worker(cwd: str) -> None:
    """Work in the caller's folder, so relative paths and messages match a serial build."""
    os.chdir(cwd)


def _outcome(future: Any, task: BuildTask) -> TaskOutcome:
    """The task's outcome, or a failed result when the worker itself failed."""
    try:
        outcome: TaskOutcome = future.result()
    except Exception as exc:  # a crashed worker or a lost connection: report it, go on
        log.debug("worker failed on %s", task.brief_dir, exc_info=True)
        return _failed(task.brief_dir, f"worker failed: {type(exc).__name__}: {exc}")
    return outcome


def _failed(brief_dir: Path, message: str) -> TaskOutcome:
    from reportgen.brief.spec import BRIEF_FILE
    from reportgen.build import BuildResult

    return TaskOutcome(
        BuildResult(brief_dir, "failed", [Problem(brief_dir / BRIEF_FILE, None, "build", message)])
    )


def _on_dask(address: str, tasks: dict[int, BuildTask]) -> Iterator[tuple[int, TaskOutcome]]:
    """The same task on a Dask distributed cluster; outputs come back to this process."""
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as exc:
        raise BuildError("--dask needs Dask: pip install 'reportgen[dask]'") from exc
    try:
        _probe(address)
        client = Client(address, timeout=10, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BuildError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    with client:
        futures = {client.submit(run_task, task, pure=False): i for i, task in tasks.items()}
        for future in dask_completed(list(futures), loop=client.loop):
            i = futures[future]
            yield i, _outcome(future, tasks[i])


def _probe(address: str) -> None:
    """Fail at once, not after Dask's connect timeout, when nothing listens at a TCP address."""
    parts = urlsplit(address)
    if parts.scheme in ("tcp", "tls") and parts.hostname and parts.port:
        socket.create_connection((parts.hostname, parts.port), timeout=5).close()


def _finish(outcome: TaskOutcome, out_dir: Path, key: str) -> BuildResult:
    """Write shipped files, then the stamp that lets the next run skip an unchanged brief."""
    result = outcome.result
    for name, data in outcome.files.items():
        write_atomic(out_dir / name, data)
    if result.ok:
        write_stamp(out_dir, result.brief_id, key, result.outputs, result.warnings)
    return result


# Reporting: plain text and JSON, no click (the CLI prints them).


def result_line(result: BuildResult) -> str:
    """One line saying what happened to a brief."""
    if result.status == "skipped":
        return f"skipped {result.brief_id}: unchanged since the last build (--force rebuilds it)"
    if result.status == "failed":
        return f"failed {result.brief_id}: not built, previous output left in place"
    return f"built {result.brief_id}: " + ", ".join(str(p) for p in result.outputs)


def timings_line(result: BuildResult) -> str:
    """Seconds per stage, for --verbose."""
    stages = " ".join(f"{name} {seconds:.3f}s" for name, seconds in result.timings.items())
    return f"  {result.brief_id}: {stages}"


def result_json(result: BuildResult) -> str:
    """One machine-readable JSON object for a brief (one line)."""
    return json.dumps(
        {
            "brief": result.brief_id,
            "dir": str(result.brief_dir),
            "status": result.status,
            "outputs": [str(p) for p in result.outputs],
            "errors": [problem_dict(p) for p in result.errors],
            "warnings": [problem_dict(p) for p in result.warnings],
            "publishable": result.publishable,
            "open_findings": [problem_dict(p) for p in result.open_findings],
            "seconds": round(result.timings.get("total", 0.0), 4),
            "peak_mib": round(result.peak_mib, 1),
            "timings": {k: round(v, 4) for k, v in result.timings.items()},
        },
        ensure_ascii=False,
    )


def summary_table(summary: BatchSummary) -> str:
    """A table of every brief (result, seconds, why it failed) and one closing line."""
    width = max(len("brief"), *(len(r.brief_id) for r in summary.results))
    lines = [f"{'brief':<{width}}  {'result':<8} {'seconds':>7}  note"]
    for r in summary.results:
        seconds = f"{r.timings['total']:.2f}" if "total" in r.timings else "-"
        lines.append(f"{r.brief_id:<{width}}  {r.status:<8} {seconds:>7}  {_note(r)}".rstrip())
    counts = ", ".join(f"{summary.count(s)} {s}" for s in ("built", "skipped", "failed"))
    lines.append(
        f"{len(summary.results)} briefs: {counts} in {summary.seconds:.1f} s ({summary.workers})"
    )
    return "\n".join(lines)


def _note(result: BuildResult) -> str:
    if result.errors:
        first = result.errors[0]
        more = f" (+{len(result.errors) - 1} more)" if len(result.errors) > 1 else ""
        return f"{first.key}: {first.message}"[:90] + more
    if result.status == "skipped":
        return "unchanged"
    return f"{len(result.warnings)} warning(s)" if result.warnings else ""
