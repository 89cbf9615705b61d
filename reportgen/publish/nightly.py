"""The nightly job and `send`: build, verify, and email each brief exactly once.

`run_nightly` builds every brief through the same batch builder as
`reportgen build` (same cache, same unchanged-brief rule, same workers and
per-brief limits), never sends one that failed (its previous PDF stays where
it is and is not re-sent), and emails the rest; `once` decides per recipient
(the same PDF already accepted, an unconfirmed earlier attempt, the edition
rule, `only_changed`), so re-running the job sends nothing twice. A run holds
an exclusive lock on the output folder; a second run exits at once (75). The
ledger is checked before anything is sent: an unsound one stops the run and
failures_to is told.

The build clock is pinned to the scheduled run time of the current "edition"
(the latest `[schedule].time` in its zone), and the pinned time is part of the
build key, so a re-run the same night skips the unchanged briefs and finds the
very same PDFs, already delivered. The next night builds a new edition (its
date differs), which goes out again unless `only_changed` is set: then a
recipient gets a brief only when its files changed since the one they last
received.

Recipients of a brief: every `[mail].to` address plus the brief's own
`recipients:` (duplicates removed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from reportgen.batch import BatchOptions, build_many
from reportgen.brief.spec import find_briefs
from reportgen.built import BuildResult
from reportgen.cache import CHART_DIR, ChartCache
from reportgen.config import Config, ConfigError, MailConfig, ScheduleConfig
from reportgen.project import Project, load_project
from reportgen.publish import message, once, smtp
from reportgen.publish.editions import last_delivered_snapshot
from reportgen.publish.ledger import Ledger, LedgerError, state_path
from reportgen.publish.ledger import Run as LoggedRun
from reportgen.publish.lock import run_lock
from reportgen.publish.run import Ready, Run, RunReport
from reportgen.publish.statedb import LEDGER_WAIT
from reportgen.record import LastGood, OutputError, just_built, last_good
from reportgen.workers import Ceilings

EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later


def edition_time(now: datetime, schedule: ScheduleConfig) -> datetime:
    """The latest scheduled run time at or before `now`, in UTC: the build clock of a night."""
    local = now.astimezone(ZoneInfo(schedule.timezone))
    hour, minute = (int(part) for part in schedule.time.split(":"))
    slot = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if slot > local:
        slot = (local - timedelta(days=1)).replace(
            hour=hour, minute=minute, second=0, microsecond=0
        )
    return slot.astimezone(UTC)


def require_mail(config: Config) -> MailConfig:
    """[mail] is needed to send; its headers are checked here, before anything is built or sent."""
    where = str(config.path or "reportgen.toml")
    if config.mail is None:
        raise ConfigError(f"{where}: [mail] is required to send (from, to, subject)")
    message.check_mail_config(config.mail, where)
    return config.mail


def nightly_project(config: Config, edition: datetime) -> Project:
    """The project as `reportgen build` reads it, pinned to the night's edition: read once
    per run (its back matter scans every brief's rating)."""
    charts = ChartCache(config.resolve(config.build.out) / CHART_DIR)
    return load_project(config, clock=edition, charts=charts)


def batch_options(config: Config) -> BatchOptions:
    """What `reportgen build` would use in this project."""
    return BatchOptions(
        strict=config.build.strict,
        ceilings=Ceilings.of(config.build),
        delivered=last_delivered_snapshot,
    )


@contextmanager
def _opened(
    project: Project, command: str, now: datetime, mailer: smtp.Mailer | None, wait: float
) -> Iterator[Run]:
    """Lock the output folder, open the ledger (sound, or nothing is sent), start a run;
    always close the ledger."""
    config = project.config
    mail = require_mail(config)
    out = config.resolve(config.build.out)
    templates = message.MailTemplates(project.renderer())  # a bad template fails up front
    with run_lock(out):
        ledger = None
        try:
            ledger = Ledger(state_path(out), wait)
            run = Run(config, mail, command, ledger, now)
        except LedgerError as exc:
            if ledger is not None:
                ledger.close()
            once.notify_unsound_ledger(mail, mailer, command, exc, now)
            raise
        run.templates = templates
        try:
            yield run
        finally:
            ledger.close()


def _mailer(config: Config, environ: dict[str, str] | None) -> smtp.Mailer:
    """The SMTP side, checked before anything is built: [smtp] present, the password at hand,
    and no password in clear to a host that is not this machine."""
    where = str(config.path or "reportgen.toml")
    if config.smtp is None:
        raise ConfigError(f"{where}: [smtp] is required to send (host, port, security)")
    settings = config.smtp
    smtp.check_plaintext_auth(settings, where)
    password = smtp.smtp_password(settings, dict(os.environ if environ is None else environ))
    return smtp.Mailer(settings, password)


def run_nightly(
    config: Config,
    *,
    send_all: bool | None = None,
    now: datetime | None = None,
    environ: dict[str, str] | None = None,
    ledger_wait: float = LEDGER_WAIT,
) -> RunReport:
    """Build every brief, send the good ones exactly once, report the rest to failures_to."""
    mail = require_mail(config)
    mailer = _mailer(config, environ)  # a missing password fails before anything is built
    only_changed = mail.only_changed if send_all is None else not send_all
    now = now or datetime.now(UTC)
    edition = edition_time(now, config.schedule)
    project = nightly_project(config, edition)  # a bad theme fails before the run starts
    with _opened(project, "nightly", now, mailer, ledger_wait) as run:
        run.edition = edition
        out = config.resolve(config.build.out)
        briefs = find_briefs([config.resolve(b) for b in config.build.briefs])
        built = build_many(briefs, out, project, batch_options(config))
        ready = [item for r in built.results if (item := _ready(run, r, out))]
        with mailer:
            run.send_all(ready, mailer, only_changed=only_changed, force=False)
            run.notify_failures(mailer, edition)
        return run.finish()


def _ready(run: Run, result: BuildResult, out: Path) -> Ready | None:
    """A brief's result as the run log tells it, and its PDF ready to send when it is good."""
    if not result.ok:
        run.fail(result.brief_id, "build failed: " + "; ".join(str(p) for p in result.errors))
        return None
    try:
        good: LastGood = (
            just_built(result.built, out, result.digest)
            if result.built is not None
            else last_good(out, result.brief_id)
        )
    except OutputError as exc:
        run.fail(result.brief_id, f"not sent: {exc}")
        return None
    reused = "reused: unchanged since this night's earlier build"
    run.event(result.brief_id, "built", detail=reused if result.built is None else None)
    run.event(result.brief_id, "verified", detail=str(good.pdf_path))
    return run.ready(good)


def send_briefs(
    config: Config,
    brief_dirs: Sequence[Path],
    *,
    dry_run: Path | None = None,
    force: bool = False,
    environ: dict[str, str] | None = None,
    ledger_wait: float = LEDGER_WAIT,
) -> RunReport:
    """Email the last good PDF of each brief (`<out>/<id>/<id>.pdf`), or write .eml files."""
    mailer = None if dry_run else _mailer(config, environ)
    command = "send" if dry_run is None else "send --dry-run"
    with _opened(load_project(config), command, datetime.now(UTC), mailer, ledger_wait) as run:
        out = config.resolve(config.build.out)
        ready = []
        for brief_dir in brief_dirs:
            brief_id = brief_dir.resolve().name
            try:
                item = run.ready(last_good(out, brief_id))
            except OutputError as exc:
                run.fail(brief_id, str(exc))
                continue
            if item:
                ready.append(item)
        if mailer is None:
            run.send_all(ready, None, only_changed=False, force=True, dry_run=dry_run)
        else:
            with mailer:
                run.send_all(ready, mailer, only_changed=False, force=force)
                run.notify_failures(mailer)
        return run.finish()


def recent_runs(config: Config, limit: int = 10) -> list[LoggedRun]:
    """The newest runs of this output folder, with their events (empty when none yet)."""
    path = state_path(config.resolve(config.build.out))
    if not path.is_file():
        return []
    ledger = Ledger(path)
    try:
        return ledger.runs(limit)
    finally:
        ledger.close()
