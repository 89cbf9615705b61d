"""Issue 18's delivery cases against a real SMTP server on 127.0.0.1: the mailbox and the
edition are the units, a lost reply is in doubt, a misbehaving server or address stops
nothing else, and every value out of range is refused at its line before anything is sent.

Timings are small and set through reportgen.toml ([smtp].timeout, backoff): no test waits
on a real multi-second clock.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import MINIMAL, build_brief, write_brief
from smtp_server import WAIT, Recorder, drip_server, free_port, smtp_server, write_config

from reportgen.batch import page_digest
from reportgen.config import load_config
from reportgen.mailtext import parse_mailbox
from reportgen.project import load_project
from reportgen.publish.nightly import RunReport, run_nightly, send_briefs


def send(project: Path, port: int, *, force: bool = False, **settings: Any) -> RunReport:
    config = load_config(write_config(project, port, **settings))
    return send_briefs(config, [project / "briefs" / "acme"], force=force, ledger_wait=0.5)


def rebuild(project: Path, **change: Any) -> None:
    """acme with a change, built (send mails the last good build)."""
    assert build_brief(
        write_brief(project / "briefs" / "acme", {**MINIMAL, **change}), project / "out"
    ).ok


def ledger(project: Path) -> dict[str, str]:
    with sqlite3.connect(project / "out" / ".reportgen" / "state.sqlite") as db:
        return dict(db.execute("SELECT mailbox, status FROM mailings"))


def reportgen(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "reportgen", *args]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120)


def test_one_mailbox_gets_one_mail_however_its_address_is_written(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    rebuild(project, recipients=["pm@EXAMPLE.COM", "<pm@example.com>", "PM <pm@example.com>"])
    report = send(project, port, to=["pm@example.com"])
    assert report.exit_code == 0, report.outcomes
    assert [r.rcpt_tos for r in recorder.received] == [["pm@example.com"]]
    assert ledger(project) == {"pm@example.com": "sent"}


def test_a_quoted_local_part_is_its_own_mailbox_on_the_envelope_too(
    project: Path, server: tuple[Recorder, int]
) -> None:
    """`"a(b)"@x` is not `a@x`, and `"spy@evil.test,"@x` goes to no one at evil.test:
    the envelope carries the address quoted as the header does (smtplib would read a bare
    `a(b)@x` as `a@x`: a second mail to a@x, or one to a mailbox nobody listed)."""
    recorder, port = server
    quoted = ['"a(b)"@example.com', '"spy@evil.test,"@example.com']
    rebuild(project, recipients=quoted)
    report = send(project, port, to=["a@example.com"], failures_to="")
    assert report.exit_code == 0, report.outcomes
    got = sorted(r.rcpt_tos[0] for r in recorder.received)
    assert got == sorted([*quoted, "a@example.com"])
    assert sorted(ledger(project)) == got
    headers = sorted(str(r.message["To"]) for r in recorder.received)
    assert headers == got


def test_an_idn_domain_is_encoded_and_a_utf8_local_part_fails_alone_without_smtputf8(
    project: Path, server: tuple[Recorder, int]
) -> None:
    rebuild(project, recipients=["pä@example.com", "pm@exämple.com"])
    with smtp_server(enable_SMTPUTF8=False) as (recorder, port):
        report = send(project, port, to=["cio@example.com"])
    assert report.exit_code == 1
    got = sorted(r.rcpt_tos[0] for r in recorder.received)
    assert got == ["cio@example.com", "ops@example.com", "pm@xn--exmple-cua.com"]
    [refused] = [d for d in report.outcomes[0].details if d.startswith("pä@")]
    assert "SMTPUTF8" in refused and "\n" not in refused
    assert ledger(project)["pä@example.com"] == "failed"  # never handed over: not in doubt
    utf8, utf8_port = server  # aiosmtpd offers SMTPUTF8 by default
    again = send(project, utf8_port, to=["cio@example.com"])
    assert again.exit_code == 0, again.outcomes
    [mail] = utf8.received
    assert mail.rcpt_tos == ["pä@example.com"] and mail.message["To"] == "pä@example.com"


def test_a_dry_run_writes_the_bytes_a_real_send_would(
    project: Path, server: tuple[Recorder, int], tmp_path: Path
) -> None:
    """A non-ASCII sender goes out with SMTPUTF8; the .eml said From: =?utf-8?q?...?=@..."""
    rebuild(project)
    recorder, port = server
    sender = "Desk <dä@example.com>"
    config = load_config(write_config(project, port, sender=sender, to=["cio@example.com"]))
    eml = tmp_path / "eml"
    eml.mkdir()
    dry = send_briefs(config, [project / "briefs" / "acme"], dry_run=eml, ledger_wait=0.5)
    assert dry.exit_code == 0, dry.outcomes
    [written] = eml.glob("*.eml")
    assert b"From: Desk <d\xc3\xa4@example.com>" in written.read_bytes()
    assert send(project, port, sender=sender, to=["cio@example.com"]).exit_code == 0
    [mail] = recorder.received
    assert mail.message["From"] == "Desk <dä@example.com>"


def test_a_server_that_never_answers_data_leaves_one_delivery_in_doubt(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    recorder.data_replies = [WAIT]  # holds DATA past the deadline
    report = send(project, port, to=["pm@example.com"], timeout=0.5, failures_to="")
    assert report.exit_code == 1 and "in doubt" in report.outcomes[0].details[0]
    assert recorder.data_calls == 1  # never retried
    assert ledger(project) == {"pm@example.com": "handed"}
    again = send(project, port, to=["pm@example.com"], failures_to="")
    assert again.exit_code == 0 and "in doubt since run" in again.outcomes[0].details[0]
    assert recorder.data_calls == 1


def test_a_greeting_that_never_ends_cannot_hold_the_run(project: Path) -> None:
    with drip_server() as port:
        report = send(project, port, to=["pm@example.com"], timeout=0.3, max_attempts=2)
    assert report.exit_code == 1
    detail = report.outcomes[0].details[0]
    assert "[smtp].timeout deadline" in detail and "gave up after 2 attempts" in detail


def test_build_send_nightly_of_one_content_is_one_mail_per_mailbox(
    tmp_path: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    write_brief(tmp_path / "briefs" / "acme", MINIMAL)
    write_config(tmp_path, port, to=["pm@example.com"])
    for command in (["build"], ["send"], ["nightly"], ["build", "--force"], ["send"]):
        result = reportgen(tmp_path, *command)
        assert result.returncode == 0, result.stderr
    assert [r.rcpt_tos for r in recorder.received] == [["pm@example.com"]]
    assert run_nightly(load_config(tmp_path / "reportgen.toml")).exit_code == 0
    assert len(recorder.received) == 1


def test_a_pdf_built_before_a_page_config_change_is_not_a_new_edition(
    tmp_path: Path, server: tuple[Recorder, int]
) -> None:
    """The edition is the page config the PDF was *built* with: `send` after a [theme]
    edit, without a rebuild, mailed the same PDF again as if it were new (and the rebuilt
    one, the real new edition, then never went out)."""
    recorder, port = server
    write_brief(tmp_path / "briefs" / "acme", MINIMAL)
    path = write_config(tmp_path, port, to=["pm@example.com"])
    path.write_text(path.read_text() + '\n[theme]\nfirm = "Firm A"\n')
    for command in (["build"], ["send"]):
        assert reportgen(tmp_path, *command).returncode == 0
    path.write_text(path.read_text().replace("Firm A", "Firm B"))
    assert reportgen(tmp_path, "send").returncode == 0
    assert len(recorder.received) == 1
    for command in (["build"], ["send"], ["nightly"]):
        assert reportgen(tmp_path, *command).returncode == 0
    assert len(recorder.received) == 2
    assert "Firm B" in recorder.received[1].message.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"timeout": "1e30"}, "smtp.timeout"),
        ({"timeout": 0}, "smtp.timeout"),
        ({"timeout": -1}, "smtp.timeout"),
        ({"port": 99999999}, "smtp.port"),
        ({"max_attempts": 0}, "smtp.max_attempts"),
        ({"backoff": -1}, "smtp.backoff"),
    ],
)
def test_an_smtp_value_out_of_range_is_one_line_at_its_key(
    project: Path, settings: dict[str, Any], key: str
) -> None:
    write_config(project, settings.pop("port", free_port()), **settings)
    result = reportgen(project, "send")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [message] = result.stderr.strip().splitlines()
    assert "reportgen.toml:" in message and f": {key}: " in message, message


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        (
            {"sender": "=?utf-8?q?Desk=0D=0ABcc:_spy=40example.com?= <desk@example.com>"},
            "mail.from",
        ),
        ({"subject": "{title:>100000000}"}, "mail.subject"),
        ({"subject": "{title} {nope}"}, "mail.subject"),
    ],
)
def test_a_mail_value_that_cannot_make_a_header_is_refused_by_check_and_build(
    project: Path, settings: dict[str, Any], key: str
) -> None:
    write_config(project, free_port(), **settings)
    for command in (["check", "briefs/acme"], ["build"], ["send"]):
        result = reportgen(project, *command)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        [message] = result.stderr.strip().splitlines()
        assert f": {key}: " in message and "reportgen.toml:" in message, message


def test_a_recipient_whose_name_reads_backwards_is_refused_at_its_line(project: Path) -> None:
    spoof = "=?utf-8?q?=E2=80=AEmoc.elpmaxe=40mp?= <spy@example.com>"  # U+202E, encoded
    built = build_brief(
        write_brief(project / "briefs" / "acme", {**MINIMAL, "recipients": [spoof]}),
        project / "out",
    )
    [problem] = [p for p in built.problems if p.severity == "error"]
    assert problem.key == "recipients[0]" and "U+202E" in problem.message


def test_check_refuses_a_title_with_a_line_break_at_its_line(project: Path) -> None:
    write_config(project, free_port())
    write_brief(project / "briefs" / "acme", {**MINIMAL, "title": "Acme\r\nBcc: spy@example.com"})
    result = reportgen(project, "check", "briefs/acme")
    assert result.returncode == 1
    assert (
        "brief.yaml:1: title: U+000D (a control or invisible character)"
        in result.stdout + result.stderr
    )


GREETING = (b"220 tarpit ESMTP\r\n", b"250 tarpit\r\n")  # the greeting, the reply to EHLO


@pytest.mark.parametrize(
    ("script", "said"),
    [
        ((*GREETING, b"250 ok\r\n", b"550 no such user\r\n"), "550"),  # then drips on RSET
        ((*GREETING, b"250 ok\r\n", b"250 ok\r\n", b"354 go\r\n", b"250 kept\r\n"), "sent"),
        ((*GREETING, b"250 ok\r\n", b"250 ok\r\n", b"354 go\r\n", b"xyz what\r\n"), "in doubt"),
    ],  # the second and third drip on QUIT; the third's reply after DATA is no reply
)
def test_a_server_that_drips_after_its_answer_is_left_within_the_deadline(
    project: Path, script: tuple[bytes, ...], said: str
) -> None:
    with drip_server(script) as port:
        report = send(project, port, to=["pm@example.com"], timeout=0.3, failures_to="")
    assert said in report.outcomes[0].details[0]


def test_the_page_config_makes_an_edition_the_other_briefs_ratings_do_not(tmp_path: Path) -> None:
    market = {
        **{"price": 121.0, "currency": "USD", "date": "2026-11-21", "target": 160},
        **{"horizon": "12 months", "rating": "Buy", "source": "alpha"},
    }
    write_brief(tmp_path / "briefs" / "acme", {**MINIMAL, "market": market})
    write_brief(tmp_path / "briefs" / "beta", {**MINIMAL, "market": market})
    path = write_config(tmp_path, free_port())
    compliance = '\n[compliance]\nratings = [{name = "Buy"}, {name = "Hold"}]\ndisclosures = "A"\n'
    path.write_text(path.read_text() + compliance)

    def page() -> str:
        return page_digest(load_project(load_config(path)))

    first = page()
    hold = {**MINIMAL, "market": {**market, "rating": "Hold"}}
    write_brief(tmp_path / "briefs" / "beta", hold)  # the distribution moves: Buy 1, Hold 1
    path.write_text(path.read_text().replace("timeout = 5", "timeout = 7"))  # not the page
    assert page() == first
    path.write_text(path.read_text().replace('disclosures = "A"', 'disclosures = "B"'))
    assert page() != first


def test_a_forced_resend_that_fails_leaves_the_delivery_sent(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    assert send(project, port, to=["pm@example.com"]).exit_code == 0
    recorder.data_replies = ["554 5.7.1 rejected by policy"]
    assert send(project, port, to=["pm@example.com"], force=True).exit_code == 1
    assert ledger(project) == {"pm@example.com": "sent"}  # the reader still has it
    again = send(project, port, to=["pm@example.com"])
    assert again.exit_code == 0 and "already delivered" in again.outcomes[0].details[0]
    assert len(recorder.to("pm@example.com")) == 1


def test_a_hostile_folder_name_never_silences_the_failure_notice(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    hostile = project / "briefs" / "=?utf-8?q?x=0D=0ABcc:_spy=40example.com?="
    write_brief(hostile, MINIMAL)
    config = load_config(write_config(project, port, to=["pm@example.com"]))
    report = send_briefs(config, [project / "briefs" / "acme", hostile])
    assert report.exit_code == 1
    [notice] = recorder.to("ops@example.com")
    assert notice.message["Bcc"] is None and "1 failed" in notice.message["Subject"]
    assert "spy" not in str(notice.message["Subject"])
    assert [r.rcpt_tos for r in recorder.received] == [["pm@example.com"], ["ops@example.com"]]


@pytest.mark.parametrize(
    ("written", "mailbox"),
    [
        ("PM <pm@EXAMPLE.COM>", "pm@example.com"),
        ("<pm@example.com>", "pm@example.com"),
        ("pm@exämple.com", "pm@xn--exmple-cua.com"),
        ("pä@example.com", "pä@example.com"),  # the local part as written
        ("pm@exa mple.com", None),  # the parser would read pm@exa: refused, not guessed
        ("a@b, c@d", None),
        ("pm@", None),
        ("=?utf-8?b?" + "QUFB" * 400 + "?= <pm@example.com>", None),  # a 1,201-octet line
        ("a" * 300 + "@example.com", None),
        ("=?utf-8?q?PM=0D=0ABcc:_x=40y.z?= <pm@example.com>", None),
    ],
)
def test_a_mailbox_is_read_once_or_refused(written: str, mailbox: str | None) -> None:
    if mailbox is None:
        with pytest.raises(ValueError, match=r"address|control"):
            parse_mailbox(written)
    else:
        assert parse_mailbox(written).address == mailbox


def test_a_tls_handshake_dripped_a_byte_at_a_time_cannot_hold_the_run(project: Path) -> None:
    with drip_server(tls=True) as port:
        report = send(project, port, security="tls", timeout=0.3, max_attempts=2)
    assert report.exit_code == 1
    # The watchdog's message; on a starved machine the drip can stall past the socket's
    # per-read timeout (the same 0.3 s) first: either way the run ended, bounded.
    detail = report.outcomes[0].details[0]
    assert "[smtp].timeout deadline" in detail or "timed out waiting for the server" in detail


def test_a_refusal_whose_reply_cannot_be_recorded_says_it_stays_in_doubt(
    project: Path, server: tuple[Recorder, int]
) -> None:
    """DATA refused, and the ledger locked before the refusal is written: the row still says
    "handed", so no later run sends it. This run says so, and what to do; it used to say a
    plain refusal, as if the next run would try again."""
    recorder, port = server
    held: list[sqlite3.Connection] = []

    async def refuse_and_lock(server: Any, session: Any, envelope: Any) -> str:
        state = project / "out" / ".reportgen" / "state.sqlite"
        db = sqlite3.connect(state, isolation_level=None, check_same_thread=False)
        db.execute("BEGIN EXCLUSIVE")  # another process holding the ledger
        held.append(db)
        return "554 5.7.1 rejected by policy"

    recorder.handle_DATA = refuse_and_lock  # type: ignore[method-assign]
    try:
        report = send(project, port, to=["pm@example.com"], failures_to="")
    finally:
        for db in held:
            db.close()
    [detail] = report.outcomes[0].details
    assert report.exit_code == 1 and "rejected by policy" in detail
    assert "left handed over in the ledger" in detail and "send --force" in detail
    assert ledger(project) == {"pm@example.com": "handed"}
    again = send(project, port, to=["pm@example.com"], failures_to="")
    assert "not sent again" in again.outcomes[0].details[0] and len(held) == 1  # no DATA again
