"""The delivery ledger and run log: SQLite at `<out>/.reportgen/state.sqlite`.

A delivery is keyed by brief, PDF content hash and recipient, and is marked
sent only after the server's 250 for that message: that is what makes the
nightly job send each PDF to each recipient exactly once, however often it is
re-run. Each delivery also records the nightly edition it belonged to and the
input fingerprint of the brief, so a clock stepped back or a changed time zone
cannot make an edition already delivered go out again (nightly.py's rule).

The database is opened soundly by reportgen.publish.statedb (quick_check,
bounded waits, one-line LedgerError). Beyond that:

- a server's answer that cannot be written (the file locked right after a 250)
  goes to `unrecorded.jsonl` beside the database (fsynced) and is applied on the
  next open; a delivery left `pending` by a run that died between the attempt
  and its answer is *unconfirmed*: never re-sent automatically (at most once for
  a recipient whose 250 may have been received), reported instead.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from reportgen.publish.statedb import (
    LEDGER_WAIT,
    STATE_DIR,
    LedgerError,
    StateDB,
    state_path,
)

__all__ = ["STATE_DIR", "Ledger", "LedgerError", "state_path"]

log = logging.getLogger(__name__)

JOURNAL_FILE = "unrecorded.jsonl"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Event:
    """One state a brief reached in a run."""

    at: str
    brief: str
    state: str
    recipient: str | None
    smtp_code: int | None
    detail: str | None


@dataclass
class Run:
    """A run of `nightly` or `send`, with what happened to each brief."""

    run_id: str
    command: str
    started: str
    ended: str | None
    exit_code: int | None
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class Attempt:
    """A message about to go out: what the ledger needs to know before the first byte."""

    brief: str
    content: str  # the PDF's sha256 (or a notice's key)
    recipient: str
    message_id: str
    fingerprint: str = ""  # the brief's input fingerprint
    edition: str | None = None  # nightly: the scheduled run time, ISO UTC


@dataclass(frozen=True)
class Result:
    """The server's final answer for one attempt (plain values: it may wait in the journal)."""

    brief: str
    content: str
    recipient: str
    sent: bool
    code: int | None
    detail: str
    attempts: int
    at: str = field(default_factory=lambda: _now())


@dataclass(frozen=True)
class Delivered:
    """The newest nightly delivery of a brief to a recipient: which edition, which content."""

    edition: str
    fingerprint: str | None


class Ledger(StateDB):
    """The state database of one output folder. Every write commits at once."""

    def __init__(self, path: Path, wait: float = LEDGER_WAIT):
        super().__init__(path, wait)
        self.journal = path.parent / JOURNAL_FILE
        self._replay_journal()

    # deliveries

    def status(self, brief: str, pdf_sha256: str, recipient: str) -> str | None:
        """pending | sent | failed for this PDF and recipient, None when never attempted."""
        rows = self._read(
            "SELECT status FROM deliveries WHERE brief=? AND pdf_sha256=? AND recipient=?",
            (brief, pdf_sha256, recipient),
        )
        return rows[0][0] if rows else None

    def is_sent(self, brief: str, pdf_sha256: str, recipient: str) -> bool:
        """True once the server accepted this PDF for this recipient."""
        return self.status(brief, pdf_sha256, recipient) == "sent"

    def last_sent_fingerprint(self, brief: str, recipient: str) -> str | None:
        """The input fingerprint of the newest PDF this recipient got for this brief."""
        rows = self._read(
            "SELECT fingerprint FROM deliveries WHERE brief=? AND recipient=? AND status='sent' "
            "ORDER BY sent_at DESC LIMIT 1",
            (brief, recipient),
        )
        return rows[0][0] if rows else None

    def last_edition(self, brief: str, recipient: str) -> Delivered | None:
        """The latest nightly edition of a brief delivered to (or maybe received by) a recipient.

        Unconfirmed (pending) deliveries count: the server may have accepted them.
        """
        rows = self._read(
            "SELECT edition, fingerprint FROM deliveries WHERE brief=? AND recipient=?"
            " AND status IN ('sent', 'pending') AND edition IS NOT NULL"
            " ORDER BY edition DESC LIMIT 1",
            (brief, recipient),
        )
        return Delivered(*rows[0]) if rows else None

    def message_id(self, brief: str, pdf_sha256: str, recipient: str) -> str | None:
        """The Message-ID used before for this delivery, so a resend carries the same one."""
        rows = self._read(
            "SELECT message_id FROM deliveries WHERE brief=? AND pdf_sha256=? AND recipient=?",
            (brief, pdf_sha256, recipient),
        )
        return rows[0][0] if rows else None

    def record_attempt(self, run_id: str, attempt: Attempt) -> None:
        """Before the first byte goes out: the delivery exists, pending, with its Message-ID."""
        a = attempt
        self._write(
            "INSERT INTO deliveries (brief, pdf_sha256, recipient, message_id, fingerprint, status,"
            " run_id, updated, edition) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)"
            " ON CONFLICT (brief, pdf_sha256, recipient) DO UPDATE SET"
            " status='pending', run_id=excluded.run_id, updated=excluded.updated,"
            " edition=COALESCE(excluded.edition, deliveries.edition),"
            " fingerprint=excluded.fingerprint",
            (
                a.brief,
                a.content,
                a.recipient,
                a.message_id,
                a.fingerprint,
                run_id,
                _now(),
                a.edition,
            ),
        )

    def record_result(self, result: Result) -> bool:
        """After the server answered for good: sent (its 250) or failed (and why).

        False when the ledger could not take it: the answer then waits in the journal,
        fsynced, and is applied when the ledger next opens.
        """
        try:
            self._apply(result)
            return True
        except LedgerError as exc:
            log.warning("%s; kept in %s until the next run", exc, self.journal)
        try:
            self._journal(result)
        except OSError as exc:  # left pending: the next run treats it as unconfirmed (at most once)
            log.error("%s: the answer for %s not kept: %s", self.journal, result.recipient, exc)
        return False

    def _apply(self, r: Result) -> None:
        self._write(
            "UPDATE deliveries SET status=?, smtp_code=?, detail=?, attempts=attempts+?, updated=?,"
            " sent_at=CASE WHEN ? THEN ? ELSE sent_at END"
            " WHERE brief=? AND pdf_sha256=? AND recipient=?",
            (
                "sent" if r.sent else "failed",
                r.code,
                r.detail,
                r.attempts,
                r.at,
                r.sent,
                r.at,
                r.brief,
                r.content,
                r.recipient,
            ),
        )

    def _journal(self, result: Result) -> None:
        line = json.dumps(result.__dict__, ensure_ascii=True) + "\n"
        with open(self.journal, "a", encoding="ascii") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def _replay_journal(self) -> None:
        """Answers an earlier run could not write (the ledger was locked): written now."""
        if not self.journal.is_file():
            return
        lines = self.journal.read_text(encoding="ascii", errors="replace").splitlines()
        for line in lines:
            try:
                result = Result(**json.loads(line))
            except (ValueError, TypeError):
                log.warning("%s: skipped an unreadable line: %r", self.journal, line[:80])
                continue
            self._apply(result)
        self.journal.unlink()

    # builds

    def build_of(self, brief: str, edition: str) -> tuple[str, str] | None:
        """(fingerprint, PDF hash) of this edition's last good build of a brief."""
        rows = self._read(
            "SELECT fingerprint, pdf_sha256 FROM builds WHERE brief=? AND edition=?",
            (brief, edition),
        )
        return (rows[0][0], rows[0][1]) if rows else None

    def record_build(self, brief: str, edition: str, fingerprint: str, pdf_sha256: str) -> None:
        self._write(
            "INSERT INTO builds (brief, edition, fingerprint, pdf_sha256, built_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (brief, edition) DO UPDATE SET fingerprint=excluded.fingerprint,"
            " pdf_sha256=excluded.pdf_sha256, built_at=excluded.built_at",
            (brief, edition, fingerprint, pdf_sha256, _now()),
        )

    # run log

    def start_run(self, command: str) -> str:
        """A new run id (time-ordered, unique) with its start time."""
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
        self._write(
            "INSERT INTO runs (run_id, command, started) VALUES (?, ?, ?)",
            (run_id, command, _now()),
        )
        return run_id

    def event(
        self,
        run_id: str,
        brief: str,
        state: str,
        *,
        recipient: str | None = None,
        code: int | None = None,
        detail: str | None = None,
    ) -> None:
        """Log one state of one brief in a run; a run log that cannot be written never stops a run."""
        try:
            self._write(
                "INSERT INTO run_events (run_id, at, brief, state, recipient, smtp_code, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, _now(), brief, state, recipient, code, detail),
            )
        except LedgerError as exc:
            log.warning("run log: %s %s not recorded: %s", brief, state, exc)

    def end_run(self, run_id: str, exit_code: int) -> None:
        try:
            self._write(
                "UPDATE runs SET ended=?, exit_code=? WHERE run_id=?", (_now(), exit_code, run_id)
            )
        except LedgerError as exc:
            log.warning("run log: the end of run %s not recorded: %s", run_id, exc)

    def runs(self, limit: int = 10) -> list[Run]:
        """The newest runs first, each with its events in order."""
        rows = self._read(
            "SELECT run_id, command, started, ended, exit_code FROM runs ORDER BY started DESC, rowid DESC"
            " LIMIT ?",
            (limit,),
        )
        runs = [Run(*row) for row in rows]
        for run in runs:
            run.events = [
                Event(*row)
                for row in self._read(
                    "SELECT at, brief, state, recipient, smtp_code, detail FROM run_events"
                    " WHERE run_id=? ORDER BY id",
                    (run.run_id,),
                )
            ]
        return runs
