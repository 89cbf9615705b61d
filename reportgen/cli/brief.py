"""`reportgen new` and `schema`: a brief to start from, and the schema editors complete with."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reportgen.brief.models import schema_text
from reportgen.brief.scaffold import brief_place, new_brief
from reportgen.cli.project import DEFAULT_BRIEFS
from reportgen.errors import ReportgenError
from reportgen.files import write_atomic


@click.command()
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
    try:
        made = new_brief(*brief_place(target, parent, DEFAULT_BRIEFS))
    except ReportgenError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"created {made.folder}: " + ", ".join(p.name for p in made.files))
    click.echo(f"editor schema: {made.schema}")
    click.echo(f"next: reportgen serve {made.folder}")


@click.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file instead of printing it.",
)
def schema(out: Path | None) -> None:
    """Print the JSON Schema of brief.yaml (for editor autocompletion)."""
    if out is None:
        click.echo(schema_text(), nl=False)
        return
    write_atomic(out, schema_text().encode("utf-8"))
    click.echo(f"wrote {out}")
