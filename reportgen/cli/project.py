"""./reportgen.toml as the commands read it: the config, and the rules a brief is judged by.

Its own module because `check` (reportgen.cli) and `review` (reportgen.cli.review, which
reportgen.cli imports) both judge a brief as `build` will in this project.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from reportgen.brief.market import Rating
    from reportgen.config import Config, Limits, VerdictConfig


def config_or_exit() -> Config:
    """./reportgen.toml (defaults when there is none); one line and exit 1 when it is bad."""
    from reportgen.config import load_config
    from reportgen.errors import ReportgenError

    try:
        return load_config()
    except ReportgenError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def project_rules() -> tuple[Limits, tuple[Rating, ...] | None, VerdictConfig]:
    """The [limits], the [compliance] rating scale and the [verdict] thresholds of
    ./reportgen.toml (one line and exit 1 when the config, its theme or its back matter is bad)."""
    from reportgen.errors import ReportgenError
    from reportgen.project import load_project

    config = config_or_exit()
    try:
        project = load_project(config)
    except ReportgenError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    return project.limits, project.ratings, project.verdict
