"""The command line: parse options, call the library, map results to exit codes.

Exit status: 0 all good, 1 a brief failed or has errors, 2 usage error.

Each command lives in a module of this package, with its imports at the top; the
main group loads only the module of the command being run (click's documented
LazyGroup pattern), so `reportgen --help` and `--version` import none of them.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from reportgen import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "build": (
        "reportgen.cli.build",
        "Build briefs (default: [build].briefs of ./reportgen.toml, else every brief under seeds/) into OUT/<id>/<id>.html and .pdf.",
    ),
    "check": (
        "reportgen.cli.check",
        "Validate briefs without building: errors and warnings, one per line.",
    ),
    "editions": (
        "reportgen.cli.delivery",
        "The editions of a brief: each PDF delivered, kept unchanged, and who got it.",
    ),
    "new": (
        "reportgen.cli.brief",
        "Create a new brief folder with placeholder data that builds at once: PARENT/BRIEF_ID, or the folder PATH itself (`reportgen new /srv/briefs/acme-2026`: the id is acme-2026).",
    ),
    "nightly": (
        "reportgen.cli.delivery",
        "Build, verify and send every brief: each edition to each mailbox once.",
    ),
    "review": (
        "reportgen.cli.review",
        "List BRIEF's findings (open, accepted, lapsed), one a line with its key; or accept some.",
    ),
    "runs": (
        "reportgen.cli.delivery",
        "Recent nightly and send runs: what happened to each brief, with SMTP codes.",
    ),
    "schedule": (
        "reportgen.cli.delivery",
        "Print (or --install) a systemd service + timer for the nightly job, or a crontab line.",
    ),
    "schema": (
        "reportgen.cli.brief",
        "Print the JSON Schema of brief.yaml (for editor autocompletion).",
    ),
    "send": (
        "reportgen.cli.delivery",
        "Email the last good PDF of each brief (default: every brief in [build].briefs).",
    ),
    "serve": (
        "reportgen.cli.serve",
        "Preview BRIEF live: rebuilds on every saved change and reloads the browser page.",
    ),
    "verify": (
        "reportgen.cli.check",
        "Check built briefs (OUT/<id>/<id>.pdf): footnotes, sources, sections, glyphs, layout, pages.",
    ),
}
"""Command name -> (its module, its summary for `reportgen --help`; a test holds each to
the command's own docstring)."""


class LazyGroup(click.Group):
    """A group whose commands are imported when run (or asked for their own --help)."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module = importlib.import_module(self.lazy[cmd_name][0])
        command = getattr(module, cmd_name)
        assert isinstance(command, click.Command), f"{module.__name__}.{cmd_name}"
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands listed as click lists them, from their summaries: none imported."""
        listed = [click.Command(name, help=summary) for name, (_, summary) in self.lazy.items()]
        click.Group(commands=listed).format_commands(ctx, formatter)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reportgen")
def main() -> None:
    """Turn curated company data into a polished investment brief (HTML and PDF)."""
