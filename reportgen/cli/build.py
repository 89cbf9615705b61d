"""`reportgen build`: briefs into HTML and PDF, in worker processes within the ceilings.

The one command that imports inside its function: the workers' fork server is
started first, and the build core is imported while it starts (imports at the
top would run before it, on the critical path of a cold build).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from reportgen.cli import DEFAULT_OUT, brief_dirs, or_exit, templates_option
from reportgen.workers import Ceilings, start_early, stop_unused


@click.command()
@click.argument("briefs", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: [build].out of ./reportgen.toml, else build).",
)
@click.option("--html-only", is_flag=True, help="Skip the PDF (faster previews).")
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: one per core)."
)
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    help="Build on a Dask distributed cluster instead, e.g. tcp://host:8786.",
)
@click.option("--force", is_flag=True, help="Rebuild briefs whose inputs are unchanged too.")
@click.option("-q", "--quiet", is_flag=True, help="Print only failures.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object per brief, nothing else."
)
@click.option("-v", "--verbose", is_flag=True, help="Also print seconds per stage for each brief.")
@templates_option
@click.option("--strict", is_flag=True, help="Every warning is an error (for the nightly job).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    help="Seconds one brief may take before it is stopped (default: [build].timeout; 0: none).",
)
@click.option(
    "--memory-limit",
    type=click.IntRange(min=0),
    help="MiB of address space one brief may use (default: [build].memory_limit; 0: none).",
)
def build(
    briefs: tuple[Path, ...],
    out: Path | None,
    html_only: bool,
    jobs: int | None,
    dask_address: str | None,
    force: bool,
    quiet: bool,
    as_json: bool,
    verbose: bool,
    templates: Path | None,
    strict: bool,
    timeout: float | None,
    memory_limit: int | None,
) -> None:
    """Build briefs (default: [build].briefs of ./reportgen.toml, else every brief under
    seeds/) into OUT/<id>/<id>.html and .pdf.

    Briefs whose inputs, templates and reportgen version are unchanged since
    their last good build are skipped; the others build in parallel, each
    within a time and memory limit.
    """
    if dask_address is None:
        start_early()  # the workers' imports overlap with ours and the project's reading
        click.get_current_context().call_on_close(stop_unused)  # however the command ends

    # Imported only now, so that these imports (0.3 s) overlap with the workers' start.
    from reportgen.batch import BatchOptions, build_many
    from reportgen.cache import CHART_DIR, ChartCache
    from reportgen.cli.report import BuildReport
    from reportgen.config import load_config
    from reportgen.project import load_project
    from reportgen.publish.editions import last_delivered_snapshot

    config = or_exit(load_config)
    # [build].briefs and .out when reportgen.toml names them; else seeds/ and build/
    found = tuple(config.resolve(b) for b in config.build.briefs) if config.path else ()
    dirs = brief_dirs(briefs or found)
    out = out or (config.resolve(config.build.out) if config.path else DEFAULT_OUT)
    ceilings = Ceilings(
        config.build.timeout if timeout is None else timeout,
        config.build.memory_limit if memory_limit is None else memory_limit,
    )
    options = BatchOptions(
        pdf=not html_only,
        jobs=jobs,
        force=force,
        dask=dask_address,
        strict=strict,
        ceilings=ceilings,
        delivered=last_delivered_snapshot,
    )
    project = or_exit(lambda: load_project(config, templates, charts=ChartCache(out / CHART_DIR)))
    report = BuildReport(len(dirs), quiet=quiet, as_json=as_json, verbose=verbose)
    with report.bar or contextlib.nullcontext():
        summary = or_exit(lambda: build_many(dirs, out, project, options, report.result))
    report.summary(summary)
    sys.exit(1 if summary.count("failed") else 0)
