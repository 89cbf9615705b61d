"""The build record (reportgen.record): written beside a brief's outputs by output.py, read
back as written, and trusted only while every output it lists is there, unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reportgen.build import make_brief
from reportgen.output import Inputs, write_built
from reportgen.project import Project
from reportgen.record import RECORD_FILE, Built, intact, just_built, last_good, read_record
from tests.conftest import MINIMAL, write_brief

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The minimal brief made once in this process (in memory, nothing written)."""
    brief = write_brief(tmp_path_factory.mktemp("record") / "acme", MINIMAL)
    built = make_brief(brief, Project(clock=NOW), None)
    assert built.ok and built.pdf is not None, [str(p) for p in built.problems]
    return built


def test_a_record_reads_back_what_the_build_made(made: Built, tmp_path: Path) -> None:
    write_built(made, tmp_path, Inputs("the-key", "the-digest"))
    record = read_record(tmp_path, "acme")
    assert record is not None
    assert (record.key, record.inputs) == ("the-key", "the-digest")
    assert record.summary == made.summary and record.changes == made.changes
    assert record.publishable is made.publishable
    assert {"acme.pdf", "acme.html"} <= set(record.outputs)
    assert intact(tmp_path, "acme", record)
    sent = last_good(tmp_path, "acme")  # what `send` mails: the same as the build in memory
    fresh = just_built(made, tmp_path, "the-digest")
    assert (sent.pdf, sent.summary, sent.inputs) == (fresh.pdf, fresh.summary, fresh.inputs)


def test_an_edited_output_makes_the_record_untrusted(made: Built, tmp_path: Path) -> None:
    write_built(made, tmp_path, Inputs("the-key", "the-digest"))
    record = read_record(tmp_path, "acme")
    assert record is not None
    (tmp_path / "acme" / "acme.html").write_text("<p>edited</p>", encoding="utf-8")
    assert not intact(tmp_path, "acme", record)


def test_a_hand_edited_record_is_unreadable_not_believed(made: Built, tmp_path: Path) -> None:
    write_built(made, tmp_path, Inputs("the-key", "the-digest"))
    path = tmp_path / "acme" / RECORD_FILE
    raw = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**raw, "publishable": "yes"}), encoding="utf-8")
    assert read_record(tmp_path, "acme") is None
