"""What the commands share: the briefs they are given, and an error as one line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from reportgen.brief.spec import find_briefs
from reportgen.errors import ReportgenError

DEFAULT_BRIEFS = Path("seeds")
DEFAULT_OUT = Path("build")

T = TypeVar("T")


def or_exit(action: Callable[[], T]) -> T:
    """What `action` returns; its ReportgenError as one line and exit 1, never a traceback."""
    try:
        return action()
    except ReportgenError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def brief_dirs(briefs: tuple[Path, ...]) -> list[Path]:
    """The brief folders under `briefs` (default: seeds/); a usage error when there is none."""
    briefs = briefs or (DEFAULT_BRIEFS,)
    if not (found := find_briefs(briefs)):
        raise click.UsageError(f"no briefs found under {', '.join(map(str, briefs))}")
    return found
