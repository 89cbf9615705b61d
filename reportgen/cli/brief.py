"""`reportgen new`, `schema` and `serve`: a brief to start from, the schema editors complete
with, and a live preview of it rebuilt on every save."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import click

from reportgen.brief.models import schema_text
from reportgen.brief.scaffold import brief_place, new_brief
from reportgen.brief.spec import BRIEF_FILE
from reportgen.cli import DEFAULT_BRIEFS, brief_dirs, or_exit, templates_option
from reportgen.errors import ReportgenError
from reportgen.files import write_atomic
from reportgen.serve import serve as start


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


@click.command()
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
@templates_option
def serve(brief: Path | None, port: int, config_path: Path | None, templates: Path | None) -> None:
    """Preview BRIEF live: rebuilds on every saved change and reloads the browser page."""
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
    if Path(BRIEF_FILE).is_file():
        return Path(".")
    found = [d for d in brief_dirs(()) if (d / BRIEF_FILE).is_file()]
    if len(found) != 1:
        names = ", ".join(str(d) for d in found) or "none"
        raise click.UsageError(f"name the brief to preview (found under {DEFAULT_BRIEFS}: {names})")
    return found[0]
