"""One nightly or send run: the ledger's record of it, and sending each ready PDF once.

A `Run` takes values: a `LastGood` per brief (made this run, or the last good
build on disk for `send`), never a brief folder to load again. Whether each
recipient gets a brief is `once.skip_reason`'s call (same PDF already accepted,
an unconfirmed earlier attempt, the edition rule, `only_changed`), and every
send has the ledger around it (`once.send_recorded`). A delivered PDF is kept
as an edition.
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

from reportgen.brief.summary import BriefSummary
from reportgen.config import ComplianceConfig, Config, MailConfig
from reportgen.errors import DeliveryError, one_line
from reportgen.files import write_atomic
from reportgen.publish import editions, message, once, smtp
from reportgen.publish.ledger import Attempt, Ledger
from reportgen.record import LastGood

log = logging.getLogger(__name__)

NOTICE = once.NOTICE  # the ledger's "brief" for failure notices


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


def prepare(good: LastGood, mail: MailConfig) -> Ready:
    """A good PDF with its recipients; DeliveryError when it cannot go out (checked before any
    send). The publishing gate: a draft (a finding not accepted in review.yaml) stays home."""
    if not good.publishable:  # the build's own decision, from its record: never re-derived
        found = " / ".join(f"{p} [{p.finding}]" for p in good.open_findings)
        raise DeliveryError(
            f"draft, not sent ({len(good.open_findings)} open finding(s); see"
            f" `reportgen review` for brief {good.brief_id}): {found}"
        )
    recipients = recipients_for(mail, good.summary)
    message.subject_line(mail.subject, good.summary)  # refuse an injected subject up front
    return Ready(good, hashlib.sha256(good.pdf).hexdigest(), recipients)


class Run:
    """State shared by the steps of one run: settings, ledger, run id and report."""

    def __init__(
        self, config: Config, mail: MailConfig, command: str, ledger: Ledger, now: datetime
    ):
        self.config = config
        self.mail = mail
        self.ledger = ledger
        self.now = now
        self.command = command
        self.out = config.resolve(config.build.out)
        self.edition: datetime | None = None  # nightly: the scheduled run this run delivers
        self.templates: message.MailTemplates | None = None  # set before anything is sent
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
        mailer: smtp.Mailer | None,
        *,
        only_changed: bool,
        force: bool,
        dry_run: Path | None = None,
    ) -> None:
        for item in ready:
            self._send_brief(item, mailer, only_changed, force, dry_run)

    def _send_brief(
        self,
        item: Ready,
        mailer: smtp.Mailer | None,
        only_changed: bool,
        force: bool,
        dry_run: Path | None,
    ) -> None:
        outcome = BriefOutcome(item.brief_id, "unchanged")
        statuses: dict[str, str] = {}
        got = editions.sent_to(self.out, item.brief_id, item.pdf_sha256)
        for rcpt in item.recipients:
            attempt = once.attempt_for(
                self.ledger,
                (item.brief_id, item.pdf_sha256, rcpt),
                self.mail.from_,
                item.good.inputs,
                self.edition,
            )
            skip = None if force else self._skip(attempt, only_changed, rcpt in got)
            if skip:
                outcome.details.append(f"{rcpt}: {skip.reason}")
                outcome.state = "failed" if skip.failure else outcome.state
                statuses[rcpt] = skip.status
                state = "failed" if skip.failure else "skipped"
                self.event(item.brief_id, state, recipient=rcpt, detail=skip.reason)
                continue
            try:
                mail = self._message(item, attempt)
            except DeliveryError as exc:  # a broken mail template: nothing of this brief goes out
                outcome.state = "failed"
                outcome.details.append(f"not sent: {one_line(str(exc))}")
                self.event(item.brief_id, "failed", detail=str(exc))
                break
            if dry_run is not None:
                outcome.state = "written"
                outcome.details.append(f"{rcpt}: {write_eml(dry_run, item.brief_id, rcpt, mail)}")
                continue
            assert mailer is not None
            statuses[rcpt] = self._deliver(attempt, mail, mailer, outcome)
        self.report.outcomes.append(outcome)
        if "sent" in statuses.values():
            self._keep_edition(item, statuses)

    def _skip(self, attempt: Attempt, only_changed: bool, in_manifest: bool) -> once.Skip | None:
        return once.skip_reason(
            self.ledger,
            attempt,
            edition=self.edition,
            only_changed=only_changed,
            in_manifest=in_manifest,
        )

    def _message(self, item: Ready, attempt: Attempt) -> EmailMessage:
        assert self.templates is not None, "mail templates are loaded before a run sends"
        envelope = message.Envelope(
            self.mail.from_, attempt.recipient, attempt.message_id, self.now
        )
        good = item.good
        return message.brief_message(
            good.summary, good.changes, good.pdf, self.mail, envelope, self.templates
        )

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
        """The delivered PDF, unchanged, among the brief's editions, and who got it; old ones pruned."""
        brief, good = item.brief_id, item.good
        try:
            path = editions.record_edition(
                self.out, brief, good.summary.as_of, good.pdf, good.snapshot, statuses, self.now
            )
            retention = (self.config.compliance or ComplianceConfig()).retention_days
            pruned = editions.prune_editions(self.out, brief, retention, self.now)
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
            "Nothing was sent for a brief that failed; its previous PDF was not re-sent.",
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


def write_eml(folder: Path, brief: str, recipient: str, mail: EmailMessage) -> Path:
    """--dry-run: the message exactly as it would be sent, as a .eml file."""
    safe = "".join(
        ch if ch.isalnum() or ch in "@.-_" else "_" for ch in message.address_of(recipient)
    )
    path = folder / f"{brief}--{safe}.eml"
    write_atomic(path, mail.as_bytes(policy=SMTP_POLICY))
    return path
