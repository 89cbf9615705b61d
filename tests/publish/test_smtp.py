"""The SMTP transport and `send`, against a real SMTP server on 127.0.0.1, fault by fault.

One brief is built once for the module; each test copies the built project
and sends it with `reportgen.publish.nightly.send_briefs`, which goes through the same
ledger and SMTP code as the nightly job.
"""

from __future__ import annotations

import json
import sqlite3
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner
from conftest import MINIMAL, build_brief, write_brief
from smtp_server import (
    DROP,
    Recorder,
    free_port,
    login_server,
    silent_server,
    smtp_server,
    write_config,
)

from reportgen.cli import main
from reportgen.config import ConfigError, SmtpConfig, load_config
from reportgen.publish.nightly import RunReport, send_briefs
from reportgen.publish.smtp import check_plaintext_auth

ENCODED_BCC = "=?utf-8?q?X=0D=0ABcc:_spy=40example.com?="
ENCODED_BODY = "=?utf-8?q?Buy=0D=0A=0D=0AFake_body?="


def send(project: Path, port: int, **settings: Any) -> RunReport:
    config = load_config(write_config(project, port, **settings))
    return send_briefs(config, [project / "briefs" / "acme"], ledger_wait=0.5)


def deliveries(project: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(project / "out" / ".reportgen" / "state.sqlite") as db:
        return db.execute(
            "SELECT mailbox, status, smtp_code, message_id FROM mailings ORDER BY mailbox"
        ).fetchall()


def test_421_on_first_data_then_250_delivers_exactly_once(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    recorder.data_replies = ["421 4.3.2 try again later"]
    report = send(project, port, to=["pm@example.com"])
    assert report.exit_code == 0
    assert recorder.data_calls == 2
    assert len(recorder.to("pm@example.com")) == 1
    assert deliveries(project)[0][:3] == ("pm@example.com", "sent", 250)


def test_554_is_permanent_no_retry_and_the_ledger_says_so(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    recorder.data_replies = ["554 5.7.1 rejected by policy"]
    report = send(project, port, to=["pm@example.com"])
    assert report.exit_code == 1
    assert [o.state for o in report.outcomes] == ["failed"]
    assert recorder.to("pm@example.com") == []
    [(rcpt, status, code, _)] = deliveries(project)
    assert (rcpt, status, code) == ("pm@example.com", "failed", 554)
    [notice] = recorder.to("ops@example.com")  # the ops address hears about it
    assert "554" in notice.message.get_content()
    assert recorder.data_calls == 2  # the refused brief once, the notice once: no retry


def test_550_for_one_recipient_does_not_stop_the_others(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    recorder.refuse["gone@example.com"] = "550 5.1.1 no such user"
    report = send(project, port, to=["pm@example.com", "gone@example.com", "cio@example.com"])
    assert report.exit_code == 1
    assert len(recorder.to("pm@example.com")) == len(recorder.to("cio@example.com")) == 1
    [outcome] = report.outcomes
    refused = [d for d in outcome.details if d.startswith("gone@example.com")]
    assert refused and "550" in refused[0]
    assert {r[0]: r[1] for r in deliveries(project)} == {
        "cio@example.com": "sent",
        "gone@example.com": "failed",
        "pm@example.com": "sent",
    }


def test_server_down_bounded_retries_then_a_clear_failure(project: Path) -> None:
    report = send(project, free_port(), to=["pm@example.com", "cio@example.com"], max_attempts=3)
    assert report.exit_code == 1
    [outcome] = report.outcomes
    assert (
        "cannot connect" in outcome.details[0] and "gave up after 3 attempts" in outcome.details[0]
    )
    assert "not attempted" in outcome.details[1]  # the second recipient does not wait it out again
    assert [r[1] for r in deliveries(project)] == ["failed", "failed"]


def test_server_that_never_answers_ends_within_its_timeout(project: Path) -> None:
    with silent_server() as port:
        report = send(project, port, to=["pm@example.com"], timeout=0.2, max_attempts=2)
    assert report.exit_code == 1
    assert "gave up after 2 attempts" in report.outcomes[0].details[0]


def test_a_reply_lost_after_data_is_in_doubt_never_resent_but_with_force(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    recorder.data_replies = [DROP]  # stored, then the connection cut before the 250
    report = send(project, port, to=["pm@example.com"])
    assert report.exit_code == 1 and "in doubt" in report.outcomes[0].details[0]
    [first] = recorder.to("pm@example.com")  # not retried within the run
    [(_, status, _, message_id)] = deliveries(project)
    assert (status, message_id) == ("handed", first.message["Message-ID"])
    again = send(project, port, to=["pm@example.com"])  # a later run: reported, not resent
    assert again.exit_code == 0 and "in doubt since run" in again.outcomes[0].details[0]
    assert len(recorder.to("pm@example.com")) == 1
    config = load_config(project / "reportgen.toml")
    forced = send_briefs(config, [project / "briefs" / "acme"], force=True)
    assert forced.outcomes[0].state == "sent"
    second = recorder.to("pm@example.com")[1]
    assert second.message["Message-ID"] == first.message["Message-ID"]  # the reader can dedupe
    assert deliveries(project)[0][1] == "sent"


def test_sending_again_sends_nothing_unless_forced(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    assert send(project, port, to=["pm@example.com"]).exit_code == 0
    again = send(project, port, to=["pm@example.com"])
    assert again.exit_code == 0 and again.outcomes[0].state == "unchanged"
    assert len(recorder.received) == 1
    config = load_config(project / "reportgen.toml")
    forced = send_briefs(config, [project / "briefs" / "acme"], force=True)
    assert forced.outcomes[0].state == "sent"
    assert len(recorder.received) == 2


@pytest.mark.parametrize(
    "settings",
    [
        {"subject": "Brief\r\nBcc: spy@example.com"},
        {"to": ["pm@example.com\nBcc: spy@example.com"]},
        {"sender": "desk@example.com\r\nX-Evil: 1"},
        {"failures_to": "ops@example.com, spy@example.com"},
    ],
)
def test_header_injection_in_config_is_refused_before_anything_is_sent(
    project: Path, server: tuple[Recorder, int], settings: dict[str, Any]
) -> None:
    recorder, port = server
    with pytest.raises(ConfigError, match=r"reportgen.toml:\d+: mail\."):
        send(project, port, **settings)
    assert recorder.data_calls == 0
    assert not (project / "out" / ".reportgen" / "state.sqlite").exists()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"recipients": ["pm2@example.com\r\nBcc: spy@example.com"]}, "recipients[0]"),
        ({"title": "Acme\r\nBcc: spy@example.com"}, "title"),
        ({"subject": {**MINIMAL["subject"], "ticker": ENCODED_BCC}}, "subject.ticker"),
        ({"verdict": {**MINIMAL["verdict"], "label": ENCODED_BODY}}, "verdict.label"),
    ],
)
def test_header_injection_from_a_brief_is_refused_at_its_line_and_nothing_injected(
    project: Path, server: tuple[Recorder, int], change: dict[str, Any], key: str
) -> None:
    recorder, port = server
    brief = write_brief(project / "briefs" / "acme", {**MINIMAL, **change})
    built = build_brief(brief, project / "out")
    [problem] = [p for p in built.problems if p.severity == "error"]
    assert (problem.path.name, problem.key) == ("brief.yaml", key) and problem.line, problem
    send(project, port)  # mails the last good build, made before the change
    assert {tuple(r.rcpt_tos) for r in recorder.received} == {
        ("pm@example.com",),
        ("cio@example.com",),
    }
    for got in recorder.received:
        message = got.message
        head = got.data.split(b"\r\n\r\n", 1)[0]  # not the PDF's base64, where "spy" may occur
        assert message["Bcc"] is None and b"spy" not in head
        assert "spy" not in message.get_body(("plain",)).get_content()
        assert message["Date"] and message["Message-ID"] and message["MIME-Version"]


def test_a_summary_tampered_after_the_build_is_refused_by_the_message_itself(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    record = project / "out" / "acme" / ".reportgen-build.json"
    record.write_text(record.read_text().replace('"ACME"', json.dumps(ENCODED_BCC)))
    report = send(project, port, to=["pm@example.com"])
    assert report.exit_code == 1 and "encoded word" in report.outcomes[0].details[-1]
    assert [r.rcpt_tos for r in recorder.received] == [["ops@example.com"]]  # the notice only
    assert recorder.received[0].message["Bcc"] is None


def test_dry_run_writes_eml_files_and_sends_nothing(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    config = load_config(write_config(project, port))
    report = send_briefs(config, [project / "briefs" / "acme"], dry_run=project / "eml")
    assert report.exit_code == 0
    files = sorted(p.name for p in (project / "eml").iterdir())
    assert files == ["acme--cio@example.com.eml", "acme--pm@example.com.eml"]
    assert recorder.data_calls == 0
    assert b"Content-Type: application/pdf" in (project / "eml" / files[0]).read_bytes()


def test_password_only_from_the_environment(project: Path, server: tuple[Recorder, int]) -> None:
    _, port = server
    path = write_config(project, port)
    path.write_text(
        path.read_text().replace('security = "none"', 'security = "none"\npassword = "x"')
    )
    with pytest.raises(ConfigError, match="REPORTGEN_SMTP_PASSWORD"):
        load_config(path)
    path = write_config(project, port, username="desk")
    with pytest.raises(ConfigError, match="REPORTGEN_SMTP_PASSWORD"):
        send_briefs(load_config(path), [project / "briefs" / "acme"], environ={})


def test_a_truncated_pdf_is_not_sent(project: Path, server: tuple[Recorder, int]) -> None:
    recorder, port = server
    pdf = project / "out" / "acme" / "acme.pdf"
    pdf.write_bytes(pdf.read_bytes()[: pdf.stat().st_size // 2])
    report = send(project, port, to=["pm@example.com"])
    assert report.exit_code == 1 and "not a complete PDF" in report.outcomes[0].details[0]
    assert recorder.to("pm@example.com") == []


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (trusted in a test through SSL_CERT_FILE)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def test_starttls_and_login_with_the_password_from_the_environment(
    project: Path, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret")

    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    options = {
        "tls_context": server_context(certificate),
        "require_starttls": True,
        "authenticator": authenticator,
        "auth_required": True,
    }
    with smtp_server(**options) as (recorder, port):
        config = load_config(
            write_config(project, port, security="starttls", username="desk", to=["pm@example.com"])
        )
        report = send_briefs(
            config, [project / "briefs" / "acme"], environ={"REPORTGEN_SMTP_PASSWORD": "s3cret"}
        )
    assert report.exit_code == 0, report.outcomes
    assert logins == [(b"desk", b"s3cret")]
    assert len(recorder.to("pm@example.com")) == 1


def test_implicit_tls(
    project: Path, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    with smtp_server(ssl_context=server_context(certificate)) as (recorder, port):
        report = send(project, port, security="tls", to=["pm@example.com"])
    assert report.exit_code == 0, report.outcomes
    assert len(recorder.to("pm@example.com")) == 1


def test_an_untrusted_certificate_is_a_permanent_failure(
    project: Path, certificate: tuple[Path, Path]
) -> None:
    with smtp_server(tls_context=server_context(certificate)) as (recorder, port):
        report = send(project, port, security="starttls", to=["pm@example.com"], failures_to="")
    assert report.exit_code == 1
    assert "TLS certificate refused" in report.outcomes[0].details[0]
    assert recorder.data_calls == 0
    assert "attempts" not in report.outcomes[0].details[0]  # retrying cannot fix a certificate


def test_send_command_line(project: Path, server: tuple[Recorder, int]) -> None:
    recorder, port = server
    config = str(write_config(project, port, to=["pm@example.com"]))
    brief = str(project / "briefs" / "acme")
    dry = CliRunner().invoke(
        main, ["send", brief, "--dry-run", str(project / "eml"), "--config", config]
    )
    assert dry.exit_code == 0, dry.output
    assert "written acme" in dry.output and recorder.data_calls == 0
    sent = CliRunner().invoke(
        main, ["send", "--config", config]
    )  # default: every brief in [build].briefs
    assert sent.exit_code == 0, sent.output
    assert "sent acme" in sent.output and len(recorder.to("pm@example.com")) == 1
    recorder.data_replies = ["554 5.7.1 no"]
    refused = CliRunner().invoke(main, ["send", brief, "--force", "--config", config])
    assert refused.exit_code == 1
    assert "failed acme" in refused.output and "554" in refused.output
    runs = CliRunner().invoke(main, ["runs", "--config", config])
    assert (
        runs.exit_code == 0
        and runs.output.count("  send  ") == 2
        and "send --dry-run" in runs.output
    )


def test_auth_in_clear_to_a_remote_host_is_refused_before_anything_is_sent(project: Path) -> None:
    path = write_config(project, 587, username="desk")
    path.write_text(path.read_text().replace('host = "127.0.0.1"', 'host = "smtp.example.com"'))
    env = {"REPORTGEN_SMTP_PASSWORD": "s3cret"}
    with pytest.raises(ConfigError, match=r"in clear to smtp\.example\.com"):
        send_briefs(load_config(path), [project / "briefs" / "acme"], environ=env)
    assert not (project / "out" / ".reportgen" / "state.sqlite").exists()
    result = CliRunner().invoke(main, ["send", "--config", str(path)], env=env)
    assert result.exit_code == 1 and "allow_plaintext_auth" in result.output
    assert "Traceback" not in result.output


def test_plaintext_auth_rule() -> None:
    remote = SmtpConfig(host="smtp.example.com", username="desk")
    with pytest.raises(ConfigError):
        check_plaintext_auth(remote, "reportgen.toml")
    check_plaintext_auth(remote.model_copy(update={"allow_plaintext_auth": True}), "x")
    check_plaintext_auth(remote.model_copy(update={"security": "starttls"}), "x")
    for host in ("localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"):
        check_plaintext_auth(remote.model_copy(update={"host": host}), "x")


def test_logs_in_once_per_run_not_once_per_message(project: Path) -> None:
    with login_server(b"s3cret") as (recorder, port):
        config = load_config(write_config(project, port, username="desk"))
        report = send_briefs(
            config, [project / "briefs" / "acme"], environ={"REPORTGEN_SMTP_PASSWORD": "s3cret"}
        )
    assert report.exit_code == 0, report.outcomes
    assert recorder.logins == [(b"desk", b"s3cret")]  # loopback: allowed without TLS
    assert len(recorder.received) == 2


def test_a_wrong_password_is_tried_once_and_said_clearly(project: Path) -> None:
    to = ["pm@example.com", "cio@example.com", "ceo@example.com"]
    with login_server(b"s3cret") as (recorder, port):
        config = load_config(write_config(project, port, username="desk", to=to, max_attempts=5))
        report = send_briefs(
            config, [project / "briefs" / "acme"], environ={"REPORTGEN_SMTP_PASSWORD": "wrong"}
        )
    assert report.exit_code == 1
    assert len(recorder.logins) == 1  # not once per message, not once per retry
    assert recorder.data_calls == 0
    [outcome] = report.outcomes
    assert outcome.details[0].startswith("pm@example.com: login refused: 535")
    assert all("not attempted" in d and "login refused: 535" in d for d in outcome.details[1:])
    assert [r[1] for r in deliveries(project)] == ["failed"] * 3  # tried again next run


def test_authentication_required_is_not_retried(project: Path) -> None:
    with login_server(b"s3cret") as (recorder, port):
        report = send(project, port, to=["pm@example.com", "cio@example.com"], max_attempts=5)
    assert recorder.data_calls == 0
    assert report.exit_code == 1
    assert "530" in report.outcomes[0].details[0]
    assert "not attempted" in report.outcomes[0].details[1]
    assert recorder.mail_calls == 1  # one attempt in the whole run
