"""The nightly job and `send`: build, verify, and email each brief exactly once.

`run_nightly` builds every brief, never sends one that failed (its previous
PDF stays where it is and is not re-sent), and emails the rest; the ledger
(reportgen.ledger) skips every (brief, PDF hash, recipient) already accepted
by the server, so re-running the job sends nothing twice. A run holds an
exclusive `flock` on `<out>/.reportgen/run.lock`; a second run exits at once.

The build clock is pinned to the scheduled run time of the current "edition"
(the latest `[schedule].time` in its zone), and a brief whose files did not
change since this edition's build is not built again, so a re-run the same
night finds the very same PDFs and they are already delivered. The next night
builds a new edition (its date differs), which goes out again unless
`only_changed` is set: then a recipient gets a brief only when its files
changed since the one they last received.

Recipients of a brief: every `[mail].to` address plus the brief's own
`recipients:` (duplicates removed).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from reportgen.config import Config, ConfigError, MailConfig, ScheduleConfig
from reportgen.errors import BriefError, DeliveryError, ReportgenError
from reportgen.publish import editions, message, once, smtp
from reportgen.publish.ledger import STATE_DIR, Attempt, Ledger, LedgerError, Run, state_path
from reportgen.publish.statedb import LEDGER_WAIT
from reportgen.publish.summary import BriefSummary, summarize
from reportgen.render.changes import SNAPSHOT_FILE, Changes, load_changes

if TYPE_CHECKING:
    from reportgen.render.environment import Renderer

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later
LOCK_FILE = "run.lock"
NOTICE = once.NOTICE


class LockHeld(ReportgenError):
    """Another nightly or send run holds the lock of this output folder."""


@contextmanager
def run_lock(out_dir: Path) -> Iterator[Path]:
    """An exclusive, non-blocking flock; the kernel frees it when the process dies."""
    path = out_dir / STATE_DIR / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise LockHeld(
                f"{path}: another reportgen run holds the lock (pid {holder}); exiting"
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield path
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class BriefOutcome:
    """What a run did with one brief, for the command's summary."""

    brief_id: str
    state: str  # sent | unchanged | failed | written
    details: list[str] = field(default_factory=list)


@dataclass
class RunReport:
    run_id: str
    outcomes: list[BriefOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[BriefOutcome]:
        return [o for o in self.outcomes if o.state == "failed"]

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if self.failed else EXIT_OK


@dataclass(frozen=True)
class Ready:
    """A built PDF ready to go out, with everything its messages need."""

    summary: BriefSummary
    pdf_bytes: bytes
    pdf_sha256: str
    fingerprint: str
    recipients: list[str]
    changes: Changes | None
    snapshot: bytes | None  # kept with the edition: what the next "Changes since" compares with


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


def fingerprint(brief_dir: Path) -> str:
    """A hash of every file in the brief folder: what `only_changed` compares."""
    digest = hashlib.sha256()
    for path in sorted(
        p for p in brief_dir.rglob("*") if p.is_file() and not p.name.startswith(".")
    ):
        digest.update(path.relative_to(brief_dir).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def recipients_for(mail: MailConfig, summary: BriefSummary) -> list[str]:
    """[mail].to plus the brief's own `recipients:`, each address once, each checked."""
    found = list(dict.fromkeys(r.strip() for r in [*mail.to, *summary.recipients]))
    for i, rcpt in enumerate(found):
        message.check_address(rcpt, f"{summary.brief_id}: recipients[{i}]")
    if not found:
        raise DeliveryError(
            f"{summary.brief_id}: no recipients (set [mail].to or recipients: in brief.yaml)"
        )
    return found


def prepare(brief_dir: Path, pdf: Path, mail: MailConfig) -> Ready:
    """Everything needed to send one built PDF; DeliveryError/BriefError when it cannot go out."""
    from reportgen.build import check_brief

    checked, problems = check_brief(brief_dir)
    if checked is None:
        raise BriefError(problems)
    summary = summarize(checked)
    recipients = recipients_for(mail, summary)
    message.subject_line(mail.subject, summary)  # refuse an injected subject before any send
    data = pdf.read_bytes()
    snapshot = pdf.parent / SNAPSHOT_FILE
    return Ready(
        summary,
        data,
        hashlib.sha256(data).hexdigest(),
        fingerprint(brief_dir),
        recipients,
        load_changes(pdf.parent),
        snapshot.read_bytes() if snapshot.is_file() else None,
    )


class _Run:
    """State shared by the steps of one run: config, ledger, run id and report."""

    def __init__(self, config: Config, command: str, ledger: Ledger, now: datetime):
        self.mail = require_mail(config)
        self.config = config
        self.ledger = ledger
        self.now = now
        self.report = RunReport(ledger.start_run(command))
        self.command = command
        self.edition: datetime | None = None  # nightly: the scheduled run this run delivers

    @functools.cached_property
    def renderer(self) -> Renderer:
        """The project's theme and template overrides, as `reportgen build` uses them."""
        from reportgen.render.theme import make_renderer

        return make_renderer(self.config)

    @functools.cached_property
    def templates(self) -> message.MailTemplates:
        """The mail bodies, from the same template search path as the briefs."""
        return message.MailTemplates(self.renderer)

    def event(
        self,
        brief: str,
        state: str,
        *,
        recipient: str | None = None,
        code: int | None = None,
        detail: str | None = None,
    ) -> None:
        self.ledger.event(
            self.report.run_id, brief, state, recipient=recipient, code=code, detail=detail
        )

    def fail(self, brief: str, why: str) -> None:
        log.warning("%s: %s", brief, why)
        self.event(brief, "failed", detail=why)
        self.report.outcomes.append(BriefOutcome(brief, "failed", [why]))

    def build(self, brief_dir: Path, out: Path, edition: datetime, strict: bool) -> Path | None:
        """This night's good PDF of a brief: built (and verified), or reused if its files did not change.

        Reuse keeps a re-run the same night from making a different PDF (a changes box
        compared against the first build, say) that the ledger would take for new content.
        """
        from reportgen.build import build_brief

        brief_id, key, files = brief_dir.resolve().name, edition.isoformat(), fingerprint(brief_dir)
        pdf = out / brief_id / f"{brief_id}.pdf"
        if self.ledger.build_of(brief_id, key) == (files, _sha256(pdf)):
            self.event(
                brief_id, "built", detail="reused: unchanged since this night's earlier build"
            )
            self.event(brief_id, "verified", detail=str(pdf))
            return pdf
        clock = None if os.environ.get("SOURCE_DATE_EPOCH") else edition
        result = build_brief(brief_dir, out, renderer=self.renderer, now=clock, strict=strict)
        built = next((p for p in result.outputs if p.suffix == ".pdf"), None)
        if not result.ok or built is None:
            self.fail(brief_id, "build failed: " + "; ".join(str(p) for p in result.errors))
            return None
        self.event(brief_id, "built")
        self.event(brief_id, "verified", detail=str(built))
        self.ledger.record_build(brief_id, key, files, _sha256(built) or "")
        return built

    def prepare(self, brief_dir: Path, pdf: Path) -> Ready | None:
        try:
            return prepare(brief_dir, pdf, self.mail)
        except (BriefError, DeliveryError, OSError) as exc:
            self.fail(brief_dir.resolve().name, f"not sent: {_one_line(exc)}")
            return None

    def send_all(
        self,
        ready: Sequence[Ready],
        mailer: smtp.Mailer | None,
        *,
        only_changed: bool,
        force: bool,
        dry_run: Path | None = None,
    ) -> None:
        for item in ready:
            self._send_brief(item, mailer, only_changed=only_changed, force=force, dry_run=dry_run)

    def _send_brief(
        self,
        item: Ready,
        mailer: smtp.Mailer | None,
        *,
        only_changed: bool,
        force: bool,
        dry_run: Path | None,
    ) -> None:
        brief = item.summary.brief_id
        outcome = BriefOutcome(brief, "unchanged")
        statuses: dict[str, str] = {}
        got = editions.sent_to(self.config.resolve(self.config.build.out), brief, item.pdf_sha256)
        for rcpt in item.recipients:
            key = (brief, item.pdf_sha256, rcpt)
            attempt = once.attempt_for(
                self.ledger, key, self.mail.from_, item.fingerprint, self.edition
            )
            skip = once.skip_reason(
                self.ledger,
                attempt,
                edition=self.edition,
                only_changed=only_changed,
                in_manifest=rcpt in got,
            )
            skip = None if force else skip
            if skip:
                outcome.details.append(f"{rcpt}: {skip.reason}")
                outcome.state = "failed" if skip.failure else outcome.state
                statuses[rcpt] = skip.status
                self.event(
                    brief,
                    "failed" if skip.failure else "skipped",
                    recipient=rcpt,
                    detail=skip.reason,
                )
                continue
            try:
                mail = message.brief_message(
                    item.summary,
                    item.changes,
                    item.pdf_bytes,
                    self.mail,
                    message.Envelope(self.mail.from_, rcpt, attempt.message_id, self.now),
                    self.templates,
                )
            except DeliveryError as exc:  # a broken mail template: nothing of this brief goes out
                outcome.state = "failed"
                outcome.details.append(f"not sent: {_one_line(exc)}")
                self.event(brief, "failed", detail=str(exc))
                break
            if dry_run is not None:
                outcome.state = "written"
                outcome.details.append(f"{rcpt}: {write_eml(dry_run, brief, rcpt, mail)}")
                continue
            assert mailer is not None
            statuses[rcpt] = self._deliver(attempt, mail, mailer, outcome)
        self.report.outcomes.append(outcome)
        if "sent" in statuses.values():
            self._keep_edition(item, statuses)

    def _deliver(
        self, attempt: Attempt, mail: EmailMessage, mailer: smtp.Mailer, outcome: BriefOutcome
    ) -> str:
        result = self._send_recorded(mailer, mail, attempt, attempt.brief, "")
        if result.sent:
            outcome.state = "sent" if outcome.state != "failed" else "failed"
            outcome.details.append(f"{attempt.recipient}: sent ({attempt.message_id})")
            return "sent"
        outcome.state = "failed"
        outcome.details.append(f"{attempt.recipient}: {result.detail}")
        return "failed"

    def _keep_edition(self, item: Ready, statuses: dict[str, str]) -> None:
        """The delivered PDF, unchanged, in <out>/<id>/editions/, and who got it; old ones pruned."""
        brief = item.summary.brief_id
        out = self.config.resolve(self.config.build.out)
        try:
            path = editions.record_edition(
                out, brief, item.summary.as_of, item.pdf_bytes, item.snapshot, statuses, self.now
            )
            retention = self.config.compliance.retention_days
            pruned = editions.prune_editions(out, brief, retention, self.now)
        except editions.EditionError as exc:
            self.fail(brief, str(exc))
            return
        self.event(brief, "edition", detail=str(path))
        for name in pruned:
            self.event(brief, "edition-pruned", detail=name)

    def notify_failures(self, mailer: smtp.Mailer, edition: datetime | None = None) -> None:
        """One notice to [mail].failures_to listing every brief that failed and why.

        With an edition (nightly), the same failures are reported once a night, not once a re-run.
        """
        failed, ops = self.report.failed, self.mail.failures_to
        if not failed or not ops:
            return
        findings = [f"{o.brief_id}:\n" + "".join(f"  {d}\n" for d in o.details) for o in failed]
        key = (
            hashlib.sha256("\n".join([edition.isoformat(), *findings]).encode()).hexdigest()
            if edition
            else None
        )
        if key and self.ledger.is_sent(NOTICE, key, ops):
            self.event(
                "*",
                "notice-skipped",
                recipient=ops,
                detail="the same failures were reported this night",
            )
            return
        names = ", ".join(o.brief_id for o in failed)
        subject = (
            f"[reportgen] {self.command} run {self.report.run_id}: {len(failed)} failed: {names}"
        )
        lines = [
            f"reportgen {self.command} run {self.report.run_id} could not deliver:",
            "",
            *findings,
            "Nothing was sent for a brief that failed to build; its previous PDF was not re-sent.",
        ]
        message_id = message.message_id_for(NOTICE, key or self.report.run_id, ops, self.mail.from_)
        try:
            envelope = message.Envelope(self.mail.from_, ops, message_id, self.now)
            notice = message.notice_message(envelope, subject[:900], lines)
        except DeliveryError as exc:
            self.event("*", "notice-failed", detail=str(exc))
            return
        attempt = Attempt(NOTICE, key or "", ops, message_id)
        self._send_recorded(mailer, notice, attempt, "*", "notice-", recorded=key is not None)

    def _send_recorded(
        self,
        mailer: smtp.Mailer,
        mail: EmailMessage,
        attempt: Attempt,
        event_brief: str,
        state_prefix: str,
        *,
        recorded: bool = True,
    ) -> smtp.SendOutcome:
        """Send one message with the ledger around it (once.send_recorded), then log the event."""
        ledger = self.ledger if recorded else None
        result = once.send_recorded(
            ledger, self.report.run_id, mailer, attempt, mail, self.mail.from_
        )
        state = state_prefix + ("sent" if result.sent else "failed")
        self.event(
            event_brief, state, recipient=attempt.recipient, code=result.code, detail=result.detail
        )
        return result

    def finish(self) -> RunReport:
        self.ledger.end_run(self.report.run_id, self.report.exit_code)
        return self.report


def _looks_complete(pdf: Path) -> bool:
    """A PDF starts with %PDF- and ends with %%EOF: a cheap guard against a truncated file."""
    with pdf.open("rb") as handle:
        head = handle.read(5)
        handle.seek(max(0, pdf.stat().st_size - 1024))
        return head == b"%PDF-" and b"%%EOF" in handle.read()


def _sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _one_line(exc: BaseException) -> str:
    return " / ".join(str(exc).splitlines()) or type(exc).__name__


def require_mail(config: Config) -> MailConfig:
    """[mail] is needed to send; its headers are checked here, before anything is built or sent."""
    where = str(config.path or "reportgen.toml")
    if config.mail is None:
        raise ConfigError(f"{where}: [mail] is required to send (from, to, subject)")
    message.check_mail_config(config.mail, where)
    return config.mail


def write_eml(folder: Path, brief: str, recipient: str, mail: EmailMessage) -> Path:
    """--dry-run: the message exactly as it would be sent, as a .eml file."""
    from email.policy import SMTP as SMTP_POLICY

    from reportgen.output import write_atomic

    safe = "".join(
        ch if ch.isalnum() or ch in "@.-_" else "_" for ch in message.address_of(recipient)
    )
    path = folder / f"{brief}--{safe}.eml"
    write_atomic(path, mail.as_bytes(policy=SMTP_POLICY))
    return path


@contextmanager
def _opened(
    config: Config, command: str, now: datetime | None, mailer: smtp.Mailer | None, wait: float
) -> Iterator[_Run]:
    """Lock the output folder, open the ledger (sound, or nothing is sent), start a run."""
    out = config.resolve(config.build.out)
    now = now or datetime.now(UTC)
    with run_lock(out):
        ledger = None
        try:
            ledger = Ledger(state_path(out), wait)
            run = _Run(config, command, ledger, now)
        except LedgerError as exc:
            if ledger is not None:
                ledger.close()
            once.notify_unsound_ledger(require_mail(config), mailer, command, exc, now)
            raise
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
    from reportgen.build import find_briefs

    mail = require_mail(config)
    mailer = _mailer(config, environ)  # a missing password fails before anything is built
    only_changed = mail.only_changed if send_all is None else not send_all
    with _opened(config, "nightly", now, mailer, ledger_wait) as run:
        out = config.resolve(config.build.out)
        edition = run.edition = edition_time(run.now, config.schedule)
        ready = []
        for brief_dir in find_briefs([config.resolve(b) for b in config.build.briefs]):
            pdf = run.build(brief_dir, out, edition, config.build.strict)
            item = run.prepare(brief_dir, pdf) if pdf else None
            if item:
                ready.append(item)
        with mailer:
            run.send_all(ready, mailer, only_changed=only_changed, force=False)
            run.notify_failures(mailer, edition)
        return run.finish()


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
    require_mail(config)
    mailer = None if dry_run else _mailer(config, environ)
    command = "send" if dry_run is None else "send --dry-run"
    with _opened(config, command, None, mailer, ledger_wait) as run:
        out = config.resolve(config.build.out)
        ready = []
        for brief_dir in brief_dirs:
            brief_id = brief_dir.resolve().name
            pdf = out / brief_id / f"{brief_id}.pdf"
            if not pdf.is_file():
                run.fail(brief_id, f"no built PDF at {pdf}: run `reportgen build` first")
                continue
            if not _looks_complete(pdf):
                run.fail(brief_id, f"{pdf}: not a complete PDF (truncated?): rebuild it")
                continue
            item = run.prepare(brief_dir, pdf)
            if item:
                ready.append(item)
        if mailer is None:
            run.send_all(ready, None, only_changed=False, force=True, dry_run=dry_run)
        else:
            with mailer:
                run.send_all(ready, mailer, only_changed=False, force=force)
                run.notify_failures(mailer)
        return run.finish()


def recent_runs(config: Config, limit: int = 10) -> list[Run]:
    """The newest runs of this output folder, with their events (empty when none yet)."""
    path = state_path(config.resolve(config.build.out))
    if not path.is_file():
        return []
    ledger = Ledger(path)
    try:
        return ledger.runs(limit)
    finally:
        ledger.close()
