"""The state of an output folder in `<out>/.reportgen/`: the delivery ledger and run log
(SQLite, `state.sqlite`) and the lock that lets one run at a time (`run.lock`).

The ledger alone decides what was sent. A delivery is one *edition* of a brief (its content,
nightly.edition_id) to one *mailbox* (reportgen.mailtext), in one of three states:

- `handed`: written before DATA. Until the server's reply is read the message may have
  arrived: the delivery is *in doubt* (a run that died, a connection dropped after DATA, a
  timeout, a tarpit, or a 250 that could not be written) and no later run sends it again
  (`send --force` does).
- `sent`: the server's 250 after DATA.
- `failed`: refused before DATA or by the reply to it: not delivered; the next run tries again.

The database is trusted only when it is sound (`PRAGMA quick_check` on opening: a damaged or
foreign file is a one-line `LedgerError`). Every wait for another process's lock is bounded
(`busy_timeout`, then a one-line `LedgerError`), and once the file was found locked later
writes wait only briefly, so a held lock cannot stall a run write after write.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reportgen.config import Config
from reportgen.errors import LedgerError, LockHeld
from reportgen.mailtext import parse_mailbox

log = logging.getLogger(__name__)

STATE_DIR = ".reportgen"
LEDGER_WAIT = 10.0  # seconds a run waits for another process's lock on the ledger
LOCKED_WAIT = 0.25  # seconds per later write once the ledger was found locked
DAMAGED = "nothing is sent from it: restore it from a backup or move it aside"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mailings (
    brief TEXT NOT NULL,
    edition TEXT NOT NULL,           -- the content id of what was sent (publish/nightly.py)
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
    return out_dir / STATE_DIR / "state.sqlite"


@contextmanager
def run_lock(out_dir: Path) -> Iterator[Path]:
    """Hold `<out>/.reportgen/run.lock` (exclusive, non-blocking); the kernel frees it when the
    process dies."""
    path = out_dir / STATE_DIR / "run.lock"
    try:  # a read-only or full disk, a file where the folder goes: one line, nothing sent
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as exc:
        raise _unlockable(path, exc) from exc
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise LockHeld(
                f"{path}: another reportgen run holds the lock (pid {holder}); exiting"
            ) from None
        try:
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n")
            handle.flush()
        except OSError as exc:
            raise _unlockable(path, exc) from exc
        try:
            yield path
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _unlockable(path: Path, exc: OSError) -> LedgerError:
    return LedgerError(f"{path}: cannot take the run lock: {exc.strerror or exc}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Delivery:
    """One edition of a brief to one mailbox, and the PDF and Message-ID it goes out with
    (in the order of the ledger's columns)."""

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


class Ledger:
    """The state database of one output folder: one checked connection, every write committed
    at once; reads and writes fail as one-line LedgerErrors."""

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
        """Sound, in WAL mode (readers never block the run), current schema; SQLite's errors
        as one line that says what to do."""
        try:
            found = [row[0] for row in self._db.execute("PRAGMA quick_check")]
            if found != ["ok"]:
                said = "; ".join(" ".join(row.split()) for row in found[:3])  # rows span lines
                raise LedgerError(
                    f"{self.path}: the delivery ledger is damaged (quick_check: {said}); {DAMAGED}"
                )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
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
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(sql, params)
                self._db.execute("COMMIT")
            finally:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                self._db.execute(f"PRAGMA busy_timeout = {int(LOCKED_WAIT * 1000)}")
                raise LedgerError(f"{self.path}: locked by another process: {exc}") from exc
            raise LedgerError(f"{self.path}: cannot write the delivery ledger: {exc}") from exc

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
        self._write(
            "INSERT INTO mailings (brief, edition, mailbox, message_id, pdf_sha256, status,"
            " smtp_code, detail, run_id, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (brief, edition, mailbox) DO UPDATE SET status=excluded.status,"
            " pdf_sha256=excluded.pdf_sha256, smtp_code=excluded.smtp_code,"
            " detail=excluded.detail, run_id=excluded.run_id, updated=excluded.updated",
            (*astuple(d), status, code, detail, run_id, _now()),
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
        """Log one state of one brief in a run."""
        self._log(
            f"{brief} {state}",
            "INSERT INTO run_events (run_id, at, brief, state, recipient, smtp_code, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run_id, _now(), brief, state, recipient, code, detail),
        )

    def end_run(self, run_id: str, exit_code: int) -> None:
        """Unrecorded, the run shows as "running or killed" in `reportgen runs`."""
        sql = "UPDATE runs SET ended=?, exit_code=? WHERE run_id=?"
        self._log(f"the end of run {run_id}", sql, (_now(), exit_code, run_id))

    def _log(self, what: str, sql: str, params: tuple[Any, ...]) -> None:
        """A run log that cannot be written never stops a run: the outcome still reaches the
        output and failures_to."""
        try:
            self._write(sql, params)
        except LedgerError as exc:
            log.warning("run log: %s not recorded: %s", what, exc)

    def runs(self, limit: int = 10) -> list[tuple[Any, list[Any]]]:
        """The newest runs first, (run_id, command, started, ended, exit_code; None until it
        ends), each with its events in order (at, brief, state, recipient, smtp_code, detail)."""
        rows = self._read(
            "SELECT run_id, command, started, ended, exit_code FROM runs"
            " ORDER BY started DESC, rowid DESC LIMIT ?",
            (limit,),
        )
        events = (
            "SELECT at, brief, state, recipient, smtp_code, detail FROM run_events"
            " WHERE run_id=? ORDER BY id"
        )
        return [(run, self._read(events, run[:1])) for run in rows]


def recent_runs(config: Config, limit: int = 10) -> list[tuple[Any, list[Any]]]:
    """The newest runs of this output folder, with their events (empty when none yet)."""
    path = state_path(config.resolve(config.build.out))
    if not path.is_file():
        return []
    with closing(Ledger(path)) as ledger:
        return ledger.runs(limit)
