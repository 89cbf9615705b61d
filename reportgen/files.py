"""Writing files so that a reader sees the old bytes or the new, never half of them.

The build's outputs go through output.py (a whole version switched at once); every
other file reportgen keeps (review.yaml, editions, the chart cache, .eml files,
schedule units) is replaced with `write_atomic`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_file(path: Path, data: bytes) -> None:
    """Write and fsync one new file (output.py's seam through which tests fill the disk)."""
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o644)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a new file beside `path`, then os.replace it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        write_file(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
