"""`reportgen nightly` end to end: real builds, a real SMTP server, the ledger, the lock.

Most tests call `run_nightly`; the overlap test runs the real command line in
two processes. `now` is passed in so that "the same night" and "the next
night" are explicit.
"""

from __future__ import annotations

import copy
import fcntl
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import MINIMAL, write_brief
from smtp_server import WAIT, Recorder, free_port, smtp_server, write_config

from reportgen.batch import build_many
from reportgen.brief.spec import find_briefs
from reportgen.config import Config, load_config
from reportgen.publish.ledger import run_lock
from reportgen.publish.nightly import batch_options, nightly_project, run_nightly

NIGHT = datetime(
    2026, 11, 22, 22, 5, tzinfo=UTC
)  # 06:05 in Shanghai, just after the 06:00 run time
RECIPIENTS = ["pm@example.com", "cio@example.com"]


def beta_spec(**change: Any) -> dict[str, Any]:
    spec = copy.deepcopy(MINIMAL)
    spec.update({"title": "Beta's Turn", "charts": [], **change})
    spec["sections"] = [{"title": "Thesis", "body": "Plain text.", "tables": ["peers"]}]
    return spec


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Two small briefs: acme (with its own extra recipient) and beta."""
    write_brief(tmp_path / "briefs" / "acme", {**MINIMAL, "recipients": ["analyst@example.com"]})
    write_brief(tmp_path / "briefs" / "beta", beta_spec())
    return tmp_path


@pytest.fixture
def server() -> Any:
    with smtp_server() as running:
        yield running


def config_for(project: Path, port: int, **settings: Any) -> Config:
    return load_config(write_config(project, port, **settings))


def briefs_got(recorder: Recorder) -> list[tuple[str, str]]:
    """(brief, recipient) of every brief message the server stored, sorted."""
    return sorted(
        (r.message["X-Reportgen-Brief"], r.rcpt_tos[0])
        for r in recorder.received
        if r.message["X-Reportgen-Brief"]
    )


def test_delivers_every_brief_once_and_a_rerun_the_same_night_sends_nothing(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    config = config_for(project, port)
    report = run_nightly(config, now=NIGHT)
    assert report.exit_code == 0, report.outcomes
    expected = sorted(
        [("acme", r) for r in [*RECIPIENTS, "analyst@example.com"]]
        + [("beta", r) for r in RECIPIENTS]
    )
    assert briefs_got(recorder) == expected
    for received in recorder.received:
        brief = received.message["X-Reportgen-Brief"]
        [pdf] = received.message.iter_attachments()
        assert pdf.get_content() == (project / "out" / brief / f"{brief}.pdf").read_bytes()

    again = run_nightly(config, now=NIGHT + timedelta(hours=3))
    assert again.exit_code == 0
    assert [o.state for o in again.outcomes] == ["unchanged", "unchanged"]
    assert briefs_got(recorder) == expected  # nothing new
    with sqlite3.connect(project / "out" / ".reportgen" / "state.sqlite") as db:
        states = {
            s
            for (s,) in db.execute("SELECT state FROM run_events WHERE run_id=?", (report.run_id,))
        }
        assert {"built", "verified", "sent"} <= states
        assert db.execute("SELECT count(*) FROM runs WHERE exit_code=0").fetchone() == (2,)


def test_a_changed_brief_goes_out_the_next_night_once(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    config = config_for(project, port, to=["pm@example.com"])
    assert run_nightly(config, now=NIGHT).exit_code == 0
    spec = {**MINIMAL, "recipients": ["analyst@example.com"]}
    spec["metrics"] = [{**MINIMAL["metrics"][0], "value": 13.1}, MINIMAL["metrics"][1]]
    write_brief(project / "briefs" / "acme", spec)
    next_night = run_nightly(config, now=NIGHT + timedelta(days=1))
    states = {o.brief_id: o.state for o in next_night.outcomes}
    assert states == {"acme": "sent", "beta": "unchanged"}  # beta's edition went out already
    [acme] = [
        r for r in recorder.to("pm@example.com")[-2:] if r.message["X-Reportgen-Brief"] == "acme"
    ]
    text = acme.message.get_body(("plain",)).get_content()
    assert "USD 13.1bn" in text
    assert (
        "What changed since" in text and "Revenue: USD 12.5bn \u2192 USD 13.1bn" in text
    )  # changes.json

    rerun = run_nightly(
        config, now=NIGHT + timedelta(days=1, hours=2)
    )  # same night: reuses the builds
    assert {o.state for o in rerun.outcomes} == {"unchanged"}
    assert len(recorder.to("pm@example.com")) == 3
    with sqlite3.connect(project / "out" / ".reportgen" / "state.sqlite") as db:
        details = [
            d
            for (d,) in db.execute(
                "SELECT detail FROM run_events WHERE run_id=? AND state='built'", (rerun.run_id,)
            )
        ]
    assert details and all(d.startswith("reused") for d in details)


def test_a_failed_build_is_not_sent_and_its_old_pdf_not_resent(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    config = config_for(project, port, to=["pm@example.com"])
    assert run_nightly(config, now=NIGHT).exit_code == 0
    old_pdf = (project / "out" / "beta" / "beta.pdf").read_bytes()
    bad = beta_spec()
    bad["metrics"][0]["source"] = "nowhere"
    write_brief(project / "briefs" / "beta", bad)

    report = run_nightly(config, now=NIGHT + timedelta(days=1))
    assert report.exit_code == 1
    assert {o.brief_id: o.state for o in report.outcomes} == {
        "beta": "failed",
        "acme": "unchanged",
    }
    assert [b for b in briefs_got(recorder) if b[0] == "beta"] == [
        ("beta", "pm@example.com")
    ]  # night one only
    assert (
        project / "out" / "beta" / "beta.pdf"
    ).read_bytes() == old_pdf  # left in place, not re-sent
    [notice] = recorder.to("ops@example.com")
    assert "beta" in notice.message["Subject"]
    assert "unknown source 'nowhere'" in notice.message.get_content()

    rerun = run_nightly(config, now=NIGHT + timedelta(days=1, hours=1))
    assert rerun.exit_code == 1  # still failing, and said so: each failed run tells ops
    assert len(recorder.to("ops@example.com")) == 2
    assert len(recorder.received) == 3 + 2  # night one, then the notices: nothing more


def test_only_changed_and_all_are_kept_and_each_edition_still_goes_once(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    config = config_for(project, port, to=["pm@example.com"], only_changed=True)
    assert run_nightly(config, now=NIGHT).exit_code == 0
    write_brief(project / "briefs" / "beta", beta_spec(title="Beta's Second Turn"))

    report = run_nightly(config, now=NIGHT + timedelta(days=1))
    assert {o.brief_id: o.state for o in report.outcomes} == {"acme": "unchanged", "beta": "sent"}
    assert len(recorder.to("pm@example.com")) == 2 + 1
    everything = run_nightly(config, now=NIGHT + timedelta(days=2), send_all=True)
    assert {o.state for o in everything.outcomes} == {"unchanged"}  # `send --force` resends


def test_strict_holds_back_a_brief_with_warnings(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    spec = beta_spec()
    spec["sources"] = {**spec["sources"], "gamma": {"title": "Never cited"}}
    write_brief(project / "briefs" / "beta", spec)
    config_file = write_config(project, port, to=["pm@example.com"])
    config_file.write_text(
        config_file.read_text().replace('out = "out"', 'out = "out"\nstrict = true')
    )
    report = run_nightly(load_config(config_file), now=NIGHT)
    assert {o.brief_id: o.state for o in report.outcomes} == {"acme": "sent", "beta": "failed"}
    assert "gamma" in report.outcomes[0].details[0]
    assert [b for b in briefs_got(recorder) if b[0] == "beta"] == []


def test_nothing_is_lost_when_the_server_is_down(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    down = run_nightly(
        config_for(project, free_port(), to=["pm@example.com"], max_attempts=2), now=NIGHT
    )
    assert down.exit_code == 1
    assert all("gave up" in o.details[0] or "not attempted" in o.details[0] for o in down.outcomes)
    later = run_nightly(
        config_for(project, port, to=["pm@example.com"]), now=NIGHT + timedelta(hours=1)
    )
    assert later.exit_code == 0
    assert briefs_got(recorder) == [
        ("acme", "analyst@example.com"),
        ("acme", "pm@example.com"),
        ("beta", "pm@example.com"),
    ]


def test_the_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    with run_lock(tmp_path) as path, open(path) as other, pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with run_lock(tmp_path):
        pass


def test_a_lock_that_cannot_be_taken_is_one_line_not_a_traceback(
    project: Path, server: tuple[Recorder, int]
) -> None:
    """A file where the state folder goes (or a read-only disk): nothing is sent, one line."""
    _, port = server
    write_config(project, port, to=["pm@example.com"])
    (project / "out").mkdir(exist_ok=True)
    (project / "out" / ".reportgen").write_text("not a folder", encoding="utf-8")
    result = subprocess.run(
        reportgen("nightly"), cwd=project, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "run.lock: cannot take the run lock" in result.stderr


def reportgen(*args: str) -> list[str]:
    """The real command line, as a scheduler would start it."""
    return [sys.executable, "-m", "reportgen", *args]


def test_two_runs_at_once_the_second_exits_75_and_nothing_is_sent_twice(
    project: Path, server: tuple[Recorder, int]
) -> None:
    recorder, port = server
    config_file = write_config(project, port, to=["pm@example.com"])
    recorder.data_replies = [WAIT]  # the first run holds its first DATA until released
    env = {k: v for k, v in os.environ.items() if k != "REPORTGEN_SMTP_PASSWORD"}
    first = subprocess.Popen(
        reportgen("nightly", "--config", str(config_file)),
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert recorder.waiting.wait(120), "the first run never reached the server"
        second = subprocess.run(
            reportgen("nightly"), cwd=project, env=env, capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 75, second.stderr
        assert "holds the lock" in second.stderr
    finally:
        recorder.release.set()
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert "sent acme" in out
    assert briefs_got(recorder) == [
        ("acme", "analyst@example.com"),
        ("acme", "pm@example.com"),
        ("beta", "pm@example.com"),
    ]

    third = subprocess.run(
        reportgen("nightly", "--config", str(config_file)),
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert third.returncode == 0, third.stderr
    assert len(recorder.received) == 3
    runs = subprocess.run(
        reportgen("runs"), cwd=project, env=env, capture_output=True, text=True, timeout=60
    )
    assert runs.returncode == 0
    assert runs.stdout.count("nightly") == 2 and "sent" in runs.stdout and "250" in runs.stdout


def test_cli_reports_a_config_error_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "reportgen.toml").write_text(
        '[smtp]\npassword = "hunter2"\n[mail]\nfrom = "a@b.c"\n'
    )
    result = subprocess.run(
        reportgen("nightly"), cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "smtp.password" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_nightly_builds_with_the_project_theme(project: Path, server: tuple[Recorder, int]) -> None:
    recorder, port = server
    path = write_config(project, port, to=["pm@example.com"])
    path.write_text(
        path.read_text() + '\n[theme]\nfirm = "Northwind Research"\naccent = "#0a7d5a"\n'
    )
    assert run_nightly(load_config(path), now=NIGHT).exit_code == 0
    html = (project / "out" / "acme" / "acme.html").read_text(encoding="utf-8")
    assert "Northwind Research" in html and "#0a7d5a" in html
    acme = next(r for r in recorder.received if r.message["X-Reportgen-Brief"] == "acme")
    [pdf] = acme.message.iter_attachments()
    assert pdf.get_content() == (project / "out" / "acme" / "acme.pdf").read_bytes()


@pytest.mark.parametrize("compliance", [False, True])
def test_bad_briefs_fail_alone_the_good_go_out_and_ops_hear_of_each(
    project: Path, server: tuple[Recorder, int], compliance: bool
) -> None:
    """Through the real command line: an invalid date, deep nesting and a YAML tag each fail
    their own brief in one line; the good briefs are delivered; the notice names the bad.
    With [compliance], every brief's rating is read first for the back matter: that read
    once died on the bad date, and nothing at all went out."""
    recorder, port = server
    bad_date = copy.deepcopy(MINIMAL)
    bad_date["as_of"] = "2026-02-30"
    write_brief(project / "briefs" / "bad-date", bad_date)
    write_brief(project / "briefs" / "deep", "title: " + "{a: " * 400 + "1" + "}" * 400 + "\n")
    write_brief(project / "briefs" / "tagged", "title: !!python/object/apply:os.getcwd []\n")
    config = write_config(project, port, to=["pm@example.com"])
    if compliance:
        scale = '[compliance]\nratings = [{name = "Buy", definition = "Expected to rise"}]\n'
        config.write_text(config.read_text(encoding="utf-8") + scale, encoding="utf-8")
    result = subprocess.run(
        reportgen("nightly"), cwd=project, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for name in ("bad-date", "deep", "tagged"):
        assert f"failed {name}" in result.stderr
    assert [b for b, _ in briefs_got(recorder)] == ["acme", "acme", "beta"]
    [notice] = recorder.to("ops@example.com")
    body = notice.message.get_content()
    assert all(name in body for name in ("bad-date", "deep", "tagged"))
    assert "briefs/bad-date/brief.yaml" in body


def test_nightly_and_build_share_one_cache(project: Path, server: tuple[Recorder, int]) -> None:
    """Nightly builds through the batch builder: the same cache and unchanged-brief rule,
    so the same options find nothing left to build."""
    _, port = server
    config = config_for(project, port, to=["pm@example.com"])
    assert run_nightly(config, now=NIGHT).exit_code == 0
    briefs = find_briefs([project / "briefs"])
    again = build_many(briefs, project / "out", nightly_project(config), batch_options(config))
    assert {r.status for r in again.results} == {"skipped"}


def test_cli_a_config_of_the_wrong_shape_is_one_line(tmp_path: Path) -> None:
    """`smtp = 5` instead of an [smtp] table: one line, exit 1, no traceback."""
    (tmp_path / "reportgen.toml").write_text("smtp = 5\n")
    for command in ("nightly", "build"):
        result = subprocess.run(
            reportgen(command), cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 1
        assert "smtp" in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_night_reads_the_project_once(
    project: Path, server: tuple[Recorder, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project (theme, back matter, the coverage's ratings) is one value per run:
    every brief.yaml is scanned for its rating once a night, not once per use."""
    from reportgen.render import backmatter

    _, port = server
    path = write_config(project, port)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('\n[compliance]\nratings = [{name = "Buy"}, {name = "Hold"}]\n')
    scans: list[Path | None] = []
    real = backmatter.project_ratings

    def counted(config: Config, *args: Any) -> list[str | None]:
        scans.append(config.path)
        return real(config, *args)

    monkeypatch.setattr(backmatter, "project_ratings", counted)
    assert run_nightly(load_config(path), now=NIGHT).exit_code == 0
    assert scans == [path]
