"""The nightly job and `send`: build, verify, and email each edition of a brief to each
mailbox once. An *edition* is a brief's content (`edition_id`: its input files and the config
that shapes its page), not the bytes or the hour of a build: the same content built by
`build`, `send` or `nightly` is one edition. The ledger alone decides whether a mailbox gets
it (see ledger.py); a delivered PDF is kept in the editions archive (an audit log only).

`run_nightly` builds every brief as `reportgen build` does and never sends one that failed
(its previous PDF is not re-sent). A run holds an exclusive lock on the output folder (a
second run exits at once, 75) and a sound ledger, or sends nothing and tells failures_to.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from reportgen.batch import BatchOptions, build_many, page_digest
from reportgen.brief.spec import find_briefs
from reportgen.cache import CHART_DIR, ChartCache
from reportgen.config import ComplianceConfig, Config
from reportgen.errors import DeliveryError, EditionError, LedgerError, one_line
from reportgen.files import write_atomic
from reportgen.mailtext import Mailbox, mailboxes, parse_mailbox
from reportgen.project import Project, load_project
from reportgen.publish import editions, message, smtp
from reportgen.publish.ledger import LEDGER_WAIT, Delivery, Known, Ledger, run_lock, state_path
from reportgen.record import BuildResult, LastGood, OutputError, just_built, last_good
from reportgen.render.changes import Changes, Snapshot, compare
from reportgen.workers import Ceilings

log = logging.getLogger(__name__)

EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later


@dataclass
class BriefOutcome:
    """What a run did with one brief, for the command's summary."""

    brief_id: str
    state: str  # sent | unchanged | failed | written
    details: list[str] = field(default_factory=list)

    def note(self, detail: str, state: str | None = None) -> None:
        """One line of the outcome; a failure wins over any other state."""
        if state and self.state != "failed":
            self.state = state
        self.details.append(detail)


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


IN_DOUBT = "not sent again: check with the reader, `reportgen send --force` resends"


@dataclass(frozen=True)
class Ready:
    """A good PDF ready to go out: its edition, and the mailboxes it goes to."""

    good: LastGood
    edition: str
    mailboxes: list[Mailbox]
    pdf_sha256: str


def edition_id(good: LastGood, page: str) -> str:
    """The edition a build belongs to: its brief's files (the build record's digest) and
    the page config it was built with (the record's; `page`, the project's now, for a build
    just made or an older record). Never the PDF's bytes or the build time."""
    if not good.inputs:
        raise DeliveryError("its build record has no digest of its files: rebuild it")
    return hashlib.sha256(f"{good.inputs}\0{good.page or page}".encode()).hexdigest()


@dataclass
class Run:
    """What the steps of one run share: settings, ledger, and the report they fill in. Made,
    the run is logged as started in the ledger (LedgerError when it cannot be)."""

    project: Project
    command: str
    ledger: Ledger
    now: datetime
    templates: message.MailTemplates
    mailer: smtp.Mailer | None  # None with dry_run, the folder the messages are written to
    force: bool = False
    dry_run: Path | None = None

    def __post_init__(self) -> None:
        config = self.project.config
        assert config.mail is not None, "[mail] is checked before a run starts"
        self.mail = config.mail
        self.sender = parse_mailbox(config.mail.from_)
        self.out = config.resolve(config.build.out)
        self.page = page_digest(self.project)
        self.report = RunReport(self.ledger.start_run(self.command))
        # (brief, state, recipient=, code=, detail=): one line of the run's log
        self.event = functools.partial(self.ledger.event, self.report.run_id)

    def fail(self, brief: str, why: str) -> None:
        why = one_line(why)
        log.warning("%s: %s", one_line(brief), why)
        self.event(brief, "failed", detail=why)
        self.report.outcomes.append(BriefOutcome(brief, "failed", [why]))

    def ready(self, good: LastGood) -> Ready | None:
        """The brief ready to send, or None (and a failure recorded) when it cannot go out.
        The publishing gate: a draft (a finding not accepted in review.yaml) stays home."""
        try:
            if not good.publishable:  # the build's own decision, from its record: never re-derived
                found = " / ".join(f"{p} [{p.finding}]" for p in good.open_findings)
                raise DeliveryError(
                    f"draft, not sent ({len(good.open_findings)} open finding(s); see"
                    f" `reportgen review` for brief {good.brief_id}): {found}"
                )
            edition = edition_id(good, self.page)
            try:  # [mail].to plus the brief's `recipients:`, each mailbox once
                boxes = mailboxes([*self.mail.to, *good.summary.recipients])
            except ValueError as exc:
                raise DeliveryError(f"recipients: {exc}") from None
            if not boxes:
                raise DeliveryError("no recipients (set [mail].to or recipients: in brief.yaml)")
            return Ready(good, edition, boxes, hashlib.sha256(good.pdf).hexdigest())
        except Exception as exc:  # any fault with one brief's mail fails that brief only
            self.fail(good.brief_id, f"not sent: {exc}")
            return None

    def deliver(self, ready: list[Ready | None]) -> RunReport:
        """Send (or write) each brief to each of its mailboxes (None: a brief not ready), tell
        failures_to what failed, and end the run."""
        with self.mailer or nullcontext():
            for item in filter(None, ready):
                self._brief(item)
            if self.mailer:
                self._notify_failures(self.mailer)
        self.ledger.end_run(self.report.run_id, self.report.exit_code)
        return self.report

    def _brief(self, item: Ready) -> None:
        outcome = BriefOutcome(item.good.brief_id, "unchanged")
        statuses: dict[str, str] = {}
        for box in item.mailboxes:
            try:
                statuses[box.address] = self._one(item, box, outcome)
            except Exception as exc:  # a broken mail template ...: this brief only
                why = f"not sent: {one_line(str(exc))}"
                self.event(item.good.brief_id, "failed", recipient=box.address, detail=why)
                outcome.note(f"{box.address}: {why}", "failed")
                break
        self.report.outcomes.append(outcome)
        if "sent" in statuses.values():
            self._keep_edition(item.good, statuses)

    def _one(self, item: Ready, box: Mailbox, outcome: BriefOutcome) -> str:
        """One edition to one mailbox: skipped, written, sent, in doubt or failed (the
        manifest's word). Sent with the ledger around it: "handed" before DATA (no send when
        it cannot be written), the reply after (a reply that cannot be written leaves it in
        doubt). A `--force` resend that fails leaves what was known: sent stays sent."""
        good, brief, run_id = item.good, item.good.brief_id, self.report.run_id
        mid = message.message_id_for(brief, item.edition, box.address, self.sender)
        d = Delivery(brief, item.edition, box.address, mid, item.pdf_sha256)
        try:
            known = self.ledger.known(brief, item.edition, box.address, good.inputs)
            skip = None if self.force or self.dry_run or known is None else self._skip(d, known)
        except LedgerError as exc:  # whether it went out cannot be known: not sent
            why = f"not sent: {one_line(str(exc))}"
            self.event(brief, "failed", recipient=box.address, detail=why)
            outcome.note(f"{box.address}: {why}", "failed")
            return "failed"
        if skip:
            why, failure = skip
            self.event(brief, "failed" if failure else "skipped", recipient=box.address, detail=why)
            outcome.note(f"{box.address}: {why}", "failed" if failure else None)
            return "skipped"
        envelope = message.Envelope(self.sender, box, mid, self.now)
        changes = self._changes_for(good, box)
        mail = message.brief_message(
            good.summary, changes, good.pdf, self.mail, envelope, self.templates
        )
        if self.dry_run is not None:  # the message exactly as it would be sent, as a .eml file
            safe = "".join(ch if ch.isalnum() or ch in "@.-_" else "_" for ch in box.address)
            path = self.dry_run / f"{brief}--{safe}.eml"
            write_atomic(path, smtp.as_sent(mail, self.sender, box))
            outcome.note(f"{box.address}: {path}", "written")
            return "written"
        assert self.mailer is not None
        result = self.mailer.send(
            mail, self.sender, box, lambda: self.ledger.record(run_id, d, "handed")
        )
        if result.sent or not result.doubt:
            try:
                kept = known.status if known and known.status != "failed" else "failed"
                status = "sent" if result.sent else kept
                self.ledger.record(run_id, d, status, result.code, result.detail)
            except LedgerError as exc:
                log.warning("%s: %s: the reply is not recorded: %s", brief, box.address, exc)
                if not result.sent:  # the ledger still says "handed": no run sends it again
                    why = f"{result.detail}; left handed over in the ledger: {IN_DOUBT}"
                    result = replace(result, doubt=True, detail=why)
        state = "sent" if result.sent else "failed"
        self.event(brief, state, recipient=box.address, code=result.code, detail=result.detail)
        if result.sent:
            outcome.note(f"{box.address}: sent ({mid})", "sent")
            return "sent"
        outcome.note(f"{box.address}: {result.detail}", "failed")
        return "in doubt" if result.doubt else "failed"

    def _skip(self, d: Delivery, known: Known) -> tuple[str, bool] | None:
        """Why a mailbox is not sent an edition the ledger knows (and whether that is a
        failure to report), or None to send it. A delivery left in doubt by a run that was
        killed (and so told no one) is reported as a failure once: this run takes it over."""
        if known.status == "sent":
            return "already delivered (this edition)", False
        if known.status != "handed":
            return None
        why = f"handed over, the server's reply was lost; {IN_DOUBT}"
        if self.ledger.ended(known.run_id):
            return f"in doubt since run {known.run_id}: {why}", False
        self.ledger.record(
            self.report.run_id, d, "handed", detail=f"taken over from {known.run_id}"
        )
        return f"in doubt (run {known.run_id} was killed): {why}", True

    def _changes_for(self, good: LastGood, box: Mailbox) -> Changes | None:
        """What changed since the edition this reader last got (None: their first); the
        build's own comparison when that edition's snapshot is no longer kept."""
        try:
            last = self.ledger.last_pdf(good.brief_id, box.address)
        except LedgerError:
            return good.changes
        if last is None:
            return None
        before = editions.last_delivered_snapshot(self.out, good.brief_id, last)
        if before is None or good.snapshot is None:
            return good.changes
        try:
            changes = compare(before, Snapshot(**json.loads(good.snapshot)))
        except (ValueError, TypeError, KeyError):  # a snapshot of another shape
            return good.changes
        return replace(changes, since=before.generated[:10], since_edition=True)

    def _keep_edition(self, good: LastGood, statuses: dict[str, str]) -> None:
        """The delivered PDF, unchanged, among the brief's editions, and who got it; old ones pruned."""
        brief = good.brief_id
        try:
            path = editions.record_edition(
                self.out, brief, good.summary.as_of, good.pdf, good.snapshot, statuses, self.now
            )
            retention = (self.project.config.compliance or ComplianceConfig()).retention_days
            pruned = editions.prune_editions(self.out, brief, retention, self.now)
        except EditionError as exc:
            self.fail(brief, str(exc))
            return
        self.event(brief, "edition", detail=str(path))
        for name in pruned:
            self.event(brief, "edition-pruned", detail=name)

    def _notify_failures(self, mailer: smtp.Mailer) -> None:
        """One notice to [mail].failures_to listing every brief that failed and why."""
        failed, ops, run_id = self.report.failed, self.mail.failures_to, self.report.run_id
        if not failed or not ops:
            return
        notice = [(o.brief_id, o.details) for o in failed]
        subject, lines = message.failure_notice(self.command, run_id, notice)
        try:
            to, result = message.notify(
                mailer, self.mail, self.now, ("*notice*", run_id), subject, lines
            )
        except DeliveryError as exc:
            self.event("*", "notice-failed", detail=str(exc))
            return
        state = "notice-sent" if result.sent else "notice-failed"
        self.event("*", state, recipient=to, code=result.code, detail=result.detail)


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
        delivered=editions.last_delivered_snapshot,
    )


@contextmanager
def _opened(
    project: Project,
    command: str,
    now: datetime,
    mailer: smtp.Mailer | None,
    wait: float,
    force: bool = False,
    dry_run: Path | None = None,
) -> Iterator[Run]:
    """Lock the output folder, open the ledger (sound, or nothing is sent), start a run;
    always close the ledger."""
    config = project.config
    mail = message.require_mail(config)
    out = config.resolve(config.build.out)
    templates = message.MailTemplates(project.renderer())  # a bad template fails up front
    with run_lock(out), ExitStack() as opened:
        try:
            ledger = opened.enter_context(closing(Ledger(state_path(out), wait)))
            run = Run(project, command, ledger, now, templates, mailer, force, dry_run)
        except LedgerError as exc:  # failures_to hears that nothing went out, and why
            if mailer is not None and mail.failures_to:
                subject = f"[reportgen] {command}: nothing sent: the delivery ledger cannot be used"
                why = "No brief was sent: without a sound ledger a delivery could go out twice."
                with mailer:
                    key = ("*ledger*", now.isoformat())
                    message.notify(mailer, mail, now, key, subject, [str(exc), "", why])
            raise
        yield run


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
    message.require_mail(config)
    mailer = smtp.mailer_for(config, environ)  # a missing password fails before anything is built
    now = now or datetime.now(UTC)
    project = nightly_project(config)  # a bad theme fails before the run starts
    with _opened(project, "nightly", now, mailer, ledger_wait) as run:
        briefs = find_briefs([config.resolve(b) for b in config.build.briefs])
        built = build_many(briefs, run.out, project, batch_options(config))
        return run.deliver([_ready(run, r) for r in built.results])


def _ready(run: Run, result: BuildResult) -> Ready | None:
    """A brief's result as the run log tells it, and its PDF ready to send when it is good."""
    brief, built, out = result.brief_id, result.built, run.out
    if not result.ok:
        run.fail(brief, "build failed: " + "; ".join(str(p) for p in result.errors))
        return None
    try:
        good = just_built(built, out, result.digest) if built is not None else last_good(out, brief)
    except OutputError as exc:
        run.fail(brief, f"not sent: {exc}")
        return None
    reused = "reused: unchanged since its last build"
    run.event(brief, "built", detail=reused if built is None else None)
    run.event(brief, "verified", detail=str(good.pdf_path))
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
    mailer = None if dry_run else smtp.mailer_for(config, environ)
    command = "send" if dry_run is None else "send --dry-run"
    project, now = load_project(config), datetime.now(UTC)
    with _opened(project, command, now, mailer, ledger_wait, force, dry_run) as run:
        ready: list[Ready | None] = []
        for brief_dir in dict.fromkeys(d.resolve() for d in brief_dirs):  # each brief once
            try:
                ready.append(run.ready(last_good(run.out, brief_dir.name)))
            except OutputError as exc:
                run.fail(brief_dir.name, str(exc))
        return run.deliver(ready)
