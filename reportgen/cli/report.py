"""How `reportgen build` reports as it goes: a progress bar on a terminal, else a line per
brief, then a summary table; the text itself comes from cli/summary.py."""

from __future__ import annotations

import sys
from typing import Any

import click

from reportgen.batch import BatchSummary
from reportgen.built import BuildResult
from reportgen.cli.summary import result_json, result_line, summary_table, timings_line


class BuildReport:
    """Each brief's result as it ends: a progress bar on a terminal, else a line each."""

    def __init__(self, total: int, *, quiet: bool, as_json: bool, verbose: bool):
        self.total, self.quiet, self.as_json, self.verbose = total, quiet, as_json, verbose
        use_bar = sys.stdout.isatty() and not (quiet or as_json or verbose) and total > 1
        self.bar: Any = (
            click.progressbar(
                length=total, label="building", show_pos=True, item_show_func=lambda item: item
            )
            if use_bar
            else None
        )
        self.held: list[BuildResult] = []  # failures, printed once the bar is done

    def __enter__(self) -> BuildReport:
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def result(self, result: BuildResult) -> None:
        if self.as_json:
            click.echo(result_json(result))
        elif self.bar is not None:
            self.bar.update(1, result.brief_id)
            self.held += [result] if not result.ok else []
        elif not self.quiet or not result.ok:
            self.lines(result)

    def lines(self, result: BuildResult) -> None:
        for problem in result.problems if not self.quiet else result.errors:
            click.echo(str(problem), err=True)
        click.echo(result_line(result), err=not result.ok)
        if self.verbose and result.timings:
            click.echo(timings_line(result))

    def summary(self, summary: BatchSummary) -> None:
        for result in self.held:
            self.lines(result)
        if self.total > 1 and not (self.quiet or self.as_json):
            click.echo(summary_table(summary))
