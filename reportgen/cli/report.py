"""How `reportgen build` reports as it goes: a progress bar on a terminal, else a line per
brief, then a summary table; or one JSON object per brief.

Names come from folder names, which may hold any character: every one is
printed through `one_line`, so a folder called "a\\nbuilt b" cannot forge a line.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from reportgen.batch import BatchSummary
from reportgen.errors import one_line
from reportgen.record import BuildResult, problem_dict


class BuildReport:
    """Each brief's result as it ends: a progress bar on a terminal, else a line each."""

    def __init__(self, total: int, *, quiet: bool, as_json: bool, verbose: bool):
        self.total, self.quiet, self.as_json, self.verbose = total, quiet, as_json, verbose
        use_bar = sys.stdout.isatty() and not (quiet or as_json or verbose) and total > 1
        self.bar: Any = None  # entered by the caller around the build
        if use_bar:
            self.bar = click.progressbar(
                length=total, label="building", show_pos=True, item_show_func=lambda item: item
            )
        self.held: list[BuildResult] = []  # failures, printed once the bar is done

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
        if self.verbose and result.timings:  # seconds per stage
            stages = " ".join(f"{name} {seconds:.3f}s" for name, seconds in result.timings.items())
            click.echo(f"  {one_line(result.brief_id)}: {stages}")

    def summary(self, summary: BatchSummary) -> None:
        for result in self.held:
            self.lines(result)
        if self.total > 1 and not (self.quiet or self.as_json):
            click.echo(summary_table(summary))


def result_line(result: BuildResult) -> str:
    """One line saying what happened to a brief (and, for a draft, which findings are open)."""
    name = one_line(result.brief_id)
    if result.status == "failed":
        return f"failed {name}: not built, previous output left in place"
    if result.status == "skipped":
        line = f"skipped {name}: unchanged since the last build (--force rebuilds it)"
    else:
        line = f"built {name}: " + ", ".join(one_line(str(p)) for p in result.outputs)
    if result.publishable:
        return line
    keys = ", ".join(one_line(p.finding or p.key) for p in result.open_findings)
    return f"{line}; DRAFT, never emailed: open {keys or 'findings'} (see reportgen review)"


def result_json(result: BuildResult) -> str:
    """One machine-readable JSON object for a brief (one line: json escapes control characters)."""
    return json.dumps(
        {
            "brief": result.brief_id,
            "dir": str(result.brief_dir),
            "status": result.status,
            "outputs": [str(p) for p in result.outputs],
            "errors": [problem_dict(p) for p in result.errors],
            "warnings": [problem_dict(p) for p in result.warnings],
            "publishable": result.publishable,
            "open_findings": [problem_dict(p) for p in result.open_findings],
            "seconds": round(result.timings.get("total", 0.0), 4),
            "peak_mib": round(result.peak_mib, 1),
            "timings": {k: round(v, 4) for k, v in result.timings.items()},
        },
        ensure_ascii=False,
    )


def summary_table(summary: BatchSummary) -> str:
    """A table of every brief (result, seconds, why it failed) and one closing line."""
    names = [one_line(r.brief_id) for r in summary.results]
    width = max(len("brief"), *(len(n) for n in names))
    lines = [f"{'brief':<{width}}  {'result':<8} {'seconds':>7}  note"]
    for name, r in zip(names, summary.results, strict=True):
        seconds = f"{r.timings['total']:.2f}" if "total" in r.timings else "-"
        lines.append(f"{name:<{width}}  {r.status:<8} {seconds:>7}  {_note(r)}".rstrip())
    counts = ", ".join(f"{summary.count(s)} {s}" for s in ("built", "skipped", "failed"))
    lines.append(
        f"{len(summary.results)} briefs: {counts} in {summary.seconds:.1f} s ({summary.workers})"
    )
    return "\n".join(lines)


def _note(result: BuildResult) -> str:
    if result.errors:
        first = result.errors[0]
        more = f" (+{len(result.errors) - 1} more)" if len(result.errors) > 1 else ""
        return one_line(f"{first.key}: {first.message}")[:90] + more
    if result.status == "skipped":
        return "unchanged"
    return f"{len(result.warnings)} warning(s)" if result.warnings else ""
