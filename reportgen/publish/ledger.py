"""The delivery ledger and run log: SQLite at `<out>/.reportgen/state.sqlite`.

The ledger alone decides what was sent. A delivery is one *edition* of a brief
(its content, run.edition_id) to one *mailbox* (reportgen.mailtext), in one of
three states:

- `handed`: written before DATA. From then until the server's reply is read the
  message may have arrived: the delivery is *in doubt*. A run that dies, a
  connection dropped after DATA, a timeout or a tarpit leave it so; no later run
  sends it again (`send --force` does).
- `sent`: the server's 250 after DATA.
- `failed`: refused before DATA, or refused by the reply to it: not delivered;
  the next run tries again.

A reply that cannot be written (the file locked right after a 250) leaves the
delivery `handed`: in doubt, never sent twice.
"""

from __future__ import annotations

import logging
import secrets
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from reportgen.errors import LedgerError
from reportgen.mailtext import parse_mailbox
from reportgen.publish.statedb import StateDB

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class RunLog:
    """What the run log kept of a past run of `nightly` or `send`, and of each brief in it."""

    run_id: str
    command: str
    started: str
    ended: str | None
    exit_code: int | None
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class Delivery:
    """One edition of a brief to one mailbox, and the PDF and Message-ID it goes out with."""

    brief: str
    edition: str
    mailbox: str
    message_id: str
    pdf_sha256: str


@dataclass(frozen=True)
class Known:
    """What the ledger knows of a delivery."""

    status: str  # handed | sent | failed
    run_id: str | None


class Ledger(StateDB):
    """The state database of one output folder. Every write commits at once."""

    def known(self, brief: str, edition: str, mailbox: str, inputs: str = "") -> Known | None:
        """The state of this edition for this mailbox, None when never tried. `inputs`: the
        digest of the brief's files, for what a ledger from before editions knew."""
        rows = self._read(
            "SELECT status, run_id FROM mailings WHERE brief=? AND edition=? AND mailbox=?",
            (brief, edition, mailbox),
        )
        return Known(*rows[0]) if rows else self._before_editions(brief, inputs, mailbox)

    def _before_editions(self, brief: str, inputs: str, mailbox: str) -> Known | None:
        """A v1.1 ledger kept deliveries by PDF, with the digest of the brief's files: that
        content, sent (or pending) to this mailbox, is not sent again after an upgrade."""
        legacy = "SELECT 1 FROM sqlite_master WHERE type='table' AND name='deliveries'"
        if not inputs or not self._read(legacy):
            return None
        rows = self._read(
            "SELECT recipient, status, run_id FROM deliveries WHERE brief=? AND fingerprint=?"
            " AND status IN ('sent', 'pending') ORDER BY status DESC",
            (brief, inputs),
        )
        for recipient, status, run_id in rows:
            with suppress(ValueError):
                if parse_mailbox(recipient).address == mailbox:
                    return Known("sent" if status == "sent" else "handed", run_id)
        return None

    def ended(self, run_id: str | None) -> bool:
        """Whether a run ended (and so reported what it left in doubt), or was killed."""
        rows = self._read("SELECT ended FROM runs WHERE run_id=?", (run_id,))
        return bool(rows and rows[0][0])

    def last_pdf(self, brief: str, mailbox: str) -> str | None:
        """The sha256 of the newest PDF of this brief the mailbox got (or may have got)."""
        rows = self._read(
            "SELECT pdf_sha256 FROM mailings WHERE brief=? AND mailbox=?"
            " AND status IN ('sent', 'handed') ORDER BY updated DESC, rowid DESC LIMIT 1",
            (brief, mailbox),
        )
        return rows[0][0] if rows else None

    def record(
        self, run_id: str, d: Delivery, status: str, code: int | None = None, detail: str = ""
    ) -> None:
        """`handed` before DATA (a LedgerError then means: do not send), the reply after."""
        now = _now()
        self._write(
            "INSERT INTO mailings (brief, edition, mailbox, message_id, pdf_sha256, status,"
            " smtp_code, detail, run_id, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (brief, edition, mailbox) DO UPDATE SET status=excluded.status,"
            " pdf_sha256=excluded.pdf_sha256, smtp_code=excluded.smtp_code,"
            " detail=excluded.detail, run_id=excluded.run_id, updated=excluded.updated",
            (
                d.brief,
                d.edition,
                d.mailbox,
                d.message_id,
                d.pdf_sha256,
                status,
                code,
                detail,
                run_id,
                now,
            ),
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
        except LedgerError as exc:  # the outcome still reaches the output and failures_to
            log.warning("run log: %s %s not recorded: %s", brief, state, exc)

    def end_run(self, run_id: str, exit_code: int) -> None:
        try:
            self._write(
                "UPDATE runs SET ended=?, exit_code=? WHERE run_id=?", (_now(), exit_code, run_id)
            )
        except LedgerError as exc:  # shown as "running or killed" by `reportgen runs`
            log.warning("run log: the end of run %s not recorded: %s", run_id, exc)

    def runs(self, limit: int = 10) -> list[RunLog]:
        """The newest runs first, each with its events in order."""
        rows = self._read(
            "SELECT run_id, command, started, ended, exit_code FROM runs"
            " ORDER BY started DESC, rowid DESC LIMIT ?",
            (limit,),
        )
        return [
            RunLog(run_id, command, started, ended, code, self._events(run_id))
            for run_id, command, started, ended, code in rows
        ]

    def _events(self, run_id: str) -> tuple[Event, ...]:
        rows = self._read(
            "SELECT at, brief, state, recipient, smtp_code, detail FROM run_events"
            " WHERE run_id=? ORDER BY id",
            (run_id,),
        )
        return tuple(Event(*row) for row in rows)
