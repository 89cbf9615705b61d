"""The main group loads a command's module only to run it: `--help` lists them all unloaded."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from reportgen.cli import COMMANDS, main


def _listing(format_commands: object) -> str:
    ctx = click.Context(main)
    formatter = ctx.make_formatter()
    format_commands(main, ctx, formatter)  # type: ignore[operator]
    return formatter.getvalue()


def test_help_lists_the_commands_exactly_as_click_would_after_loading_them() -> None:
    lazy = _listing(type(main).format_commands)
    eager = _listing(click.Group.format_commands)  # imports every command's module
    assert lazy == eager
    assert sorted(COMMANDS) == main.list_commands(click.Context(main))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_is_in_its_module(name: str) -> None:
    command = main.get_command(click.Context(main), name)
    assert command is not None and command.name == name


def test_help_imports_no_command() -> None:
    probe = (
        "import sys\n"
        "from reportgen.cli import main\n"
        "main(['--help'], standalone_mode=False)\n"
        "print(sorted(m for m in sys.modules if m.startswith('reportgen.')))\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = run.stdout.splitlines()[-1]
    assert "Commands:" in run.stdout and "verify" in run.stdout
    assert loaded == "['reportgen.cli']", loaded
