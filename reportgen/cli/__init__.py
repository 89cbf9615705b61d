"""The command line: parse options, call the library, map results to exit codes.

Exit status: 0 all good, 1 a brief failed or has errors, 2 usage error.

Each command lives in a module of this package, with its imports at the top; the
main group loads only the module of the command being run (click's documented
LazyGroup pattern), so `reportgen --help` and `--version` import none of them.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from reportgen import __version__

COMMANDS: dict[str, str] = {
    "build": "reportgen.cli.build",
    "check": "reportgen.cli.check",
    "editions": "reportgen.cli.delivery",
    "new": "reportgen.cli.brief",
    "nightly": "reportgen.cli.delivery",
    "review": "reportgen.cli.check",
    "runs": "reportgen.cli.delivery",
    "schedule": "reportgen.cli.delivery",
    "schema": "reportgen.cli.brief",
    "send": "reportgen.cli.delivery",
    "serve": "reportgen.cli.brief",
    "verify": "reportgen.cli.check",
}
"""Command name -> its module, imported only when the command runs (or is asked for its
--help); `reportgen --help` lists each from its docstring, read from the module's source."""

DEFAULT_BRIEFS = Path("seeds")
DEFAULT_OUT = Path("build")
T = TypeVar("T")

templates_option = click.option(  # build's and serve's
    "--templates",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of template overrides (default: ./templates when present).",
)


class LazyGroup(click.Group):
    """reportgen's commands, each imported when run (or asked for its own --help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command = getattr(importlib.import_module(COMMANDS[cmd_name]), cmd_name)
        assert isinstance(command, click.Command), cmd_name
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands listed as click lists them, from their docstrings: none imported."""
        docs: dict[str, str | None] = {}
        for module in set(COMMANDS.values()):
            spec = importlib.util.find_spec(module)
            assert spec is not None and spec.origin is not None, module
            tree = ast.parse(Path(spec.origin).read_bytes())
            docs |= {
                f.name: ast.get_docstring(f) for f in tree.body if isinstance(f, ast.FunctionDef)
            }
        listed = [click.Command(name, help=docs[name]) for name in COMMANDS]
        click.Group(commands=listed).format_commands(ctx, formatter)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reportgen")
def main() -> None:
    """Turn curated company data into a polished investment brief (HTML and PDF)."""


def or_exit(action: Callable[[], T]) -> T:
    """What `action` returns; its ReportgenError as one line and exit 1, never a traceback."""
    from reportgen.errors import ReportgenError  # here: `reportgen --help` imports nothing

    try:
        return action()
    except ReportgenError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def brief_dirs(briefs: tuple[Path, ...]) -> list[Path]:
    """The brief folders under `briefs` (default: seeds/); a usage error when there is none."""
    from reportgen.brief.spec import find_briefs

    briefs = briefs or (DEFAULT_BRIEFS,)
    if not (found := find_briefs(briefs)):
        raise click.UsageError(f"no briefs found under {', '.join(map(str, briefs))}")
    return found
