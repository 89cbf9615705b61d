"""`reportgen check`, `review` and `verify`: a brief judged as `build` will judge it, its
findings listed or signed off in review.yaml, a PDF read back.

`review` exits 0 when done; 1 when the brief has errors (nothing to review until they
are fixed); 2 on a usage error: an unknown key, a placeholder (which no review can
accept), or --accept without --by and --reason.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from reportgen.brief.accept import accept
from reportgen.brief.placeholders import is_placeholder
from reportgen.brief.review import Acceptance, Gate
from reportgen.build import check_in, strictly
from reportgen.cli import brief_dirs, or_exit
from reportgen.config import load_config
from reportgen.errors import Figure, Problem, ReviewError, one_line
from reportgen.pdf.verify import verify_built
from reportgen.project import load_project


@click.command()
@click.argument("briefs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Every warning is an error (exit 1).")
def check(briefs: tuple[Path, ...], strict: bool) -> None:
    """Validate briefs without building: errors and warnings, one per line."""
    project = or_exit(lambda: load_project(load_config()))  # judged as `build` will judge it
    failed = 0
    for brief_dir in brief_dirs(briefs):
        checked, problems = check_in(brief_dir, project, strict)
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


@click.command()
@click.argument("brief", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--accept",
    "keys",
    multiple=True,
    metavar="KEY",
    help="Accept this finding (repeat, or several after one --accept; `all`: every open one).",
)
@click.argument("more_keys", nargs=-1, metavar="[KEY]...")
@click.option("--by", metavar="NAME", help="Who reviewed (required with --accept).")
@click.option("--reason", metavar="TEXT", help="Why it may stand; readers see it (with --accept).")
def review(
    brief: Path,
    keys: tuple[str, ...],
    more_keys: tuple[str, ...],
    by: str | None,
    reason: str | None,
) -> None:
    """List BRIEF's findings (open, accepted, lapsed), one a line with its key; or accept some.

    A brief is publishable, and may be emailed, once every finding is accepted.
    Placeholder text cannot be accepted: replace it.
    """
    project = or_exit(lambda: load_project(load_config()))  # judged as `build` will judge it
    checked, problems = check_in(brief, project)
    if checked is None:
        for problem in problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    if more_keys and not keys:
        raise click.UsageError("name findings to accept with --accept KEY...")
    if not keys:
        for line in listing(checked.review, brief):
            click.echo(line)
        return
    if not by or not reason:
        raise click.UsageError("--accept needs --by NAME and --reason TEXT")
    try:
        written = accept(
            brief,
            checked.review,
            [*keys, *more_keys],
            by=by,
            reason=reason,
            on=date.today(),
            limits=project.config.limits,
        )
    except ReviewError as exc:
        raise click.UsageError(str(exc)) from exc
    for key in written:
        click.echo(f"accepted {key}")
    if not written:
        click.echo("nothing to accept")
    after, _ = check_in(brief, project)
    if after is not None:
        click.echo(_verdict(after.review, brief))


def listing(gate: Gate, brief: Path) -> list[str]:
    """One line per finding: state, key, then where and what (or who accepted it and why)."""
    lines = []
    for p in gate.open:
        lapsed = gate.lapsed.get(p.finding or "")
        note, state = ("", "open") if lapsed is None else (_lapsed(lapsed, p), "lapsed")
        fixed = " (cannot be accepted: replace it)" if is_placeholder(p.finding) else ""
        lines.append(f"{state:<9}{p.finding or '-'}  {p}{note}{fixed}")
    for p, a in gate.accepted:
        lines.append(f"{'accepted':<9}{p.finding}  by {a.by} on {a.on}: {a.reason}")
    for a in gate.resolved:
        lines.append(f"{'resolved':<9}{a.key}  review.yaml:{a.line}: no such finding any more")
    return [one_line(line) for line in [*lines, _verdict(gate, brief)]]  # never a forged line


def _lapsed(a: Acceptance, p: Problem) -> str:
    """Why an acceptance no longer holds: what was accepted, and what the reader sees now."""
    said = f" (accepted by {a.by} on {a.on}"
    if not a.same_values(p.values):
        return f"{said} for {_values(a.values)}, now {_values(p.values)})"
    if a.figures is None:
        return (
            f"{said} for {_values(a.values)}, before review.yaml recorded the unit, period "
            "and source: check the figure and accept it again)"
        )
    return f"{said} for {_figures(a.figures)}, now {_figures(p.figures)})"


def _values(values: tuple[float | str, ...]) -> str:
    return "[" + ", ".join(f"{v:g}" if isinstance(v, float) else v for v in values) + "]"


def _figures(figures: tuple[Figure, ...]) -> str:
    """'12.5 USD bn, FY2021, alpha; 13 USD bn, FY2021, beta'."""
    shown = [(f"{_values((f.value,))[1:-1]} {f.unit}".strip(), f.period, f.source) for f in figures]
    return "; ".join(", ".join(part for part in parts if part) for parts in shown)


def _verdict(gate: Gate, brief: Path) -> str:
    if gate.publishable:
        return f"{brief}: publishable ({len(gate.accepted)} finding(s) accepted)"
    return (
        f"{brief}: draft: {len(gate.open)} open finding(s); "
        f"accept with: reportgen review {brief} --accept KEY --by NAME --reason TEXT"
    )
