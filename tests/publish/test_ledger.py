"""The ledger is trusted only when it is sound: fault injection on the real SQLite file.

Corrupted pages, a file that is not a database, another process holding the
lock, a lock taken right after the server's 250, and a run killed while the
server held its message: no duplicate send, no lost recipient, one true line.
And the edition is the content: a clock stepped back, a changed time zone or
another build of the same content never delivers it twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import MINIMAL, build_brief, write_brief
from smtp_server import WAIT, Recorder, write_config

from reportgen.config import load_config
from reportgen.errors import LedgerError
from reportgen.publish.ledger import Ledger, state_path
from reportgen.publish.nightly import RunReport, run_nightly, send_briefs

TO = ["pm@example.com", "cio@example.com"]


def send(
    project: Path, port: int, *, force: bool = False, wait: float = 0.5, to: list[str] = TO
) -> RunReport:
    config = load_config(write_config(project, port, to=to))
    return send_briefs(config, [project / "briefs" / "acme"], force=force, ledger_wait=wait)


def db_file(project: Path) -> Path:
    return state_path(project / "out")


def brief_mails(recorder: Recorder) -> list[str]:
    return sorted(r.rcpt_tos[0] for r in recorder.received if r.message["X-Reportgen-Brief"])


def notices(recorder: Recorder) -> list[str]:
    return [r.message["Subject"] for r in recorder.received if r.rcpt_tos == ["ops@example.com"]]


def test_corrupted_pages_refuse_to_send_say_so_in_one_line_and_notify(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    assert send(project, port).exit_code == 0
    data = bytearray(db_file(project).read_bytes())
    assert len(data) > 4096 * 2
    data[4096:] = b"\xa5" * (len(data) - 4096)  # every page after the first overwritten
    db_file(project).write_bytes(bytes(data))
    with pytest.raises(LedgerError) as caught:
        send(project, port, force=True)
    assert "damaged" in str(caught.value) and "\n" not in str(caught.value)
    assert brief_mails(recorder) == sorted(TO)  # the first run only: nothing sent again
    [notice] = notices(recorder)
    assert "ledger cannot be used" in notice


def test_one_damaged_page_is_still_one_line(project: Path, server: tuple[Recorder, int]) -> None:
    """quick_check reports a damaged b-tree page on two lines ('*** in database main ***' then
    the page): the message joins them, so the run log and the notice stay one line a problem."""
    recorder, port = server
    assert send(project, port).exit_code == 0
    data = bytearray(db_file(project).read_bytes())
    data[8192 : 8192 + 3000] = b"\xff" * 3000  # the third page only
    db_file(project).write_bytes(bytes(data))
    with pytest.raises(LedgerError) as caught:
        send(project, port, force=True)
    assert "damaged" in str(caught.value) and "\n" not in str(caught.value), str(caught.value)
    assert brief_mails(recorder) == sorted(TO)


def _reportgen(project: Path, command: str, config: Path) -> subprocess.CompletedProcess[str]:
    """`reportgen COMMAND --config CONFIG` as a user runs it, in the project folder."""
    return subprocess.run(
        [sys.executable, "-m", "reportgen", command, "--config", str(config)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("content", [b"", b"SQLite format 3\x00" + b"\x00" * 100, b"x" * 8192])
def test_a_file_that_is_not_a_ledger_is_refused_at_the_command_line(
    project: Path, server: tuple[Recorder, int], content: bytes
) -> None:
    recorder, port = server
    config = write_config(project, port, to=TO)
    db_file(project).parent.mkdir(parents=True, exist_ok=True)
    db_file(project).write_bytes(content)
    result = _reportgen(project, "send", config)
    if content == b"":  # an empty file is a new, empty database: nothing was ever delivered
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "delivery ledger" in result.stderr
    assert brief_mails(recorder) == []
    runs = _reportgen(project, "runs", config)
    assert runs.returncode == 1 and "Traceback" not in runs.stderr
    assert len(runs.stderr.strip().splitlines()) == 1


def test_a_locked_ledger_is_a_bounded_wait_and_one_line(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    assert send(project, port).exit_code == 0
    other = sqlite3.connect(db_file(project), isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(LedgerError, match="locked by another process") as caught:
            send(project, port, force=True, wait=0.3)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert "\n" not in str(caught.value)
    assert brief_mails(recorder) == sorted(TO)
    assert len(notices(recorder)) == 1


def test_a_lock_taken_right_after_the_250_neither_resends_nor_loses_a_recipient(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    db_file(project).parent.mkdir(parents=True, exist_ok=True)
    Ledger(db_file(project)).close()
    locker = sqlite3.connect(db_file(project), isolation_level=None, check_same_thread=False)

    def lock_once() -> None:
        recorder.after_store = None
        locker.execute("BEGIN EXCLUSIVE")  # the server has the message; its 250 is on its way

    recorder.after_store = lock_once
    try:
        first = send(project, port, wait=0.3)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert first.exit_code == 1  # the second recipient could not be recorded, so not sent
    [outcome] = first.outcomes
    assert outcome.details[0].startswith("pm@example.com: sent")
    assert outcome.details[1].startswith("cio@example.com: not sent:")

    again = send(project, port)  # the first run's end was not written either: told once here
    assert again.exit_code == 1, again.outcomes
    assert brief_mails(recorder) == sorted(TO)  # each exactly once
    assert again.outcomes[0].details[0].startswith("pm@example.com: in doubt (run ")
    assert send(project, port).exit_code == 0
    with sqlite3.connect(db_file(project)) as db:
        rows = dict(db.execute("SELECT mailbox, status FROM mailings WHERE brief='acme'"))
    assert rows == {"pm@example.com": "handed", "cio@example.com": "sent"}  # pm's 250 unwritten


def test_a_run_killed_while_the_server_held_its_message_is_not_resent(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    config = write_config(project, port, to=["pm@example.com"])
    recorder.data_replies = [WAIT]
    env = {k: v for k, v in os.environ.items() if k != "REPORTGEN_SMTP_PASSWORD"}
    command = [sys.executable, "-m", "reportgen", "send", "--config", str(config)]
    run = subprocess.Popen(command, cwd=project, env=env, stderr=subprocess.PIPE)
    try:
        assert recorder.waiting.wait(120), "the run never reached the server"
    finally:
        run.kill()
        run.wait(60)
    recorder.release.set()  # whether the server kept it, the run that died cannot know
    before = brief_mails(recorder)

    again = send(project, port, to=["pm@example.com"])  # in doubt: not sent again, said so
    assert again.exit_code == 1  # the killed run told no one: this run does, once
    [detail] = again.outcomes[0].details
    assert detail.startswith("pm@example.com: in doubt (run ") and "--force" in detail
    assert brief_mails(recorder) == before  # nothing sent again
    assert notices(recorder)  # a person is told to check
    later = send(project, port, to=["pm@example.com"])
    assert later.exit_code == 0 and "in doubt since run" in later.outcomes[0].details[0]
    forced = send(project, port, to=["pm@example.com"], force=True)
    assert forced.exit_code == 0
    assert brief_mails(recorder) == [*before, "pm@example.com"]


# --- the edition is the content: no clock, zone or build makes it new ------------------

NIGHT = datetime(2026, 11, 22, 22, 5, tzinfo=UTC)  # 06:05 in Shanghai, just after the run time


@pytest.fixture
def nightly_project(tmp_path: Path) -> Path:
    write_brief(tmp_path / "briefs" / "acme", MINIMAL)
    return tmp_path


def nightly(project: Path, port: int, now: datetime, timezone: str = "Asia/Shanghai") -> RunReport:
    path = write_config(project, port, to=["pm@example.com"])
    path.write_text(path.read_text().replace("Asia/Shanghai", timezone))
    return run_nightly(load_config(path), now=now)


def test_the_same_content_is_one_edition_whatever_the_clock_zone_or_build(
    nightly_project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    assert nightly(nightly_project, port, NIGHT).exit_code == 0
    for now, zone in [
        (NIGHT - timedelta(minutes=30), "Asia/Shanghai"),  # the clock stepped back
        (NIGHT + timedelta(hours=16), "America/Los_Angeles"),  # the zone changed
        (NIGHT + timedelta(days=3), "Asia/Shanghai"),  # nights later
    ]:
        again = nightly(nightly_project, port, now, zone)
        assert again.exit_code == 0 and again.outcomes[0].state == "unchanged", again.outcomes
    brief, pdf = nightly_project / "briefs" / "acme", nightly_project / "out" / "acme" / "acme.pdf"
    before = pdf.read_bytes()
    assert build_brief(brief, nightly_project / "out", now=NIGHT).ok
    assert pdf.read_bytes() != before  # another build: other bytes, the same content
    assert send_briefs(load_config(nightly_project / "reportgen.toml"), [brief]).exit_code == 0
    assert brief_mails(recorder) == ["pm@example.com"]
    spec = {**MINIMAL, "metrics": [{**MINIMAL["metrics"][0], "value": 13.1}, MINIMAL["metrics"][1]]}
    write_brief(nightly_project / "briefs" / "acme", spec)  # a correction: a new edition
    assert nightly(nightly_project, port, NIGHT - timedelta(hours=2)).outcomes[0].state == "sent"
    assert brief_mails(recorder) == ["pm@example.com", "pm@example.com"]


def test_a_ledger_from_before_editions_sends_nothing_twice_after_the_upgrade(
    project: Path, server: tuple[Recorder, int]
) -> None:
    """v1.1 kept deliveries by PDF, with the digest of the brief's files: after an upgrade
    (which rebuilds every PDF) that content is not sent again to a mailbox it reached."""
    recorder, port = server
    inputs = json.loads((project / "out" / "acme" / ".reportgen-build.json").read_text())["inputs"]
    db_file(project).parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db_file(project)) as db:
        db.execute(
            "CREATE TABLE deliveries (brief TEXT, pdf_sha256 TEXT, recipient TEXT,"
            " message_id TEXT, fingerprint TEXT, status TEXT, run_id TEXT)"
        )
        db.execute(
            "INSERT INTO deliveries VALUES ('acme', 'an older PDF', 'PM <pm@EXAMPLE.com>',"
            " '<old@example.com>', ?, 'sent', 'r1')",
            (inputs,),
        )
    report = send(project, port)
    assert report.exit_code == 0, report.outcomes
    assert brief_mails(recorder) == ["cio@example.com"]  # pm had this content already
