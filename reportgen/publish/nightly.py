"""The nightly job and `send`: build, verify, and email each edition to each mailbox once.

`run_nightly` builds every brief through the same batch builder and cache as
`reportgen build` (an unchanged brief is not built again), never sends one that
failed (its previous PDF stays where it is and is not re-sent), and emails the
rest; run.py decides per mailbox from the ledger, so re-running the job, or
`build` then `send` then `nightly`, sends nothing twice. A run holds an
exclusive lock on the output folder; a second run exits at once (75). The
ledger is checked before anything is sent: an unsound one stops the run and
failures_to is told.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from reportgen.batch import BatchOptions, build_many
from reportgen.brief.spec import find_briefs
from reportgen.built import BuildResult
from reportgen.cache import CHART_DIR, ChartCache
from reportgen.config import Config, ConfigError
from reportgen.errors import LedgerError
from reportgen.mailtext import parse_mailbox
from reportgen.project import Project, load_project
from reportgen.publish import message, smtp
from reportgen.publish.editions import last_delivered_snapshot
from reportgen.publish.ledger import Ledger, RunLog
from reportgen.publish.lock import run_lock
from reportgen.publish.run import Ready, Run, RunReport
from reportgen.publish.statedb import LEDGER_WAIT, state_path
from reportgen.record import LastGood, OutputError, just_built, last_good
from reportgen.workers import Ceilings

EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later


def require_mail(config: Config) -> None:
    """[mail] with a sender is needed to send (its values were checked when it was read)."""
    where = str(config.path or "reportgen.toml")
    if config.mail is None:
        raise ConfigError(f"{where}: [mail] is required to send (from, to, subject)")
    if not config.mail.from_:
        raise ConfigError(f"{where}: mail.from is required to send")


def nightly_project(config: Config) -> Project:
    """The project as `reportgen build` reads it (the same cache, so nightly finds its PDFs):
    read once per run (its back matter scans every brief's rating)."""
    charts = ChartCache(config.resolve(config.build.out) / CHART_DIR)
    return load_project(config, charts=charts)


def batch_options(config: Config) -> BatchOptions:
    """What `reportgen build` uses in this project."""
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
    require_mail(config)
    out = config.resolve(config.build.out)
    templates = message.MailTemplates(project.renderer())  # a bad template fails up front
    with run_lock(out):
        ledger = None
        try:
            ledger = Ledger(state_path(out), wait)
            run = Run.start(project, command, ledger, now, templates)
        except LedgerError as exc:
            if ledger is not None:
                ledger.close()
            _tell_ops(config, mailer, command, exc, now)
            raise
        try:
            yield run
        finally:
            ledger.close()


def _tell_ops(
    config: Config, mailer: smtp.Mailer | None, command: str, exc: LedgerError, now: datetime
) -> None:
    """failures_to hears that nothing went out because the ledger cannot be trusted."""
    mail = config.mail
    if mailer is None or mail is None or not mail.failures_to:
        return
    sender, ops = parse_mailbox(mail.from_), parse_mailbox(mail.failures_to)
    mid = message.message_id_for("*ledger*", now.isoformat(), ops.address, sender)
    notice = message.notice_message(
        message.Envelope(sender, ops, mid, now),
        f"[reportgen] {command}: nothing sent: the delivery ledger cannot be used",
        [str(exc), "", "No brief was sent: without a sound ledger a delivery could go out twice."],
    )
    with mailer:
        mailer.send(notice, sender, ops)


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
    """Build every brief, send each new edition once per mailbox, report the rest to
    failures_to. `send_all` (--all / --only-changed) is kept for old scripts: an edition
    goes to a mailbox once either way."""
    require_mail(config)
    mailer = _mailer(config, environ)  # a missing password fails before anything is built
    now = now or datetime.now(UTC)
    project = nightly_project(config)  # a bad theme fails before the run starts
    with _opened(project, "nightly", now, mailer, ledger_wait) as run:
        out = config.resolve(config.build.out)
        briefs = find_briefs([config.resolve(b) for b in config.build.briefs])
        built = build_many(briefs, out, project, batch_options(config))
        ready = [item for r in built.results if (item := _ready(run, r, out))]
        with mailer:
            run.send_all(ready, mailer)
            run.notify_failures(mailer)
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
    reused = "reused: unchanged since its last build"
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
        for brief_dir in dict.fromkeys(d.resolve() for d in brief_dirs):  # each brief once
            brief_id = brief_dir.name
            try:
                item = run.ready(last_good(out, brief_id))
            except OutputError as exc:
                run.fail(brief_id, str(exc))
                continue
            if item:
                ready.append(item)
        if mailer is None:
            run.send_all(ready, None, dry_run=dry_run)
        else:
            with mailer:
                run.send_all(ready, mailer, force=force)
                run.notify_failures(mailer)
        return run.finish()


def recent_runs(config: Config, limit: int = 10) -> list[RunLog]:
    """The newest runs of this output folder, with their events (empty when none yet)."""
    path = state_path(config.resolve(config.build.out))
    if not path.is_file():
        return []
    ledger = Ledger(path)
    try:
        return ledger.runs(limit)
    finally:
        ledger.close()
