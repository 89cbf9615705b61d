"""Local worker processes that give each task a deadline and an address-space ceiling.

One pathological brief must not stall a night: a worker's address space is capped
(RLIMIT_AS: an allocation past it fails with MemoryError instead of swapping), a
worker whose task outlives its deadline is killed and replaced, and a worker that
dies fails only its task. Workers fork from a fork server that has imported the heavy
libraries, and are replaced after `per_worker` tasks so WeasyPrint's growth never adds up.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import resource
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing import forkserver
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # not at run time: `reportgen build` starts the fork server before the
    # config's models are built (pydantic: 0.08 s sooner, on a cold build's critical path)
    from reportgen.config import BuildConfig

log = logging.getLogger(__name__)

Task = TypeVar("Task")
Result = TypeVar("Result")

# Imported once by the fork server, so a fresh worker starts warm (each is forked from it).
PRELOAD = [
    "reportgen.batch",
    "reportgen.pdf.verify",
    "reportgen.pdf.layout",
    "reportgen.pdf.engine",  # weasyprint
    "pandas",
    "matplotlib.figure",
    "matplotlib.backends.backend_svg",
]


@dataclass(frozen=True)
class Ceilings:
    """Per-brief ceilings of a batch build; 0 turns one off."""

    seconds: float  # [build].timeout / --timeout
    memory_mib: int  # [build].memory_limit / --memory-limit

    @classmethod
    def of(cls, build: BuildConfig) -> Ceilings:
        """The [build] ceilings of reportgen.toml."""
        return cls(build.timeout, build.memory_limit)

    def timeout_message(self) -> str:
        return (
            f"not finished after {self.seconds:g} s, stopped "
            "(raise the limit with [build].timeout in reportgen.toml or --timeout)"
        )

    def died_message(self, exitcode: int | None) -> str:
        how = f"exit status {exitcode}"
        if exitcode is not None and exitcode < 0:
            how = f"killed by {signal.Signals(-exitcode).name}"
        ceiling = f"{self.memory_mib} MiB" if self.memory_mib else "none"
        return (
            f"the worker building it died ({how}); memory limit {ceiling} "
            "(raise it with [build].memory_limit in reportgen.toml or --memory-limit)"
        )


class _Worker(Generic[Task, Result]):
    """One worker process and the task it holds."""

    def __init__(self, context: Any, run: Callable[[Task], Result], ceilings: Ceilings):
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, run, ceilings.memory_mib, os.getcwd()), daemon=True
        )
        self.process.start()
        child.close()
        self.done = 0
        self.index: int | None = None
        self.deadline = 0.0

    def give(self, index: int, task: Task, seconds: float) -> None:
        self.index, self.deadline = index, time.monotonic() + seconds if seconds else float("inf")
        self.conn.send((index, task))

    def stop(self, kill: bool = False) -> None:
        """Ask the worker to exit (or kill it), and wait for it."""
        if not kill:
            try:
                self.conn.send(None)
            except OSError:
                kill = True
        if kill:
            self.process.kill()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def run_limited(
    tasks: dict[int, Task],
    run: Callable[[Task], Result],
    failed: Callable[[Task, str], Result],
    *,
    jobs: int,
    ceilings: Ceilings,
    per_worker: int,
) -> Iterator[tuple[int, Result]]:
    """Run `run(task)` for each task in at most `jobs` workers; yield (index, result) as each
    ends. A task over its deadline, or whose worker died, yields `failed(task, why)`."""
    global _early
    context, _early = _context(), False  # the fork server is used
    queue = deque(tasks.items())
    idle: list[_Worker[Task, Result]] = []
    busy: dict[Connection, _Worker[Task, Result]] = {}
    try:
        while queue or busy:
            while queue and len(busy) < jobs:
                worker = idle.pop() if idle else _Worker(context, run, ceilings)
                index, task = queue.popleft()
                worker.give(index, task, ceilings.seconds)
                busy[worker.conn] = worker
            yield from _collect(busy, idle, tasks, failed, ceilings, per_worker)
    finally:
        for worker in [*idle, *busy.values()]:
            worker.stop(kill=worker in busy.values())


_early = False  # a fork server started by start_early that no task has used yet


def start_early() -> None:
    """Start the fork server now, so that its imports (WeasyPrint, matplotlib, pandas: about
    2 s) run on another core while this process reads the project and checks which briefs
    changed. `stop_unused` ends it when nothing needed building."""
    global _early
    _context()
    # Started ignoring Ctrl-C (as it would once running): the command stops it, and its
    # workers, itself, instead of each printing a KeyboardInterrupt from its imports.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)
    _early = True


def stop_unused() -> None:
    """End a fork server `start_early` started for a build that built nothing: its imports
    would go on using a core after this process is done (the next unchanged rebuild of 100
    briefs took 1.4 s instead of 0.8 s). A later build starts a new one."""
    global _early
    server = getattr(forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if _early and pid is not None:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            # dead before we go on, else a build at once in this process would find it still
            # alive and fail: left unreaped for multiprocessing to reap and start anew, or,
            # where there is no os.waitid (macOS), reaped and forgotten by its own _stop
            if hasattr(os, "waitid"):
                os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
            else:
                server._stop()  # type: ignore[union-attr]
    _early = False


def _context() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def _collect(
    busy: dict[Connection, _Worker[Task, Result]],
    idle: list[_Worker[Task, Result]],
    tasks: dict[int, Task],
    failed: Callable[[Task, str], Result],
    ceilings: Ceilings,
    per_worker: int,
) -> Iterator[tuple[int, Result]]:
    """Wait until a worker answers, dies or overruns its deadline; settle each one."""
    first = min(w.deadline for w in busy.values())
    timeout = None if first == float("inf") else max(0.0, first - time.monotonic())
    for conn in wait(list(busy), timeout):
        worker = busy.pop(conn)  # type: ignore[call-overload]
        assert worker.index is not None
        try:
            index, result = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(timeout=10)
            log.warning("worker %s died", worker.process.pid)
            why = ceilings.died_message(worker.process.exitcode)
            yield worker.index, failed(tasks[worker.index], why)
            worker.stop(kill=True)
            continue
        yield index, result
        worker.done += 1
        if worker.done >= per_worker:
            worker.stop()
        else:
            idle.append(worker)
    now = time.monotonic()
    for conn, worker in list(busy.items()):
        if worker.deadline <= now:
            del busy[conn]
            worker.stop(kill=True)
            assert worker.index is not None
            yield worker.index, failed(tasks[worker.index], ceilings.timeout_message())


def _serve(conn: Connection, run: Callable[[Any], Any], memory_mib: int, cwd: str) -> None:
    """A worker: cap the address space, then run tasks until told to stop.

    The 160,000 objects the fork server imported are frozen out of the garbage
    collector's sight (it stops re-scanning them: a tenth of a brief's time went to
    collections), and a brief's own garbage is collected once it is answered, so
    the next brief starts from the same memory (peak over ten briefs 186 -> 170 MiB)."""
    os.chdir(cwd)  # relative paths and messages match a serial build
    gc.freeze()
    if memory_mib:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = memory_mib << 20 if hard == resource.RLIM_INFINITY else min(memory_mib << 20, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    while True:
        try:
            item = conn.recv()
        except EOFError:
            return
        if item is None:
            return
        index, task = item
        conn.send((index, run(task)))
        gc.collect()
