"""One nightly or send run at a time per output folder: an exclusive, non-blocking flock."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reportgen.errors import LockHeld
from reportgen.publish.statedb import STATE_DIR

LOCK_FILE = "run.lock"


@contextmanager
def run_lock(out_dir: Path) -> Iterator[Path]:
    """Hold `<out>/.reportgen/run.lock`; the kernel frees it when the process dies."""
    path = out_dir / STATE_DIR / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise LockHeld(
                f"{path}: another reportgen run holds the lock (pid {holder}); exiting"
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield path
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
