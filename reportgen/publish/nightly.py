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

from reportgen.brief.findings import why_not_publishable
from reportgen.config import Config, ConfigError, MailConfig, ScheduleConfig
from reportgen.errors import BriefError, ReportgenError
from reportgen.publish import deliver
from reportgen.publish.ledger import STATE_DIR, Ledger, Run, state_path
from reportgen.render.changes import CHANGES_FILE

if TYPE_CHECKING:
    from reportgen.render.environment import Renderer

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later
LOCK_FILE = "run.lock"
NOTICE = "*failure-notice*"  # the ledger's "brief" for failure notices


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

    summary: deliver.BriefSummary
    pdf: Path
    pdf_bytes: bytes
    pdf_sha256: str
    fingerprint: str
    recipients: list[str]
    changes: deliver.Changes | None


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


def recipients_for(mail: MailConfig, summary: deliver.BriefSummary) -> list[str]:
    """[mail].to plus the brief's own `recipients:`, each address once, each checked."""
    found = list(dict.fromkeys(r.strip() for r in [*mail.to, *summary.recipients]))
    for i, rcpt in enumerate(found):
        deliver.check_address(rcpt, f"{summary.brief_id}: recipients[{i}]")
    if not found:
        raise deliver.DeliveryError(
            f"{summary.brief_id}: no recipients (set [mail].to or recipients: in brief.yaml)"
        )
    return found


def prepare(brief_dir: Path, pdf: Path, mail: MailConfig) -> Ready:
    """Everything needed to send one built PDF; DeliveryError/BriefError when it cannot go out."""
    if draft := why_not_publishable(pdf):  # the publishing gate: open findings stay home
        raise deliver.DeliveryError(
            f"draft, not sent ({len(draft)} open finding(s); see `reportgen review {brief_dir}`): "
            + " / ".join(draft)
        )
    summary = deliver.summarize(brief_dir)
    recipients = recipients_for(mail, summary)
    deliver.subject_line(mail.subject, summary)  # refuse an injected subject before any send
    data = pdf.read_bytes()
    changes = deliver.load_changes(pdf.parent / CHANGES_FILE)
    return Ready(
        summary,
        pdf,
        data,
        hashlib.sha256(data).hexdigest(),
        fingerprint(brief_dir),
        recipients,
        changes,
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

    @functools.cached_property
    def renderer(self) -> Renderer:
        """The project's theme and template overrides, as `reportgen build` uses them."""
        from reportgen.render.theme import make_renderer

        return make_renderer(self.config)

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
        except (BriefError, deliver.DeliveryError, OSError) as exc:
            self.fail(brief_dir.resolve().name, f"not sent: {_one_line(exc)}")
            return None

    def send_all(
        self,
        ready: Sequence[Ready],
        mailer: deliver.Mailer | None,
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
        mailer: deliver.Mailer | None,
        *,
        only_changed: bool,
        force: bool,
        dry_run: Path | None,
    ) -> None:
        brief = item.summary.brief_id
        outcome = BriefOutcome(brief, "unchanged")
        for rcpt in item.recipients:
            skip = None if force else self._skip_reason(item, rcpt, only_changed)
            if skip:
                outcome.details.append(f"{rcpt}: {skip}")
                self.event(brief, "skipped", recipient=rcpt, detail=skip)
                continue
            message_id = self.ledger.message_id(
                brief, item.pdf_sha256, rcpt
            ) or deliver.message_id_for(brief, item.pdf_sha256, rcpt, self.mail.from_)
            message = deliver.brief_message(
                item.summary,
                item.pdf.name,
                item.pdf_bytes,
                self.mail,
                rcpt,
                message_id,
                item.changes,
                self.now,
            )
            if dry_run is not None:
                outcome.state = "written"
                outcome.details.append(f"{rcpt}: {write_eml(dry_run, brief, rcpt, message)}")
                continue
            assert mailer is not None
            self._deliver(item, rcpt, message, message_id, mailer, outcome)
        self.report.outcomes.append(outcome)

    def _skip_reason(self, item: Ready, rcpt: str, only_changed: bool) -> str | None:
        brief = item.summary.brief_id
        if self.ledger.is_sent(brief, item.pdf_sha256, rcpt):
            return "already delivered (same PDF)"
        if only_changed and self.ledger.last_sent_fingerprint(brief, rcpt) == item.fingerprint:
            return "unchanged since last delivery"
        return None

    def _deliver(
        self,
        item: Ready,
        rcpt: str,
        message: EmailMessage,
        message_id: str,
        mailer: deliver.Mailer,
        outcome: BriefOutcome,
    ) -> None:
        brief = item.summary.brief_id
        ledger_key = (brief, item.pdf_sha256, item.fingerprint)
        result = self._send_recorded(mailer, message, rcpt, message_id, ledger_key, brief, "")
        if result.sent:
            outcome.state = "sent" if outcome.state != "failed" else "failed"
            outcome.details.append(f"{rcpt}: sent ({message_id})")
        else:
            outcome.state = "failed"
            outcome.details.append(f"{rcpt}: {result.detail}")

    def notify_failures(self, mailer: deliver.Mailer, edition: datetime | None = None) -> None:
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
        message_id = deliver.message_id_for(NOTICE, key or self.report.run_id, ops, self.mail.from_)
        try:
            message = deliver.notice_message(self.mail, subject[:900], lines, message_id, self.now)
        except deliver.DeliveryError as exc:
            self.event("*", "notice-failed", detail=str(exc))
            return
        ledger_key = (NOTICE, key, "") if key else None
        self._send_recorded(mailer, message, ops, message_id, ledger_key, "*", "notice-")

    def _send_recorded(
        self,
        mailer: deliver.Mailer,
        message: EmailMessage,
        rcpt: str,
        message_id: str,
        ledger_key: tuple[str, str, str] | None,
        event_brief: str,
        state_prefix: str,
    ) -> deliver.SendOutcome:
        """Send one message; the attempt is in the ledger before it goes and the server's
        answer after (ledger_key: brief, content hash, fingerprint), so a lost ack resends
        with the same Message-ID and a 250 is never sent twice."""
        if ledger_key:
            brief, content, fingerprint = ledger_key
            self.ledger.record_attempt(
                self.report.run_id, brief, content, rcpt, message_id, fingerprint
            )
        result = mailer.send(message, self.mail.from_, rcpt)
        if ledger_key:
            self.ledger.record_result(
                ledger_key[0],
                ledger_key[1],
                rcpt,
                sent=result.sent,
                code=result.code,
                detail=result.detail,
                attempts=result.attempts,
            )
        state = state_prefix + ("sent" if result.sent else "failed")
        self.event(event_brief, state, recipient=rcpt, code=result.code, detail=result.detail)
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
    deliver.check_mail_config(config.mail, where)
    return config.mail


def write_eml(folder: Path, brief: str, recipient: str, message: EmailMessage) -> Path:
    """--dry-run: the message exactly as it would be sent, as a .eml file."""
    from email.policy import SMTP as SMTP_POLICY

    from reportgen.output import write_atomic

    safe = "".join(
        ch if ch.isalnum() or ch in "@.-_" else "_" for ch in deliver.address_of(recipient)
    )
    path = folder / f"{brief}--{safe}.eml"
    write_atomic(path, message.as_bytes(policy=SMTP_POLICY))
    return path


@contextmanager
def _opened(config: Config, command: str, now: datetime | None) -> Iterator[_Run]:
    """Lock the output folder, open the ledger, start a run; always end it."""
    out = config.resolve(config.build.out)
    with run_lock(out):
        ledger = Ledger(state_path(out))
        try:
            yield _Run(config, command, ledger, now or datetime.now(UTC))
        finally:
            ledger.close()


def _mailer(config: Config, environ: dict[str, str] | None) -> deliver.Mailer:
    """The SMTP side, checked before anything is built: [smtp] present, the password at hand."""
    if config.smtp is None:
        raise ConfigError(
            f"{config.path or 'reportgen.toml'}: [smtp] is required to send (host, port, security)"
        )
    smtp = config.smtp
    return deliver.Mailer(
        smtp, deliver.smtp_password(smtp, dict(os.environ if environ is None else environ))
    )


def run_nightly(
    config: Config,
    *,
    send_all: bool | None = None,
    now: datetime | None = None,
    environ: dict[str, str] | None = None,
) -> RunReport:
    """Build every brief, send the good ones exactly once, report the rest to failures_to."""
    from reportgen.build import find_briefs

    mail = require_mail(config)
    mailer = _mailer(config, environ)  # a missing password fails before anything is built
    only_changed = mail.only_changed if send_all is None else not send_all
    with _opened(config, "nightly", now) as run:
        out = config.resolve(config.build.out)
        edition = edition_time(run.now, config.schedule)
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
) -> RunReport:
    """Email the last good PDF of each brief (`<out>/<id>/<id>.pdf`), or write .eml files."""
    require_mail(config)
    mailer = None if dry_run else _mailer(config, environ)
    with _opened(config, "send" if dry_run is None else "send --dry-run", None) as run:
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
