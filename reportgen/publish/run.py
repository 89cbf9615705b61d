"""One nightly or send run: each edition of a brief to each mailbox once.

An *edition* is a brief's content, not the bytes or the hour of a build:
`edition_id` hashes the brief's input files with the project config that
shapes its page, so the same content built by `build`, `send` or `nightly` is
one edition. For each mailbox the ledger alone decides: `sent` is skipped,
`handed` (in doubt: the reply to DATA was lost) is skipped and reported unless
`send --force`, anything else is sent, with "handed" written before DATA and
the reply after. A delivered PDF is kept in the editions archive (an audit
log, never asked whether to send).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from reportgen.batch import page_digest
from reportgen.brief.summary import BriefSummary
from reportgen.config import ComplianceConfig, Config, MailConfig
from reportgen.errors import DeliveryError, EditionError, LedgerError, one_line
from reportgen.files import write_atomic
from reportgen.mailtext import Mailbox, header_problem, mailboxes, parse_mailbox
from reportgen.project import Project
from reportgen.publish import editions, message, smtp
from reportgen.publish.ledger import Delivery, Known, Ledger
from reportgen.record import LastGood
from reportgen.render.changes import Changes, Snapshot, compare

log = logging.getLogger(__name__)


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
    """A good PDF ready to go out: its edition, and the mailboxes it goes to."""

    good: LastGood
    edition: str
    mailboxes: list[Mailbox]

    @property
    def brief_id(self) -> str:
        return self.good.brief_id


def edition_id(good: LastGood, page: str) -> str:
    """The edition a build belongs to: its brief's files (the build record's digest) and
    the page config it was built with (the record's; `page`, the project's now, for a build
    just made or an older record). Never the PDF's bytes or the build time."""
    if not good.inputs:
        raise DeliveryError("its build record has no digest of its files: rebuild it")
    return hashlib.sha256(f"{good.inputs}\0{good.page or page}".encode()).hexdigest()


def readers(mail: MailConfig, summary: BriefSummary) -> list[Mailbox]:
    """[mail].to plus the brief's `recipients:`, each mailbox once."""
    try:
        found = mailboxes([*mail.to, *summary.recipients])
    except ValueError as exc:
        raise DeliveryError(f"recipients: {exc}") from None
    if not found:
        raise DeliveryError("no recipients (set [mail].to or recipients: in brief.yaml)")
    return found


def prepare(good: LastGood, mail: MailConfig, page: str) -> Ready:
    """A good PDF with its edition and readers; DeliveryError when it cannot go out. The
    publishing gate: a draft (a finding not accepted in review.yaml) stays home."""
    if not good.publishable:  # the build's own decision, from its record: never re-derived
        found = " / ".join(f"{p} [{p.finding}]" for p in good.open_findings)
        raise DeliveryError(
            f"draft, not sent ({len(good.open_findings)} open finding(s); see"
            f" `reportgen review` for brief {good.brief_id}): {found}"
        )
    return Ready(good, edition_id(good, page), readers(mail, good.summary))


@dataclass(frozen=True)
class Run:
    """What the steps of one run share: settings, ledger, and the report they fill in.
    Built whole by `Run.start`."""

    config: Config
    mail: MailConfig
    sender: Mailbox
    ledger: Ledger
    now: datetime
    command: str
    templates: message.MailTemplates
    out: Path
    page: str
    report: RunReport
    event: Callable[..., None]  # (brief, state, recipient=, code=, detail=): one line of its log

    @classmethod
    def start(
        cls,
        project: Project,
        command: str,
        ledger: Ledger,
        now: datetime,
        templates: message.MailTemplates,
    ) -> Run:
        """A run logged as started in the ledger (LedgerError when it cannot be)."""
        config = project.config
        assert config.mail is not None, "[mail] is checked before a run starts"
        run_id = ledger.start_run(command)
        return cls(
            config,
            config.mail,
            parse_mailbox(config.mail.from_),
            ledger,
            now,
            command,
            templates,
            config.resolve(config.build.out),
            page_digest(project),
            RunReport(run_id),
            functools.partial(ledger.event, run_id),
        )

    def fail(self, brief: str, why: str) -> None:
        why = one_line(why)
        log.warning("%s: %s", one_line(brief), why)
        self.event(brief, "failed", detail=why)
        self.report.outcomes.append(BriefOutcome(brief, "failed", [why]))

    def ready(self, good: LastGood) -> Ready | None:
        """The brief ready to send, or None (and a failure recorded) when it cannot go out."""
        try:
            return prepare(good, self.mail, self.page)
        except Exception as exc:  # any fault with one brief's mail fails that brief only
            self.fail(good.brief_id, f"not sent: {exc}")
            return None

    def send_all(
        self,
        ready: list[Ready],
        mailer: smtp.Mailer | None,
        *,
        force: bool = False,
        dry_run: Path | None = None,
    ) -> None:
        for item in ready:
            outcome = BriefOutcome(item.brief_id, "unchanged")
            statuses: dict[str, str] = {}
            for box in item.mailboxes:
                try:
                    statuses[box.address] = self._one(item, box, mailer, force, dry_run, outcome)
                except Exception as exc:  # a broken mail template ...: this brief only
                    self._note(outcome, "failed", f"not sent: {one_line(str(exc))}")
                    break
            self.report.outcomes.append(outcome)
            if "sent" in statuses.values():
                self._keep_edition(item, statuses)

    def _one(
        self,
        item: Ready,
        box: Mailbox,
        mailer: smtp.Mailer | None,
        force: bool,
        dry_run: Path | None,
        outcome: BriefOutcome,
    ) -> str:
        """One edition to one mailbox: skipped, written, sent or failed (the manifest's word)."""
        brief = item.brief_id
        delivery = Delivery(
            brief,
            item.edition,
            box.address,
            message.message_id_for(brief, item.edition, box.address, self.sender),
            hashlib.sha256(item.good.pdf).hexdigest(),
        )
        try:
            known = self.ledger.known(brief, item.edition, box.address, item.good.inputs)
            skip = None if force or dry_run or known is None else self._skip(delivery, known)
        except LedgerError as exc:  # whether it went out cannot be known: not sent
            return self._note(outcome, "failed", f"{box.address}: not sent: {exc}")
        if skip:
            why, failure = skip
            state = "failed" if failure else None
            self.event(brief, state or "skipped", recipient=box.address, detail=why)
            return self._note(outcome, state, f"{box.address}: {why}", "skipped")
        mail = self._message(item, box, delivery.message_id)
        if dry_run is not None:
            path = write_eml(dry_run, brief, self.sender, box, mail)
            return self._note(outcome, "written", f"{box.address}: {path}", "written")
        assert mailer is not None
        return self._deliver(delivery, box, mail, mailer, outcome, known)

    def _skip(self, d: Delivery, known: Known) -> tuple[str, bool] | None:
        """Why a mailbox is not sent an edition the ledger knows (and whether that is a
        failure to report), or None to send it. A
        delivery left in doubt by a run that was killed (and so told no one) is reported as
        a failure once: this run takes it over, and reports it."""
        if known.status == "sent":
            return "already delivered (this edition)", False
        if known.status != "handed":
            return None
        why = (
            "handed over, the server's reply was lost; not sent again: check with the reader,"
            " `reportgen send --force` resends"
        )
        if self.ledger.ended(known.run_id):
            return f"in doubt since run {known.run_id}: {why}", False
        self.ledger.record(
            self.report.run_id, d, "handed", detail=f"taken over from {known.run_id}"
        )
        return f"in doubt (run {known.run_id} was killed): {why}", True

    def _note(self, outcome: BriefOutcome, state: str | None, detail: str, word: str = "") -> str:
        """One line of a brief's outcome; a failure wins over any other state."""
        if state and outcome.state != "failed":
            outcome.state = state
        outcome.details.append(detail)
        return word or state or ""

    def _message(self, item: Ready, box: Mailbox, message_id: str) -> EmailMessage:
        envelope = message.Envelope(self.sender, box, message_id, self.now)
        good = item.good
        changes = self._changes_for(good, box)
        return message.brief_message(
            good.summary, changes, good.pdf, self.mail, envelope, self.templates
        )

    def _changes_for(self, good: LastGood, box: Mailbox) -> Changes | None:
        """What changed since the edition this reader last got (None: their first); the
        build's own comparison when that edition's snapshot is no longer kept."""
        try:
            last = self.ledger.last_pdf(good.brief_id, box.address)
        except LedgerError:
            return good.changes
        if last is None:
            return None
        before = editions.snapshot_of(self.out, good.brief_id, last)
        if before is None or good.snapshot is None:
            return good.changes
        try:
            changes = compare(before, Snapshot(**json.loads(good.snapshot)))
        except (ValueError, TypeError, KeyError):  # a snapshot of another shape
            return good.changes
        return replace(changes, since=before.generated[:10], since_edition=True)

    def _deliver(
        self,
        d: Delivery,
        box: Mailbox,
        mail: EmailMessage,
        mailer: smtp.Mailer,
        outcome: BriefOutcome,
        before: Known | None,
    ) -> str:
        """Send with the ledger around it: "handed" before DATA (no send when it cannot be
        written), the reply after (a reply that cannot be written leaves it in doubt). A
        `--force` resend that fails leaves what was known: sent stays sent."""
        run_id = self.report.run_id
        result = mailer.send(
            mail, self.sender, box, lambda: self.ledger.record(run_id, d, "handed")
        )
        if result.sent or not result.doubt:
            try:
                kept = before.status if before and before.status != "failed" else "failed"
                status = "sent" if result.sent else kept
                self.ledger.record(run_id, d, status, result.code, result.detail)
            except LedgerError as exc:
                log.warning("%s: %s: the reply is not recorded: %s", d.brief, d.mailbox, exc)
        state = "sent" if result.sent else "failed"
        self.event(d.brief, state, recipient=d.mailbox, code=result.code, detail=result.detail)
        if result.sent:
            return self._note(outcome, "sent", f"{d.mailbox}: sent ({d.message_id})")
        word = "in doubt" if result.doubt else "failed"
        return self._note(outcome, "failed", f"{d.mailbox}: {result.detail}", word)

    def _keep_edition(self, item: Ready, statuses: dict[str, str]) -> None:
        """The delivered PDF, unchanged, among the brief's editions, and who got it; old ones pruned."""
        brief, good = item.brief_id, item.good
        try:
            path = editions.record_edition(
                self.out, brief, good.summary.as_of, good.pdf, good.snapshot, statuses, self.now
            )
            retention = (self.config.compliance or ComplianceConfig()).retention_days
            pruned = editions.prune_editions(self.out, brief, retention, self.now)
        except EditionError as exc:
            self.fail(brief, str(exc))
            return
        self.event(brief, "edition", detail=str(path))
        for name in pruned:
            self.event(brief, "edition-pruned", detail=name)

    def notify_failures(self, mailer: smtp.Mailer) -> None:
        """One notice to [mail].failures_to listing every brief that failed and why."""
        failed, ops = self.report.failed, self.mail.failures_to
        if not failed or not ops:
            return
        names = ", ".join(one_line(o.brief_id) for o in failed)
        subject = f"[reportgen] {self.command} run {self.report.run_id}: {len(failed)} failed"
        subject += "" if header_problem(names) else f": {names}"  # a folder's name may be hostile
        lines = [f"reportgen {self.command} run {self.report.run_id} could not deliver:", ""]
        for o in failed:
            lines += [f"{one_line(o.brief_id)}:", *(f"  {one_line(d)}" for d in o.details)]
        lines += ["", "Nothing was sent for a brief that failed; its previous PDF was not re-sent."]
        to = parse_mailbox(ops)
        mid = message.message_id_for("*notice*", self.report.run_id, to.address, self.sender)
        try:
            notice = message.notice_message(
                message.Envelope(self.sender, to, mid, self.now), subject, lines
            )
        except DeliveryError as exc:
            self.event("*", "notice-failed", detail=str(exc))
            return
        result = mailer.send(notice, self.sender, to)  # failures are its outcome, not raised
        state = "notice-sent" if result.sent else "notice-failed"
        self.event("*", state, recipient=to.address, code=result.code, detail=result.detail)

    def finish(self) -> RunReport:
        self.ledger.end_run(self.report.run_id, self.report.exit_code)
        return self.report


def write_eml(folder: Path, brief: str, sender: Mailbox, box: Mailbox, mail: EmailMessage) -> Path:
    """--dry-run: the message exactly as it would be sent, as a .eml file."""
    safe = "".join(ch if ch.isalnum() or ch in "@.-_" else "_" for ch in box.address)
    path = folder / f"{brief}--{safe}.eml"
    write_atomic(path, smtp.as_sent(mail, sender, box))
    return path
