"""`reportgen serve`: a live preview of one brief, rebuilt on every save."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import click

from reportgen.brief.spec import BRIEF_FILE
from reportgen.cli import templates_option
from reportgen.cli.project import DEFAULT_BRIEFS, brief_dirs, or_exit
from reportgen.serve import serve as start


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
