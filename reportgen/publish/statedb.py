"""The state database of an output folder (`<out>/.reportgen/state.sqlite`): opened soundly.

The database is trusted only when it is sound: opening runs `PRAGMA
quick_check`, and a damaged or foreign file is a `LedgerError` (one line); every
wait for another process's lock is bounded (`busy_timeout`) and a timeout is a
one-line `LedgerError`. Once the file was found locked, later writes wait only
briefly, so a held lock cannot stall a run write after write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reportgen.errors import LedgerError

STATE_DIR = ".reportgen"
STATE_FILE = "state.sqlite"
LEDGER_WAIT = 10.0  # seconds a run waits for another process's lock on the ledger
LOCKED_WAIT = 0.25  # seconds per later write once the ledger was found locked
DAMAGED = "nothing is sent from it: restore it from a backup or move it aside"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS mailings (
    brief TEXT NOT NULL,
    edition TEXT NOT NULL,           -- the content id of what was sent (publish/run.py)
    mailbox TEXT NOT NULL,           -- local@domain, the domain case-folded and IDNA-encoded
    message_id TEXT NOT NULL,
    pdf_sha256 TEXT NOT NULL,        -- the PDF attached (its edition file in the archive)
    status TEXT NOT NULL,            -- handed (in doubt until the reply) | sent | failed
    smtp_code INTEGER,
    detail TEXT,
    run_id TEXT,
    updated TEXT NOT NULL,
    PRIMARY KEY (brief, edition, mailbox)
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


class StateDB:
    """One checked connection; reads and writes fail as one-line LedgerErrors."""

    def __init__(self, path: Path, wait: float = LEDGER_WAIT):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self._db = sqlite3.connect(path, timeout=wait, isolation_level=None)
        except sqlite3.Error as exc:
            raise LedgerError(f"{path}: cannot open the delivery ledger: {exc}") from exc
        try:
            self._open(wait)
        except BaseException:
            self._db.close()
            raise

    def _open(self, wait: float) -> None:
        """Sound, in WAL mode (readers never block the run), current schema."""
        self._check(self._prepare, wait)

    def _prepare(self, db: sqlite3.Connection) -> None:
        found = [row[0] for row in db.execute("PRAGMA quick_check")]
        if found != ["ok"]:
            said = "; ".join(" ".join(row.split()) for row in found[:3])  # rows span lines
            raise LedgerError(
                f"{self.path}: the delivery ledger is damaged (quick_check: {said}); {DAMAGED}"
            )
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)

    def _check(self, step: Callable[[sqlite3.Connection], None], wait: float) -> None:
        """Run one step, turning SQLite's errors into one line that says what to do."""
        try:
            step(self._db)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise LedgerError(
                    f"{self.path}: the delivery ledger stayed locked by another process"
                    f" for more than {wait:g}s ({exc}); nothing was sent"
                ) from exc
            raise LedgerError(f"{self.path}: the delivery ledger cannot be used: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise LedgerError(
                f"{self.path}: the delivery ledger is damaged ({exc}); {DAMAGED}"
            ) from exc

    def close(self) -> None:
        self._db.close()

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise LedgerError(f"{self.path}: cannot read the delivery ledger: {exc}") from exc

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        """One statement in its own transaction; LedgerError (one line) when it cannot commit."""
        try:
            with self._tx() as db:
                db.execute(sql, params)
        except sqlite3.Error as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                self._db.execute(f"PRAGMA busy_timeout = {int(LOCKED_WAIT * 1000)}")
                raise LedgerError(f"{self.path}: locked by another process: {exc}") from exc
            raise LedgerError(f"{self.path}: cannot write the delivery ledger: {exc}") from exc

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
