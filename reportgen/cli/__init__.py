"""The command line: parse options, call the library, map results to exit codes.

Exit status: 0 all good, 1 a brief failed or has errors, 2 usage error.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reportgen import __version__
from reportgen.cli.delivery import DELIVERY_COMMANDS
from reportgen.cli.project import config_or_exit as _config_or_exit
from reportgen.cli.project import or_exit, project_rules
from reportgen.cli.review import review
from reportgen.errors import ReportgenError

if TYPE_CHECKING:
    from reportgen.config import Config

DEFAULT_BRIEFS = Path("seeds")
DEFAULT_OUT = Path("build")


def _brief_dirs(briefs: tuple[Path, ...]) -> list[Path]:
    from reportgen.brief.spec import find_briefs

    found = find_briefs(briefs or (DEFAULT_BRIEFS,))
    if not found:
        raise click.UsageError(
            f"no briefs found under {', '.join(map(str, briefs or (DEFAULT_BRIEFS,)))}"
        )
    return found


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reportgen")
def main() -> None:
    """Turn curated company data into a polished investment brief (HTML and PDF)."""


@main.command()
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
@click.option(
    "--templates",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of template overrides (default: ./templates when present).",
)
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
    from reportgen.workers import Ceilings, start_early, stop_unused

    if dask_address is None:
        start_early()  # the workers' imports overlap with ours and the project's reading
        click.get_current_context().call_on_close(stop_unused)  # however the command ends

    from reportgen.batch import BatchOptions, BatchSummary, build_many
    from reportgen.cache import CHART_DIR, ChartCache
    from reportgen.cli.report import BuildReport
    from reportgen.project import load_project
    from reportgen.publish.editions import last_delivered_snapshot

    config = _config_or_exit()
    dirs = _brief_dirs(briefs or _configured(config.build.briefs, config))
    out = out or _configured_out(config)
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
    charts = ChartCache(out / CHART_DIR)
    project = or_exit(lambda: load_project(config, templates, charts=charts))
    report = BuildReport(len(dirs), quiet=quiet, as_json=as_json, verbose=verbose)

    def run() -> BatchSummary:
        with report:
            return build_many(dirs, out, project, options, report.result)

    summary = or_exit(run)
    report.summary(summary)
    sys.exit(1 if summary.count("failed") else 0)


def _configured(briefs: list[str], config: Config) -> tuple[Path, ...]:
    """[build].briefs when reportgen.toml names them; else seeds/."""
    return tuple(config.resolve(b) for b in briefs) if config.path else ()


def _configured_out(config: Config) -> Path:
    return config.resolve(config.build.out) if config.path else DEFAULT_OUT


@main.command()
@click.argument("briefs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Every warning is an error (exit 1).")
def check(briefs: tuple[Path, ...], strict: bool) -> None:
    """Validate briefs without building: errors and warnings, one per line."""
    from reportgen.build import check_brief

    limits, scale, levels = project_rules()
    failed = 0
    for brief_dir in _brief_dirs(briefs):
        checked, problems = check_brief(brief_dir, strict, limits, scale, levels)
        for problem in problems:
            click.echo(str(problem))
        failed += checked is None
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("pdfs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Every warning is an error (exit 1).")
def verify(pdfs: tuple[Path, ...], strict: bool) -> None:
    """Check built briefs (OUT/<id>/<id>.pdf): footnotes, sources, sections, glyphs, layout, pages."""
    from reportgen.build import strictly
    from reportgen.pdf.verify import verify_built

    failed = 0
    for pdf in pdfs:
        problems = verify_built(pdf)
        problems = strictly(problems) if strict else problems
        for problem in problems:
            click.echo(str(problem))
        bad = any(p.severity == "error" for p in problems)
        click.echo(f"{'failed' if bad else 'verified'} {pdf}", err=bad)
        failed += bad
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("target", metavar="BRIEF_ID|PATH")
@click.option(
    "--dir",
    "parent",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Folder to create the brief in (default: {DEFAULT_BRIEFS}).",
)
def new(target: str, parent: Path | None) -> None:
    """Create a new brief folder with placeholder data that builds at once: PARENT/BRIEF_ID,
    or the folder PATH itself (`reportgen new /srv/briefs/acme-2026`: the id is acme-2026)."""
    from reportgen.brief.scaffold import brief_place, new_brief

    try:
        made = new_brief(*brief_place(target, parent, DEFAULT_BRIEFS))
    except ReportgenError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"created {made.folder}: " + ", ".join(p.name for p in made.files))
    click.echo(f"editor schema: {made.schema}")
    click.echo(f"next: reportgen serve {made.folder}")


@main.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file instead of printing it.",
)
def schema(out: Path | None) -> None:
    """Print the JSON Schema of brief.yaml (for editor autocompletion)."""
    from reportgen.brief.schema import schema_text
    from reportgen.files import write_atomic

    if out is None:
        click.echo(schema_text(), nl=False)
        return
    write_atomic(out, schema_text().encode("utf-8"))
    click.echo(f"wrote {out}")


@main.command()
@click.argument("brief", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="reportgen.toml to read the theme from (default: ./reportgen.toml).",
)
@click.option(
    "--templates",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of template overrides (default: ./templates when present).",
)
def serve(brief: Path | None, port: int, config_path: Path | None, templates: Path | None) -> None:
    """Preview BRIEF live: rebuilds on every saved change and reloads the browser page."""
    from reportgen.serve import serve as start

    brief_dir = brief or _one_brief()
    server = or_exit(lambda: start(brief_dir, port, config_path, templates))
    click.echo(
        f"Serving {brief_dir} at {server.url} (PDF: {server.url}{brief_dir.resolve().name}.pdf)"
    )
    click.echo("Rebuilds on every save. Press Ctrl-C to stop.")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops it as Ctrl-C does
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.stop()


def _one_brief() -> Path:
    """The brief to preview when none is named: this folder, or the only one under seeds/."""
    from reportgen.brief.spec import BRIEF_FILE

    if Path(BRIEF_FILE).is_file():
        return Path(".")
    found = [d for d in _brief_dirs(()) if (d / BRIEF_FILE).is_file()]
    if len(found) != 1:
        names = ", ".join(str(d) for d in found) or "none"
        raise click.UsageError(f"name the brief to preview (found under {DEFAULT_BRIEFS}: {names})")
    return found[0]


for command in (*DELIVERY_COMMANDS, review):  # send, nightly, runs, editions, schedule; review
    main.add_command(command)
