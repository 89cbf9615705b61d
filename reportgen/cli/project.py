"""./reportgen.toml as the commands read it: the config, and the rules a brief is judged by.

Its own module because `check` (reportgen.cli) and `review` (reportgen.cli.review, which
reportgen.cli imports) both judge a brief as `build` will in this project.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from reportgen.errors import ReportgenError

if TYPE_CHECKING:
    from reportgen.brief.market import Rating
    from reportgen.config import Config, Limits, VerdictConfig

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
    from reportgen.config import load_config

    return or_exit(load_config)


def project_rules() -> tuple[Limits, tuple[Rating, ...] | None, VerdictConfig]:
    """The [limits], the [compliance] rating scale and the [verdict] thresholds of
    ./reportgen.toml (one line and exit 1 when the config, its theme or its back matter is bad)."""
    from reportgen.project import load_project

    config = config_or_exit()
    project = or_exit(lambda: load_project(config))
    return project.limits, project.ratings, project.verdict
