"""Editions: each delivered PDF kept unchanged with its snapshot and a manifest line.

Delivered through `send` to a real SMTP server on 127.0.0.1; the edition file
is compared byte for byte with the attachment the server received.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from conftest import MINIMAL, write_brief
from smtp_server import Recorder, write_config

from reportgen.cli import main
from reportgen.config import load_config
from reportgen.output import editions_folder
from reportgen.publish.editions import (
    MANIFEST,
    last_delivered_snapshot,
    list_editions,
    prune_editions,
    record_edition,
)
from reportgen.publish.nightly import RunReport, run_nightly, send_briefs

NOW = datetime(2026, 11, 22, 22, 5, tzinfo=UTC)


def send(project: Path, port: int, **settings: Any) -> RunReport:
    config = load_config(write_config(project, port, **settings))
    return send_briefs(config, [project / "briefs" / "acme"])


def test_the_edition_is_the_attachment_byte_for_byte_with_who_got_it(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    recorder.refuse["gone@example.com"] = "550 5.1.1 no such user"
    report = send(project, port, to=["pm@example.com", "gone@example.com"])
    assert report.exit_code == 1  # one refused recipient: still an edition, for the others
    [received] = recorder.to("pm@example.com")
    [attachment] = received.message.iter_attachments()
    sent = attachment.get_content()
    sha = hashlib.sha256(sent).hexdigest()
    folder = editions_folder(project / "out", "acme")
    pdf = folder / f"2026-11-21-{sha[:8]}.pdf"
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == sha
    snapshot = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
    assert snapshot["brief"] == "acme" and "revenue" in snapshot["metrics"]
    [line] = [json.loads(x) for x in (folder / MANIFEST).read_text().splitlines()]
    assert line["sha256"] == sha and line["file"] == pdf.name and line["sent"]
    assert line["recipients"] == {"pm@example.com": "sent", "gone@example.com": "failed"}

    result = CliRunner().invoke(
        main,
        ["editions", str(project / "briefs" / "acme"), "--config", str(project / "reportgen.toml")],
    )
    assert result.exit_code == 0, result.output
    assert f"2026-11-21  {sha[:8]}" in result.output and "1/2 recipients" in result.output
    assert "gone@example.com" in result.output and "failed" in result.output


def test_a_garbled_manifest_line_is_skipped_and_nothing_is_sent_twice(
    project: Path, server: tuple[Recorder, int]
) -> None:
    """A torn write on a failing disk left bytes that are not UTF-8 in manifest.jsonl: send,
    nightly and `editions` once died on a UnicodeDecodeError. The line is skipped like any
    unreadable one; the good lines still say who got the PDF."""
    recorder, port = server
    assert send(project, port, to=["pm@example.com"]).exit_code == 0
    manifest = editions_folder(project / "out", "acme") / MANIFEST
    with manifest.open("ab") as handle:
        handle.write(b'{"sha256": "ab\xff\xfe torn\n\x00garbage\n')
    [edition] = list_editions(project / "out", "acme")
    assert edition.recipients == {"pm@example.com": "sent"}
    report = send(project, port, to=["pm@example.com"])
    assert report.exit_code == 0, report.outcomes
    assert len(recorder.to("pm@example.com")) == 1
    result = CliRunner().invoke(main, ["editions", str(project / "out" / "acme")])
    assert result.exit_code == 0 and "1/1 recipients" in result.output, result.output


def test_nothing_delivered_means_no_edition(project: Path, server: tuple[Recorder, int]) -> None:
    recorder, port = server
    recorder.data_replies = ["554 5.7.1 rejected"]
    assert send(project, port, to=["pm@example.com"], failures_to="").exit_code == 1
    assert list_editions(project / "out", "acme") == []
    assert last_delivered_snapshot(project / "out", "acme") is None
    result = CliRunner().invoke(main, ["editions", str(project / "out" / "acme")])
    assert result.exit_code == 0 and "no editions yet" in result.output


def test_last_delivered_snapshot_is_the_newest_edition_sent(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for day, value in ((1, "USD 11bn"), (2, "USD 12bn")):
        snapshot = {
            "brief": "acme",
            "generated": f"2026-11-0{day}T06:00:00+00:00",
            "as_of": f"2026-11-0{day}",
            "metrics": {"revenue": {"label": "Revenue", "value": value, "source": "alpha"}},
            "verdict": "High",
            "risks": [],
        }
        record_edition(
            out,
            "acme",
            date(2026, 11, day),
            f"%PDF-{day}".encode(),
            json.dumps(snapshot).encode(),
            {"pm@example.com": "sent"},
            NOW + timedelta(days=day),
        )
    latest = last_delivered_snapshot(out, "acme")
    assert latest is not None and latest.metrics["revenue"]["value"] == "USD 12bn"
    assert latest.generated == "2026-11-24T22:05:00+00:00"  # the last one sent, dated when


def keep(out: Path, day: int, at: datetime) -> str:
    path = record_edition(
        out, "acme", date(2020, 1, day), f"pdf {day}".encode(), None, {"a@b.c": "sent"}, at
    )
    return path.name


def test_retention_keeps_every_edition_younger_than_the_limit(tmp_path: Path) -> None:
    out = tmp_path / "out"
    old = keep(out, 1, NOW - timedelta(days=1096))
    young = keep(out, 2, NOW - timedelta(days=1094))
    assert prune_editions(out, "acme", 1095, NOW - timedelta(days=3000)) == []  # clock behind
    assert prune_editions(out, "acme", 1095, NOW) == [old]
    folder = editions_folder(out, "acme")
    assert not (folder / old).exists() and (folder / young).is_file()
    listed = {e.file: e.pruned for e in list_editions(out, "acme")}
    assert listed[old] and listed[young] is None  # the manifest still says it existed
    assert prune_editions(out, "acme", 1095, NOW) == []


def test_an_edition_file_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "out"
    name = keep(out, 1, NOW)
    keep(out, 1, NOW + timedelta(days=1))  # delivered again: same file, a second manifest line
    [edition] = list_editions(out, "acme")
    assert edition.file == name and edition.last_sent > edition.first_sent
    assert (editions_folder(out, "acme") / name).read_bytes() == b"pdf 1"


def test_nightly_keeps_the_edition_it_delivered_once(
    tmp_path: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    write_brief(tmp_path / "briefs" / "acme", MINIMAL)
    config = load_config(write_config(tmp_path, port, to=["pm@example.com"]))
    assert run_nightly(config, now=NOW).exit_code == 0
    assert run_nightly(config, now=NOW + timedelta(hours=1)).exit_code == 0  # nothing new
    [received] = recorder.to("pm@example.com")
    [attachment] = received.message.iter_attachments()
    [edition] = list_editions(tmp_path / "out", "acme")
    assert edition.sha256 == hashlib.sha256(attachment.get_content()).hexdigest()
    assert edition.recipients == {"pm@example.com": "sent"}
    assert edition.first_sent == edition.last_sent == "2026-11-22T22:05:00+00:00"
    kept = editions_folder(tmp_path / "out", "acme") / edition.file
    assert kept.read_bytes() == attachment.get_content()


def test_changes_since_the_edition_readers_received_not_the_last_build(
    project: Path, server: tuple[Recorder, int]
) -> None:
    """Deliver, edit a figure, rebuild twice without delivering: the box still lists the
    change since the edition sent, in the PDF and in the next mail."""
    recorder, port = server
    assert send(project, port).exit_code == 0
    brief = project / "briefs" / "acme"
    edited = {
        **MINIMAL,
        "metrics": [{**MINIMAL["metrics"][0], "value": 13.1}, *MINIMAL["metrics"][1:]],
    }
    write_brief(brief, edited)
    rebuild = ["build", str(brief), "--out", str(project / "out"), "--force", "-j", "1"]
    assert CliRunner().invoke(main, rebuild).exit_code == 0
    assert CliRunner().invoke(main, rebuild).exit_code == 0  # compares with the edition too
    html = (project / "out" / "acme" / "acme.html").read_text(encoding="utf-8")
    sent_on = date.today()  # the edition was sent just now (send_briefs uses the real clock)
    assert f"Changes since the edition sent {sent_on.day} {sent_on:%B %Y}" in html
    assert "USD 12.5bn → <strong>USD 13.1bn</strong>" in html
    assert send(project, port).exit_code == 0
    text = recorder.received[-1].message.get_body(("plain",)).get_content()
    assert "What changed since the edition sent" in text and "USD 13.1bn" in text
