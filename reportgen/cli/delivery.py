"""Commands of the delivery side: send, nightly, runs, editions, schedule.

Thin: read the config, call reportgen.publish.nightly / .schedule, print,
map the outcome to the exit status (0 ok, 1 something failed, 75 locked).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click

from reportgen.brief.spec import find_briefs
from reportgen.config import Config, load_config
from reportgen.errors import LockHeld, ReportgenError, one_line
from reportgen.output import editions_folder
from reportgen.publish.editions import EDITIONS_DIR, list_editions
from reportgen.publish.ledger import recent_runs
from reportgen.publish.nightly import EXIT_LOCKED, RunReport, run_nightly, send_briefs
from reportgen.publish.schedule import UNIT, crontab_line, install_units, systemd_units

config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The config file (default: ./reportgen.toml).",
)


def _load(config_file: Path | None) -> Config:
    try:
        return load_config(config_file)
    except ReportgenError as exc:
        _die(str(exc))


def _die(message: str, code: int = 1) -> NoReturn:
    click.echo(f"reportgen: {message}", err=True)
    sys.exit(code)


def _run(action: Callable[[], RunReport]) -> NoReturn:
    """Call a nightly/send function: its errors as one line, else each brief's outcome (names
    and details escaped, so none can forge a line); the exit status says which."""
    try:
        report = action()
    except LockHeld as exc:
        _die(str(exc), EXIT_LOCKED)
    except ReportgenError as exc:
        _die(str(exc))
    for outcome in report.outcomes:
        err = outcome.state == "failed"
        click.echo(f"{outcome.state} {one_line(outcome.brief_id)}", err=err)
        for detail in outcome.details:
            click.echo(f"  {one_line(detail)}", err=err)
    click.echo(
        f"run {report.run_id}: " + ("failed" if report.failed else "ok"), err=bool(report.failed)
    )
    sys.exit(report.exit_code)


@click.command()
@click.argument("briefs", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--dry-run",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the messages as .eml files into this folder instead of sending.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Send even to mailboxes that got this edition, or may have (in doubt).",
)
@config_option
def send(
    briefs: tuple[Path, ...], dry_run: Path | None, force: bool, config_file: Path | None
) -> None:
    """Email the last good PDF of each brief (default: every brief in [build].briefs)."""
    config = _load(config_file)
    dirs = find_briefs(briefs or [config.resolve(b) for b in config.build.briefs])
    if not dirs:
        raise click.UsageError("no briefs found")
    _run(lambda: send_briefs(config, dirs, dry_run=dry_run, force=force))


OLD_SCRIPTS = "Kept for old scripts: each edition goes to a mailbox once either way."


@click.command()
@click.option("--all", "send_all", flag_value=True, default=None, help=OLD_SCRIPTS)
@click.option("--only-changed", "send_all", flag_value=False, help=OLD_SCRIPTS)
@config_option
def nightly(send_all: bool | None, config_file: Path | None) -> None:
    """Build, verify and send every brief: each edition to each mailbox once.

    Exit status: 0 all delivered (or nothing new), 1 something failed, 75 another run holds the lock.
    """
    config = _load(config_file)
    _run(lambda: run_nightly(config, send_all=send_all))


@click.command()
@click.option("--limit", default=10, show_default=True, help="How many runs to show.")
@config_option
def runs(limit: int, config_file: Path | None) -> None:
    """Recent nightly and send runs: what happened to each brief, with SMTP codes."""
    try:
        found = recent_runs(_load(config_file), limit)
    except ReportgenError as exc:
        _die(str(exc))
    if not found:
        click.echo("no runs yet")
    for (run_id, command, started, ended, code), events in found:
        status = "running or killed" if code is None else f"exit {code}"
        click.echo(f"{run_id}  {command}  {started} -> {ended or '?'}  {status}")
        for _at, brief, state, *more in events:
            extra = " ".join(str(x) for x in more if x not in (None, ""))
            click.echo(f"  {brief:<24} {state:<12} {extra}".rstrip())


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@config_option
def editions(folder: Path, config_file: Path | None) -> None:
    """The editions of a brief: each PDF delivered, kept unchanged, and who got it.

    FOLDER is a brief folder (its editions are in [build].out) or its output folder.
    """
    if (folder / EDITIONS_DIR).is_dir():
        out, brief_id = folder.parent, folder.resolve().name
    else:
        config = _load(config_file)
        out, brief_id = config.resolve(config.build.out), folder.resolve().name
    found = list_editions(out, brief_id)
    if not found:
        click.echo(f"{brief_id}: no editions yet (nothing delivered by send or nightly)")
        return
    where = editions_folder(out, brief_id)
    for e in found:
        got = sum(status == "sent" for status in e.recipients.values())
        kept = f"pruned {e.pruned}" if e.pruned else str(where / e.file)
        click.echo(
            f"{e.as_of}  {e.sha256[:8]}  sent {e.last_sent}  {got}/{len(e.recipients)} recipients  {kept}"
        )
        for rcpt, status in sorted(e.recipients.items()):
            click.echo(f"  {rcpt:<32} {status}")


@click.command()
@click.option("--install", is_flag=True, help="Write the systemd units instead of printing them.")
@click.option(
    "--cron", is_flag=True, help="A crontab line (wrapped in flock) instead of systemd units."
)
@click.option(
    "--unit-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where --install writes the units (default: ~/.config/systemd/user).",
)
@config_option
def schedule(install: bool, cron: bool, unit_dir: Path | None, config_file: Path | None) -> None:
    """Print (or --install) a systemd service + timer for the nightly job, or a crontab line."""
    config = _load(config_file)
    if config.path is None:
        _die(
            "no reportgen.toml here (or --config FILE): the scheduled job needs its [mail] and [smtp]"
        )
    if cron:
        if install:
            raise click.UsageError(
                "--install writes systemd units; add the --cron line with `crontab -e`"
            )
        click.echo(crontab_line(config), nl=False)
        return
    if not install:
        units = systemd_units(config).items()
        click.echo("\n".join(f"# {name}\n{text}" for name, text in units), nl=False)
        return
    for path in install_units(config, unit_dir):
        click.echo(f"wrote {path}")
    click.echo(f"now: systemctl --user daemon-reload && systemctl --user enable --now {UNIT}.timer")
