"""The delivery ledger and run log: SQLite at `<out>/.reportgen/state.sqlite`.

A delivery is keyed by brief, PDF content hash and recipient, and is marked
sent only after the server's 250 for that message: that is what makes the
nightly job send each PDF to each recipient exactly once, however often it is
re-run. The run log keeps, per run, every state a brief went through
(built, verified, sent, failed ...) with the reason and the SMTP code.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

STATE_DIR = ".reportgen"
STATE_FILE = "state.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    brief TEXT NOT NULL,
    pdf_sha256 TEXT NOT NULL,
    recipient TEXT NOT NULL,
    message_id TEXT NOT NULL,
    fingerprint TEXT,
    status TEXT NOT NULL,            -- pending | sent | failed
    smtp_code INTEGER,
    detail TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    run_id TEXT,
    updated TEXT NOT NULL,
    sent_at TEXT,
    PRIMARY KEY (brief, pdf_sha256, recipient)
);
CREATE TABLE IF NOT EXISTS builds (
    brief TEXT NOT NULL,
    edition TEXT NOT NULL,           -- the scheduled run time this build belongs to
    fingerprint TEXT NOT NULL,       -- hash of the brief's files
    pdf_sha256 TEXT NOT NULL,
    built_at TEXT NOT NULL,
    PRIMARY KEY (brief, edition)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    command TEXT NOT NULL,
    started TEXT NOT NULL,
    ended TEXT,
    exit_code INTEGER
);
CREATE TABLE IF NOT EXISTS run_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    at TEXT NOT NULL,
    brief TEXT NOT NULL,
    state TEXT NOT NULL,             -- built | verified | sent | skipped | failed | notice-sent ...
    recipient TEXT,
    smtp_code INTEGER,
    detail TEXT
);
"""


def state_path(out_dir: Path) -> Path:
    """Where the ledger lives for an output folder."""
    return out_dir / STATE_DIR / STATE_FILE


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


class Ledger:
    """The state database of one output folder. Every write commits at once."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # deliveries

    def is_sent(self, brief: str, pdf_sha256: str, recipient: str) -> bool:
        """True once the server accepted this PDF for this recipient."""
        row = self._db.execute(
            "SELECT 1 FROM deliveries WHERE brief=? AND pdf_sha256=? AND recipient=? AND status='sent'",
            (brief, pdf_sha256, recipient),
        ).fetchone()
        return row is not None

    def last_sent_fingerprint(self, brief: str, recipient: str) -> str | None:
        """The input fingerprint of the newest PDF this recipient got for this brief."""
        row = self._db.execute(
            "SELECT fingerprint FROM deliveries WHERE brief=? AND recipient=? AND status='sent' "
            "ORDER BY sent_at DESC LIMIT 1",
            (brief, recipient),
        ).fetchone()
        return row[0] if row else None

    def message_id(self, brief: str, pdf_sha256: str, recipient: str) -> str | None:
        """The Message-ID used before for this delivery, so a resend carries the same one."""
        row = self._db.execute(
            "SELECT message_id FROM deliveries WHERE brief=? AND pdf_sha256=? AND recipient=?",
            (brief, pdf_sha256, recipient),
        ).fetchone()
        return row[0] if row else None

    def record_attempt(
        self,
        run_id: str,
        brief: str,
        pdf_sha256: str,
        recipient: str,
        message_id: str,
        fingerprint: str,
    ) -> None:
        """Before the first byte goes out: the delivery exists, pending, with its Message-ID."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO deliveries (brief, pdf_sha256, recipient, message_id, fingerprint, status,"
                " run_id, updated) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)"
                " ON CONFLICT (brief, pdf_sha256, recipient) DO UPDATE SET"
                " status='pending', run_id=excluded.run_id, updated=excluded.updated",
                (brief, pdf_sha256, recipient, message_id, fingerprint, run_id, _now()),
            )

    def record_result(
        self,
        brief: str,
        pdf_sha256: str,
        recipient: str,
        *,
        sent: bool,
        code: int | None,
        detail: str,
        attempts: int,
    ) -> None:
        """After the server answered for good: sent (its 250) or failed (and why)."""
        now = _now()
        with self._tx() as db:
            db.execute(
                "UPDATE deliveries SET status=?, smtp_code=?, detail=?, attempts=attempts+?, updated=?,"
                " sent_at=CASE WHEN ? THEN ? ELSE sent_at END"
                " WHERE brief=? AND pdf_sha256=? AND recipient=?",
                (
                    "sent" if sent else "failed",
                    code,
                    detail,
                    attempts,
                    now,
                    sent,
                    now,
                    brief,
                    pdf_sha256,
                    recipient,
                ),
            )

    # builds

    def build_of(self, brief: str, edition: str) -> tuple[str, str] | None:
        """(fingerprint, PDF hash) of this edition's last good build of a brief."""
        row = self._db.execute(
            "SELECT fingerprint, pdf_sha256 FROM builds WHERE brief=? AND edition=?",
            (brief, edition),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def record_build(self, brief: str, edition: str, fingerprint: str, pdf_sha256: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO builds (brief, edition, fingerprint, pdf_sha256, built_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (brief, edition) DO UPDATE SET fingerprint=excluded.fingerprint,"
                " pdf_sha256=excluded.pdf_sha256, built_at=excluded.built_at",
                (brief, edition, fingerprint, pdf_sha256, _now()),
            )

    # run log

    def start_run(self, command: str) -> str:
        """A new run id (time-ordered, unique) with its start time."""
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
        with self._tx() as db:
            db.execute(
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
        """Log one state of one brief in a run."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO run_events (run_id, at, brief, state, recipient, smtp_code, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, _now(), brief, state, recipient, code, detail),
            )

    def end_run(self, run_id: str, exit_code: int) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET ended=?, exit_code=? WHERE run_id=?", (_now(), exit_code, run_id)
            )

    def runs(self, limit: int = 10) -> list[Run]:
        """The newest runs first, each with its events in order."""
        rows = self._db.execute(
            "SELECT run_id, command, started, ended, exit_code FROM runs ORDER BY started DESC, rowid DESC"
            " LIMIT ?",
            (limit,),
        ).fetchall()
        runs = [Run(*row) for row in rows]
        for run in runs:
            run.events = [
                Event(*row)
                for row in self._db.execute(
                    "SELECT at, brief, state, recipient, smtp_code, detail FROM run_events"
                    " WHERE run_id=? ORDER BY id",
                    (run.run_id,),
                )
            ]
        return runs
