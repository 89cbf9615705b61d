"""The exactly-once rules of delivery: whether a recipient gets a brief, and the ledger around a send.

Whether to send (`skip_reason`), in order:

1. the same PDF was accepted for this recipient (per the ledger, or per the
   editions manifest: a second record should the ledger be replaced): skip;
2. an earlier attempt at this PDF never got its answer recorded (the run died
   between the attempt and the server's reply): *unconfirmed*. The server may
   have accepted it, so it is not sent again (at most once); the run reports it
   so a person can check and `reportgen send --force` if it never arrived;
3. nightly only, the edition rule: an edition that was delivered is never
   delivered again whatever the clock says. The ledger keeps, per delivery, the
   edition (scheduled run time, UTC) and the brief's input fingerprint. A run
   whose edition is *earlier* than one already delivered (the clock stepped
   back) sends nothing and says so (a failure when the content differs, since
   it cannot go out with a date behind the reader's copy). The same content
   within `EDITION_GAP` of the edition delivered last is the same night moved
   by a `[schedule]` or time-zone change: skipped. A correction (new content)
   in the same edition goes out;
4. `only_changed`: the recipient's newest PDF came from the same input fingerprint.

Around a send (`send_recorded`): the attempt is written before the first byte
(no send when it cannot be), the answer after it (to the journal when the
ledger is locked); a failure to record one recipient never stops the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from reportgen.config import MailConfig
from reportgen.publish.ledger import Attempt, Ledger, LedgerError, Result
from reportgen.publish.message import Envelope, message_id_for, notice_message
from reportgen.publish.smtp import Mailer, SendOutcome

NOTICE = "*failure-notice*"  # the ledger's "brief" for failure notices

EDITION_GAP = timedelta(hours=20)  # less than a night apart: the same night, moved


@dataclass(frozen=True)
class Skip:
    """Why a recipient is not sent a brief; `failure` when a person should look."""

    reason: str
    failure: bool = False
    status: str = "skipped"  # what the editions manifest records for the recipient


def attempt_for(
    ledger: Ledger,
    key: tuple[str, str, str],
    sender: str,
    fingerprint: str,
    edition: datetime | None,
) -> Attempt:
    """The ledger's view of one message (key: brief, PDF sha256, recipient); a resend reuses
    the Message-ID it had."""
    brief, content, recipient = key
    try:
        known = ledger.message_id(brief, content, recipient)
    except LedgerError:
        known = None
    message_id = known or message_id_for(brief, content, recipient, sender)
    when = edition.isoformat() if edition else None
    return Attempt(brief, content, recipient, message_id, fingerprint, when)


def skip_reason(
    ledger: Ledger,
    attempt: Attempt,
    *,
    edition: datetime | None,
    only_changed: bool,
    in_manifest: bool = False,
) -> Skip | None:
    """None to send; otherwise why not (see the module's rules). A ledger that cannot
    answer means "not sent": whether it already went out cannot be known. `in_manifest`:
    the editions manifest says this recipient got this PDF (a ledger replaced by an empty
    one must not send it again)."""
    if in_manifest:
        return Skip("already delivered (same PDF, per the editions manifest)")
    try:
        return _skip_reason(ledger, attempt, edition, only_changed)
    except LedgerError as exc:
        return Skip(f"not sent: {exc}", failure=True, status="failed")


def _skip_reason(
    ledger: Ledger, attempt: Attempt, edition: datetime | None, only_changed: bool
) -> Skip | None:
    a = attempt
    status = ledger.status(a.brief, a.content, a.recipient)
    if status == "sent":
        return Skip("already delivered (same PDF)")
    if status == "pending":
        return Skip(
            "unconfirmed: an earlier run may have delivered this PDF (Message-ID"
            f" {ledger.message_id(a.brief, a.content, a.recipient)}); not sent again:"
            " check with the recipient, `reportgen send --force` resends",
            failure=True,
            status="unconfirmed",
        )
    if edition is not None:
        skip = _edition_rule(ledger, a, edition)
        if skip:
            return skip
    if only_changed and ledger.last_sent_fingerprint(a.brief, a.recipient) == a.fingerprint:
        return Skip("unchanged since last delivery")
    return None


def _edition_rule(ledger: Ledger, a: Attempt, edition: datetime) -> Skip | None:
    last = ledger.last_edition(a.brief, a.recipient)
    if last is None:
        return None
    delivered = datetime.fromisoformat(last.edition)
    same = last.fingerprint == a.fingerprint
    if edition < delivered:
        why = (
            f"edition {edition:%Y-%m-%d %H:%M} UTC is older than the one already delivered"
            f" ({delivered:%Y-%m-%d %H:%M} UTC): the clock is behind; not sent"
        )
        return Skip(why, failure=not same)
    if same and edition - delivered < EDITION_GAP:
        return Skip(
            f"this content was delivered as the edition of {delivered:%Y-%m-%d %H:%M} UTC,"
            " less than a night ago (schedule or time zone changed?); not sent again"
        )
    return None


def send_recorded(
    ledger: Ledger | None,
    run_id: str,
    mailer: Mailer,
    attempt: Attempt,
    message: EmailMessage,
    sender: str,
) -> SendOutcome:
    """Send one message with the ledger around it (no ledger: a notice that cannot be recorded)."""
    if ledger is not None:
        try:
            ledger.record_attempt(run_id, attempt)
        except LedgerError as exc:
            return SendOutcome(attempt.recipient, False, None, f"not sent: {exc}", 0)
    result = mailer.send(message, sender, attempt.recipient)
    if ledger is not None:
        ledger.record_result(
            Result(
                attempt.brief,
                attempt.content,
                attempt.recipient,
                result.sent,
                result.code,
                result.detail,
                result.attempts,
            )
        )
    return result


def notify_unsound_ledger(
    mail: MailConfig, mailer: Mailer | None, command: str, exc: LedgerError, now: datetime
) -> None:
    """Tell failures_to that nothing went out because the ledger cannot be trusted.

    Not recorded anywhere (there is no ledger to record it in)."""
    if mailer is None or not mail.failures_to:
        return
    message_id = message_id_for(NOTICE, f"ledger {now.isoformat()}", mail.failures_to, mail.from_)
    notice = notice_message(
        Envelope(mail.from_, mail.failures_to, message_id, now),
        f"[reportgen] {command}: nothing sent: the delivery ledger cannot be used",
        [str(exc), "", "No brief was sent: without a sound ledger a delivery could go out twice."],
    )
    with mailer:
        mailer.send(notice, mail.from_, mail.failures_to)
