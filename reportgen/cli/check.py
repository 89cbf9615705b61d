"""`reportgen check` and `verify`: a brief judged as `build` will judge it, a PDF read back."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reportgen.brief.market import Rating
from reportgen.build import check_brief, strictly
from reportgen.cli.project import brief_dirs, config_or_exit, or_exit
from reportgen.config import Limits, VerdictConfig
from reportgen.pdf.verify import verify_built
from reportgen.project import load_project


def project_rules() -> tuple[Limits, tuple[Rating, ...] | None, VerdictConfig]:
    """The [limits], the [compliance] rating scale and the [verdict] thresholds of
    ./reportgen.toml (one line and exit 1 when the config, its theme or its back matter is
    bad): `check` and `review` judge a brief as `build` will in this project."""
    config = config_or_exit()
    project = or_exit(lambda: load_project(config))
    return project.limits, project.ratings, project.verdict


@click.command()
@click.argument("briefs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Every warning is an error (exit 1).")
def check(briefs: tuple[Path, ...], strict: bool) -> None:
    """Validate briefs without building: errors and warnings, one per line."""
    limits, scale, levels = project_rules()
    failed = 0
    for brief_dir in brief_dirs(briefs):
        checked, problems = check_brief(brief_dir, strict, limits, scale, levels)
        for problem in problems:
            click.echo(str(problem))
        failed += checked is None
    sys.exit(1 if failed else 0)


@click.command()
@click.argument("pdfs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Every warning is an error (exit 1).")
def verify(pdfs: tuple[Path, ...], strict: bool) -> None:
    """Check built briefs (OUT/<id>/<id>.pdf): footnotes, sources, sections, glyphs, layout, pages."""
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
