"""The command line: parse options, call the library, map results to exit codes.

Exit status: 0 all good, 1 a brief failed or has errors, 2 usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__

DEFAULT_BRIEFS = Path("seeds")
DEFAULT_OUT = Path("build")


def _brief_dirs(briefs: tuple[Path, ...]) -> list[Path]:
    from .pipeline import find_briefs

    found = find_briefs(briefs or (DEFAULT_BRIEFS,))
    if not found:
        raise click.UsageError(f"no briefs found under {', '.join(map(str, briefs or (DEFAULT_BRIEFS,)))}")
    return found


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reportgen")
def main() -> None:
    """Turn curated company data into a polished investment brief (HTML and PDF)."""


@main.command()
@click.argument("briefs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_OUT,
              show_default=True, help="Output folder.")
@click.option("--html-only", is_flag=True, help="Skip the PDF (faster previews).")
def build(briefs: tuple[Path, ...], out: Path, html_only: bool) -> None:
    """Build briefs (default: every brief under seeds/) into OUT/<id>/<id>.html and .pdf."""
    from .pipeline import build_all

    results = build_all(_brief_dirs(briefs), out, pdf=not html_only)
    failed = 0
    for result in results:
        for problem in result.problems:
            click.echo(str(problem), err=True)
        if result.ok:
            click.echo(f"built {result.brief_id}: " + ", ".join(str(p) for p in result.outputs))
        else:
            failed += 1
            click.echo(f"failed {result.brief_id}: not built, previous output left in place", err=True)
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("briefs", nargs=-1, type=click.Path(path_type=Path))
def check(briefs: tuple[Path, ...]) -> None:
    """Validate briefs without building: errors and warnings, one per line."""
    from .pipeline import check_brief

    failed = 0
    for brief_dir in _brief_dirs(briefs):
        checked, problems = check_brief(brief_dir)
        for problem in problems:
            click.echo(str(problem))
        failed += checked is None
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("brief_id")
@click.option("--dir", "parent", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_BRIEFS,
              show_default=True, help="Folder to create the brief in.")
def new(brief_id: str, parent: Path) -> None:
    """Create a new brief folder PARENT/BRIEF_ID with placeholder data that builds at once."""
    from .errors import ReportgenError
    from .scaffold import new_brief

    try:
        made = new_brief(brief_id, parent)
    except ReportgenError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"created {made.folder}: " + ", ".join(p.name for p in made.files))
    click.echo(f"editor schema: {made.schema}")
    click.echo(f"next: reportgen serve {made.folder}")


@main.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the schema to this file instead of printing it.")
def schema(out: Path | None) -> None:
    """Print the JSON Schema of brief.yaml (for editor autocompletion)."""
    from .output import write_atomic
    from .schema import schema_text

    if out is None:
        click.echo(schema_text(), nl=False)
        return
    write_atomic(out, schema_text().encode("utf-8"))
    click.echo(f"wrote {out}")
