"""Worker processes with a deadline and a memory ceiling: one bad task never stalls the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from reportgen.workers import Ceilings, run_limited


def behave(task: str) -> str:
    """A task that finishes, hangs, eats memory or crashes its worker (run in a worker)."""
    if task == "hang":
        time.sleep(3600)
    if task == "eat":
        try:
            bytearray(1024 * 1024 * 1024)  # 1 GiB, over the 512 MiB ceiling below
        except MemoryError:
            return "eat: MemoryError"
        return "eat: allocated"
    if task == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    return f"{task}: done"


def failed(task: str, why: str) -> str:
    return f"{task}: failed: {why}"


def test_a_task_over_its_deadline_or_ceiling_fails_alone() -> None:
    tasks = dict(enumerate(["one", "hang", "eat", "crash", "two", "three"]))
    results = dict(
        run_limited(
            tasks,
            behave,
            failed,
            jobs=2,
            ceilings=Ceilings(seconds=8, memory_mib=512),
            per_worker=2,
        )
    )
    assert results[0] == "one: done"
    assert results[1].startswith("hang: failed: not finished after 8 s")
    assert "--timeout" in results[1]
    assert results[2] == "eat: MemoryError"
    assert "crash: failed: the worker building it died (killed by SIGSEGV)" in results[3]
    assert "--memory-limit" in results[3]
    assert results[4] == "two: done" and results[5] == "three: done"


def test_no_limits_means_none() -> None:
    results = dict(
        run_limited({0: "eat"}, behave, failed, jobs=1, ceilings=Ceilings(0, 0), per_worker=1)
    )
    assert results == {0: "eat: allocated"}


EARLY_PROBE = """
import time
from multiprocessing import forkserver
from reportgen.workers import start_early, stop_unused
start_early()
pid = forkserver._forkserver._forkserver_pid
stop_unused()
for _ in range(100):
    state = open(f"/proc/{pid}/status").read().split("State:")[1].split()[0]
    if state == "Z":
        break
    time.sleep(0.02)
print(state)
"""


def test_a_fork_server_started_early_for_nothing_is_stopped() -> None:
    """`reportgen build` starts the workers' fork server first; when every brief turns
    out unchanged it must not go on importing (2 s of a core) after the command ends."""
    run = subprocess.run(
        [sys.executable, "-c", EARLY_PROBE], capture_output=True, text=True, check=True
    )
    assert run.stdout.split() == ["Z"]  # dead at once (a zombie until reaped), not importing


AGAIN_PROBE = """
import operator
from reportgen.workers import Ceilings, run_limited, start_early, stop_unused
start_early()
stop_unused()
print(dict(run_limited({0: 3}, operator.neg, operator.add, jobs=1, ceilings=Ceilings(60, 0), per_worker=1)))
"""


def test_a_build_right_after_a_stopped_fork_server_starts_a_new_one() -> None:
    """In one process (the tests, a library caller): the killed fork server must not look
    alive to the next build, which would fail with EOFError."""
    run = subprocess.run(
        [sys.executable, "-c", AGAIN_PROBE], capture_output=True, text=True, timeout=120
    )
    assert run.stdout.split() == ["{0:", "-3}"], run.stderr
