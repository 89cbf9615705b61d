"""One nightly or send run: the ledger's record of it, and sending each ready PDF once.

A `Run` takes values: a `LastGood` per brief (made this run, or the last good
build on disk for `send`), never a brief folder to load again. The ledger
skips every (brief, PDF hash, recipient) the server already accepted, so
re-running sends nothing twice.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path

from reportgen.config import MailConfig
from reportgen.errors import one_line
from reportgen.output import LastGood, write_atomic
from reportgen.publish import deliver
from reportgen.publish.ledger import Ledger

log = logging.getLogger(__name__)

NOTICE = "*failure-notice*"  # the ledger's "brief" for failure notices


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
        return 1 if self.failed else 0


@dataclass(frozen=True)
class Ready:
    """A good PDF ready to go out: what its messages say, and to whom."""

    good: LastGood
    pdf_sha256: str
    recipients: list[str]

    @property
    def brief_id(self) -> str:
        return self.good.brief_id


@dataclass(frozen=True)
class Envelope:
    """One message to one recipient, and how the ledger and the run log know it."""

    message: EmailMessage
    rcpt: str
    message_id: str
    ledger_key: tuple[str, str, str] | None  # (brief, content hash, fingerprint); None: unrecorded
    event_brief: str  # the brief named in the run log ("*" for a notice)
    state_prefix: str = ""  # "notice-" for failure notices


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


def prepare(good: LastGood, mail: MailConfig) -> Ready:
    """A good PDF with its recipients; DeliveryError when it cannot go out (checked before any send)."""
    recipients = recipients_for(mail, good.summary)
    deliver.subject_line(mail.subject, good.summary)  # refuse an injected subject up front
    return Ready(good, hashlib.sha256(good.pdf).hexdigest(), recipients)


class Run:
    """State shared by the steps of one run: mail settings, ledger, run id and report."""

    def __init__(self, mail: MailConfig, command: str, ledger: Ledger, now: datetime):
        self.mail = mail
        self.ledger = ledger
        self.now = now
        self.command = command
        self.report = RunReport(ledger.start_run(command))
        # event(brief, state, recipient=, code=, detail=): one line of this run's log
        self.event = functools.partial(ledger.event, self.report.run_id)

    def fail(self, brief: str, why: str) -> None:
        why = one_line(why)
        log.warning("%s: %s", one_line(brief), why)
        self.event(brief, "failed", detail=why)
        self.report.outcomes.append(BriefOutcome(brief, "failed", [why]))

    def ready(self, good: LastGood) -> Ready | None:
        """The brief ready to send, or None (and a failure recorded) when it cannot go out."""
        try:
            return prepare(good, self.mail)
        except Exception as exc:  # any fault with one brief's mail fails that brief only
            self.fail(good.brief_id, f"not sent: {exc}")
            return None

    def send_all(
        self,
        ready: list[Ready],
        mailer: deliver.Mailer | None,
        *,
        only_changed: bool,
        force: bool,
        dry_run: Path | None = None,
    ) -> None:
        for item in ready:
            outcome = BriefOutcome(item.brief_id, "unchanged")
            for rcpt in item.recipients:
                skip = None if force else self._skip_reason(item, rcpt, only_changed)
                if skip:
                    outcome.details.append(f"{rcpt}: {skip}")
                    self.event(item.brief_id, "skipped", recipient=rcpt, detail=skip)
                elif dry_run is not None:
                    outcome.state = "written"
                    path = write_eml(dry_run, item.brief_id, rcpt, self._message(item, rcpt)[0])
                    outcome.details.append(f"{rcpt}: {path}")
                else:
                    assert mailer is not None
                    self._deliver(item, rcpt, mailer, outcome)
            self.report.outcomes.append(outcome)

    def _skip_reason(self, item: Ready, rcpt: str, only_changed: bool) -> str | None:
        if self.ledger.is_sent(item.brief_id, item.pdf_sha256, rcpt):
            return "already delivered (same PDF)"
        last = self.ledger.last_sent_fingerprint(item.brief_id, rcpt)
        if only_changed and last == item.good.inputs:
            return "unchanged since last delivery"
        return None

    def _message(self, item: Ready, rcpt: str) -> tuple[EmailMessage, str]:
        brief, good = item.brief_id, item.good
        message_id = self.ledger.message_id(brief, item.pdf_sha256, rcpt) or deliver.message_id_for(
            brief, item.pdf_sha256, rcpt, self.mail.from_
        )
        message = deliver.brief_message(
            good.summary,
            good.pdf_path.name,
            good.pdf,
            self.mail,
            rcpt,
            message_id,
            good.changes,
            self.now,
        )
        return message, message_id

    def _deliver(
        self, item: Ready, rcpt: str, mailer: deliver.Mailer, outcome: BriefOutcome
    ) -> None:
        message, message_id = self._message(item, rcpt)
        key = (item.brief_id, item.pdf_sha256, item.good.inputs)
        result = self._send_recorded(
            mailer, Envelope(message, rcpt, message_id, key, item.brief_id)
        )
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
        findings = [
            f"{one_line(o.brief_id)}:\n" + "".join(f"  {d}\n" for d in o.details) for o in failed
        ]
        key = (
            hashlib.sha256("\n".join([edition.isoformat(), *findings]).encode()).hexdigest()
            if edition
            else None
        )
        if key and self.ledger.is_sent(NOTICE, key, ops):
            detail = "the same failures were reported this night"
            self.event("*", "notice-skipped", recipient=ops, detail=detail)
            return
        names = ", ".join(one_line(o.brief_id) for o in failed)
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
        self._send_recorded(mailer, Envelope(message, ops, message_id, ledger_key, "*", "notice-"))

    def _send_recorded(self, mailer: deliver.Mailer, env: Envelope) -> deliver.SendOutcome:
        """Send one message; the attempt is in the ledger before it goes and the server's
        answer after, so a lost ack resends with the same Message-ID and a 250 is never
        sent twice."""
        if env.ledger_key:
            brief, content, fingerprint = env.ledger_key
            self.ledger.record_attempt(
                self.report.run_id, brief, content, env.rcpt, env.message_id, fingerprint
            )
        result = mailer.send(env.message, self.mail.from_, env.rcpt)
        if env.ledger_key:
            self.ledger.record_result(
                env.ledger_key[0],
                env.ledger_key[1],
                env.rcpt,
                sent=result.sent,
                code=result.code,
                detail=result.detail,
                attempts=result.attempts,
            )
        state = env.state_prefix + ("sent" if result.sent else "failed")
        self.event(
            env.event_brief, state, recipient=env.rcpt, code=result.code, detail=result.detail
        )
        return result

    def finish(self) -> RunReport:
        self.ledger.end_run(self.report.run_id, self.report.exit_code)
        return self.report


def write_eml(folder: Path, brief: str, recipient: str, message: EmailMessage) -> Path:
    """--dry-run: the message exactly as it would be sent, as a .eml file."""
    safe = "".join(
        ch if ch.isalnum() or ch in "@.-_" else "_" for ch in deliver.address_of(recipient)
    )
    path = folder / f"{brief}--{safe}.eml"
    write_atomic(path, message.as_bytes(policy=SMTP_POLICY))
    return path
