"""The one orchestrator: many briefs at once, for `reportgen build` and `reportgen nightly`.

Unchanged briefs are skipped (`cache.unchanged`); the others are made by `run_task`,
which writes nothing, in local workers within per-brief ceilings (`reportgen.workers`)
or on a Dask cluster (`--dask tcp://host:8786`). Only this process writes
(`output.write_built`), and every result is byte-identical to a serial build's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import resource
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from reportgen.brief.spec import BRIEF_FILE
from reportgen.build import failure, make_brief
from reportgen.cache import batch_key, build_key, tree_digest, unchanged
from reportgen.config import DEFAULT_MEMORY_MIB, DEFAULT_SECONDS
from reportgen.errors import BuildError, Problem
from reportgen.output import Inputs, write_built
from reportgen.project import Project, pinned_time
from reportgen.record import BuildResult, Built
from reportgen.render.changes import Snapshot, load_snapshot
from reportgen.render.charts import REDRAW
from reportgen.render.environment import builtin_templates
from reportgen.workers import Ceilings, run_limited

log = logging.getLogger(__name__)

OnResult = Callable[[BuildResult], None]
# (out_dir, brief_id) -> the snapshot of the edition readers last received: delivery's
# answer (publish.editions), handed to the build by its caller as a value.
Delivered = Callable[[Path, str], Snapshot | None]

# WeasyPrint (with Pango) keeps about half a MiB per PDF it writes, whatever we
# share or free; a fresh worker after this many briefs keeps memory flat.
BRIEFS_PER_WORKER = 50

# Sections of reportgen.toml that never change what a page shows, and the back matter's
# figures that follow the other briefs of the project.
NOT_PAGE = {"path", "build", "smtp", "mail", "schedule", "limits"}
PROJECT_WIDE = {"distribution", "covered", "rated"}


def page_digest(project: Project, templates: list[str] | None = None) -> str:
    """What of the project shapes every page: the theme (logo embedded), the back matter
    (disclosures as shown; not the ratings distribution: another brief's call makes no new
    edition of this one), the other page sections and the templates (or their `templates`)."""
    if templates is None:
        templates = [tree_digest(d) for d in project.template_dirs if d.is_dir()]
    back = asdict(project.back_matter) if project.back_matter else {}
    page = [
        asdict(project.theme),
        {key: value for key, value in back.items() if key not in PROJECT_WIDE},
        project.config.model_dump(mode="json", exclude=NOT_PAGE),
    ]
    parts = [json.dumps(page, sort_keys=True, default=str), *templates]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class BatchOptions:
    """How to build a batch; the defaults are what `reportgen build` does."""

    pdf: bool = True
    jobs: int | None = None  # worker processes; None: one per core
    force: bool = False  # rebuild even briefs whose inputs are unchanged
    dask: str | None = None  # a Dask scheduler address: build there instead
    strict: bool = False  # warnings fail a brief (an unchanged brief with warnings is rebuilt)
    ceilings: Ceilings = field(  # per-brief time and memory
        default_factory=lambda: Ceilings(DEFAULT_SECONDS, DEFAULT_MEMORY_MIB)
    )
    delivered: Delivered | None = None  # what readers last received, for "Changes since"


@dataclass(frozen=True)
class BuildTask:
    """One brief to make: the unit of work sent to a worker, local or remote."""

    brief_dir: Path
    project: Project  # its clock pinned: one time stamp for the batch, whichever machine builds
    previous: Snapshot | None  # what the changes box compares with
    pdf: bool = True
    strict: bool = False
    where: Path | None = None  # where the PDF goes, named in verification messages


@dataclass
class BatchSummary:
    """Every result in the order the briefs were given, and how the batch ran."""

    results: list[BuildResult]
    seconds: float
    workers: str  # "1 worker process", "Dask at tcp://..."

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)


# matplotlib's rc settings are process-wide: a Dask worker with several threads
# must not draw two briefs at once. Parallelism comes from processes.
_one_at_a_time = threading.Lock()


def run_task(task: BuildTask) -> Built:
    """Make one brief, with its process's peak memory; a bad brief is a failed Built."""
    with _one_at_a_time:
        built = make_brief(**vars(task))  # a task's fields are make_brief's arguments
    built.peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return built


def _written(built: Built, out_dir: Path, inputs: Inputs) -> BuildResult:
    """Write a good Built; a failed write fails the brief and the previous output stays whole."""
    result = BuildResult(
        built.brief_dir, "failed", built.problems, timings=built.timings, peak_mib=built.peak_mib
    )
    if not built.ok:
        return result
    start = time.perf_counter()
    try:
        outputs = write_built(built, out_dir, inputs)
    except OSError as exc:
        where = built.brief_dir / BRIEF_FILE
        why = Problem(where, None, "write", f"cannot write {out_dir}: {exc.strerror or exc}")
        return replace(result, problems=[*built.problems, why])
    seconds = time.perf_counter() - start
    timings = {k: v for k, v in built.timings.items() if k != "total"}
    timings |= {"write": seconds, "total": built.timings.get("total", 0.0) + seconds}
    return replace(
        result,
        status="built",
        outputs=outputs,
        timings=timings,
        built=built,
        digest=inputs.digest,
        publishable=built.publishable,
    )


def build_many(
    brief_dirs: Sequence[Path],
    out_dir: Path,
    project: Project,
    options: BatchOptions = BatchOptions(),
    on_result: OnResult | None = None,
) -> BatchSummary:
    """Skip unchanged briefs, build the others; `on_result` hears of each brief as it ends."""
    start = time.perf_counter()
    report = on_result or (lambda result: None)
    results: dict[int, BuildResult] = {}
    pending: dict[int, Inputs] = {}
    templates = [tree_digest(d) for d in project.template_dirs if d.is_dir()]  # read once
    page = page_digest(project, templates)
    # the look, the back matter and [verdict]: not the whole page config, whose other keys
    # (retention_days, a path) would make a new edition of an unchanged page
    back = asdict(project.back_matter) if project.back_matter else None
    look = [asdict(project.theme), back, project.config.verdict.model_dump()]
    common = batch_key(
        [*templates, tree_digest(builtin_templates())],
        pdf=options.pdf,
        theme=json.dumps(look, sort_keys=True, default=str),
        clock=pinned_time(project.clock),
    )
    for index, brief_dir in enumerate(brief_dirs):
        try:
            digest = tree_digest(brief_dir)
        except Exception as exc:  # an unreadable folder is this brief's failure
            results[index] = BuildResult(brief_dir, "failed", failure(brief_dir, exc, "brief"))
        else:
            inputs = Inputs(build_key(digest, common), digest, page)
            skipped = _skipped(brief_dir, out_dir, inputs, options)
            if skipped is None:
                pending[index] = inputs
                continue
            results[index] = skipped
        report(results[index])
    workers, made = _dispatch(brief_dirs, out_dir, project, options, list(pending))
    for index, built in made:
        results[index] = _written(built, out_dir, pending[index])
        report(results[index])
    ordered = [results[i] for i in range(len(brief_dirs))]
    return BatchSummary(ordered, time.perf_counter() - start, workers)


def _skipped(
    brief_dir: Path, out: Path, inputs: Inputs, options: BatchOptions
) -> BuildResult | None:
    """A 'skipped' result when the last good build used the same inputs and is intact (unless
    forced; strict: a brief with warnings is rebuilt, so that they fail it)."""
    brief_id = brief_dir.resolve().name
    record = None if options.force else unchanged(out, brief_id, inputs.key)
    if record is None or (options.strict and record.problems):
        return None
    outputs = [out / brief_id / name for name in record.outputs if not name.startswith(".")]
    return BuildResult(
        brief_dir,
        "skipped",
        list(record.problems),
        outputs,
        digest=inputs.digest,
        publishable=record.publishable,
    )


def _dispatch(
    brief_dirs: Sequence[Path],
    out_dir: Path,
    project: Project,
    options: BatchOptions,
    indices: list[int],
) -> tuple[str, Iterator[tuple[int, Built]]]:
    """Choose where to build: Dask, or local workers with the per-brief limits."""
    if not indices:
        return "nothing to build", iter(())
    remote = options.dask is not None
    # one stamp for the batch; a remote machine cannot share this machine's chart folder
    pinned = replace(project, clock=project.now(), charts=REDRAW if remote else project.charts)

    def task(i: int) -> BuildTask:
        brief_dir = brief_dirs[i].resolve() if remote else brief_dirs[i]
        brief_id = brief_dirs[i].resolve().name
        # "Changes since" the edition readers last received, else the last build (issue 11)
        delivered = options.delivered and options.delivered(out_dir, brief_id)
        previous = delivered or load_snapshot(out_dir / brief_id)
        where = out_dir / brief_id / f"{brief_id}.pdf"
        return BuildTask(brief_dir, pinned, previous, options.pdf, options.strict, where)

    tasks = {i: task(i) for i in indices}
    if options.dask:
        return f"Dask at {options.dask}", _on_dask(options.dask, tasks, options.ceilings)
    jobs = min(options.jobs or os.cpu_count() or 1, len(indices))
    ceilings, per_worker = options.ceilings, BRIEFS_PER_WORKER
    made = run_limited(
        tasks, run_task, _failed, jobs=jobs, ceilings=ceilings, per_worker=per_worker
    )
    return f"{jobs} worker process{'es' if jobs > 1 else ''}", made


def run_within(task: BuildTask, ceilings: Ceilings) -> Built:
    """One brief in a worker process under the ceilings, as a batch makes each of its briefs:
    the preview's path, and a Dask worker's. A process that may not start one (a Dask worker
    started as a daemon, distributed.worker.daemon) makes it itself, within Dask's limits."""
    if multiprocessing.current_process().daemon:
        return run_task(task)
    try:
        [(_, built)] = run_limited(
            {0: task}, run_task, _failed, jobs=1, ceilings=ceilings, per_worker=1
        )
    except OSError as exc:  # no process could be started (fork refused, out of PIDs)
        return _failed(task, f"could not start a worker process: {exc}")
    return built


def _failed(task: BuildTask, message: str) -> Built:
    problem = Problem(task.brief_dir / BRIEF_FILE, None, "build", message)
    return Built(task.brief_dir, task.brief_dir.resolve().name, [problem])


def _on_dask(
    address: str, tasks: dict[int, BuildTask], ceilings: Ceilings
) -> Iterator[tuple[int, Built]]:
    """The same tasks, within the same ceilings, on a Dask cluster; each Built comes back."""
    try:
        from distributed import Client  # lazy: Dask is optional and slow to import
        from distributed import as_completed as dask_completed
    except ImportError as exc:
        raise BuildError("--dask needs Dask: pip install 'reportgen[dask]'") from exc
    try:
        _probe(address)
        client = Client(address, timeout=10, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BuildError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    with client:
        submit = client.submit
        futures = {submit(run_within, task, ceilings, pure=False): i for i, task in tasks.items()}
        for future in dask_completed(list(futures), loop=client.loop):
            i = futures[future]
            try:
                built = future.result()
            except Exception as exc:  # a crashed worker or a lost connection: report it, go on
                log.debug("worker failed on %s", tasks[i].brief_dir, exc_info=True)
                built = _failed(tasks[i], f"worker failed: {type(exc).__name__}: {exc}")
            yield i, built


def _probe(address: str) -> None:
    """Fail at once, not after Dask's connect timeout, when nothing listens at a TCP address."""
    parts = urlsplit(address)
    if parts.scheme in ("tcp", "tls") and parts.hostname and parts.port:
        socket.create_connection((parts.hostname, parts.port), timeout=5).close()
