"""What changed since the last build: the box in the brief and changes.json for the nightly job."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from pypdf import PdfReader

from reportgen.cli import main
from tests.conftest import build_brief

EPOCH = "1795340400"  # 2026-11-22 09:40 UTC
FIRST = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
SECOND = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


def pdf_text(path: Path) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)


def changes(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "acme" / "changes.json").read_text(encoding="utf-8"))
    return data


def test_identical_rebuilds_are_byte_identical_without_a_box(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    folder = make_brief(minimal)
    out = tmp_path / "out"
    runner = CliRunner()
    outputs = []
    for _ in range(2):
        result = runner.invoke(
            main,
            ["build", str(folder), "--out", str(out), "--force"],
            env={"SOURCE_DATE_EPOCH": EPOCH},
        )
        assert result.exit_code == 0, result.output
        outputs.append(
            {name: (out / "acme" / name).read_bytes() for name in ("acme.html", "acme.pdf")}
        )
    assert outputs[0] == outputs[1]
    assert b"Changes since" not in outputs[1]["acme.html"]
    assert changes(out) == {
        "brief": "acme",
        "since": "2026-11-22",
        "metrics": [],
        "verdict": None,
        "risks_added": [],
        "risks_removed": [],
        "since_edition": False,
        "call": [],
    }


def test_first_build_has_no_previous(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert build_brief(make_brief(minimal), out, now=FIRST, pdf=True).ok
    assert changes(out)["since"] is None
    assert json.loads((out / "acme" / "snapshot.json").read_text())["metrics"]["revenue"] == {
        "label": "Revenue",
        "value": "USD 12.5bn",
        "source": "alpha",
    }


def test_moved_metric_verdict_and_risks_show_in_the_box_and_changes_json(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    folder = make_brief(minimal)
    assert build_brief(folder, out, now=FIRST).ok
    minimal["metrics"][0]["value"] = 13.1
    minimal["verdict"]["label"] = "Speculative"
    minimal["risks"] = [
        {
            "title": "Regulation",
            "likelihood": "low",
            "impact": "high",
            "body": "Rules.",
            "sources": ["alpha"],
        }
    ]
    make_brief(minimal)
    result = build_brief(folder, out, now=SECOND)
    assert result.ok, [str(p) for p in result.problems]
    assert changes(out) == {
        "brief": "acme",
        "since": "2026-11-20",
        "metrics": [
            {
                "id": "revenue",
                "label": "Revenue",
                "old": "USD 12.5bn",
                "new": "USD 13.1bn",
                "source": "alpha",
            }
        ],
        "verdict": {
            "old": "High-Risk, High-Reward (risk high, reward high)",
            "new": "Speculative (risk high, reward high)",
        },
        "risks_added": ["Regulation"],
        "risks_removed": ["Competition"],
        "since_edition": False,
        "call": [],
    }
    text = pdf_text(out / "acme" / "acme.pdf")
    box = text[text.index("CHANGES SINCE 20 NOVEMBER 2026") : text.index("VERDICT Speculative")]
    assert (
        "Verdict: High-Risk, High-Reward (risk high, reward high) → Speculative (risk high, reward high)"
        in box
    )
    assert "Revenue: USD 12.5bn → USD 13.1bn[1]" in box
    assert "New risk: Regulation" in box and "Risk removed: Competition" in box

    assert build_brief(folder, out, now=SECOND).ok  # nothing changed since: no box, empty lists
    assert "Changes since" not in (out / "acme" / "acme.html").read_text(encoding="utf-8")
    assert changes(out)["metrics"] == [] and changes(out)["since"] == "2026-11-22"


def test_html_preview_leaves_the_snapshot_alone(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    folder = make_brief(minimal)
    assert build_brief(folder, out, now=FIRST, pdf=False).ok
    assert (
        not (out / "acme" / "snapshot.json").exists()
        and not (out / "acme" / "changes.json").exists()
    )


def test_unreadable_snapshot_is_ignored(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    (out / "acme").mkdir(parents=True)
    (out / "acme" / "snapshot.json").write_text("{not json", encoding="utf-8")
    assert build_brief(make_brief(minimal), out, now=FIRST).ok
    assert changes(out)["since"] is None


def test_remote_build_compares_with_the_shipped_snapshot(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    """A worker (local or Dask) gets the previous snapshot as a value and returns the
    changes as values: it never needs the output folder."""
    from reportgen.batch import BuildTask, run_task
    from reportgen.project import Project
    from reportgen.render.changes import load_snapshot

    out = tmp_path / "out"
    folder = make_brief(minimal)
    assert build_brief(folder, out, now=FIRST).ok
    minimal["metrics"][0]["value"] = 14
    make_brief(minimal)
    task = BuildTask(folder.resolve(), Project(clock=SECOND), load_snapshot(out / "acme"))
    built = run_task(task)
    assert built.ok, [str(p) for p in built.problems]
    assert built.changes is not None
    shipped = json.loads(built.changes.to_json())
    assert shipped["since"] == "2026-11-20"
    assert [(m["old"], m["new"]) for m in shipped["metrics"]] == [("USD 12.5bn", "USD 14bn")]
