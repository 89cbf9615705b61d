"""./reportgen.toml as the commands read it, and the briefs they are given.

Light on purpose: `build` reads these before its heavy imports, which overlap
with the workers' start (see cli/build.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from reportgen.brief.spec import find_briefs
from reportgen.config import Config, load_config
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


def config_or_exit() -> Config:
    """./reportgen.toml (defaults when there is none); one line and exit 1 when it is bad."""
    return or_exit(load_config)


def brief_dirs(briefs: tuple[Path, ...]) -> list[Path]:
    found = find_briefs(briefs or (DEFAULT_BRIEFS,))
    if not found:
        raise click.UsageError(
            f"no briefs found under {', '.join(map(str, briefs or (DEFAULT_BRIEFS,)))}"
        )
    return found
