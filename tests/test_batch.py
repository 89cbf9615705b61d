"""Parallel and Dask builds: the same bytes as a plain serial build, failures reported per brief.

One set of briefs is built once serially (the reference) and once per executor;
PDFs are compared byte for byte, so SOURCE_DATE_EPOCH is fixed for the module.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reportgen import batch
from reportgen.batch import BatchOptions, BatchSummary, BuildTask, build_many, run_within
from reportgen.brief.scaffold import new_brief
from reportgen.cli import main
from reportgen.project import Project
from reportgen.workers import Ceilings
from tests.conftest import MINIMAL, REPO, add_svg_bomb, build_brief, write_brief

EPOCH = "1700000000"
IDS = ("alpha-one", "beta-two", "gamma-three")


def _variant(n: int) -> dict:
    spec = copy.deepcopy(MINIMAL)
    spec["title"] = f"Acme brief number {n}"
    spec["metrics"][0]["value"] = 10.5 + n
    return spec


@pytest.fixture(scope="module")
def briefs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Path]]:
    """Three good briefs and one that fails, with SOURCE_DATE_EPOCH fixed."""
    root = tmp_path_factory.mktemp("briefs")
    folders = [write_brief(root / name, _variant(n)) for n, name in enumerate(IDS)]
    broken = copy.deepcopy(MINIMAL)
    broken["metrics"][0]["source"] = "nope"
    folders.append(write_brief(root / "broken", broken))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        yield folders


@pytest.fixture(scope="module")
def serial(briefs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference: the plain serial pipeline, no cache, no workers."""
    out = tmp_path_factory.mktemp("serial")
    for brief in briefs:  # the plain serial path: one brief after another, in this process
        build_brief(brief, out)
    return out


def _outputs(out: Path) -> dict[str, bytes]:
    return {
        f"{b}/{b}.{ext}": (out / b / f"{b}.{ext}").read_bytes()
        for b in IDS
        for ext in ("html", "pdf")
    }


def _check_batch(summary: BatchSummary, out: Path, serial: Path) -> None:
    statuses = {r.brief_id: r.status for r in summary.results}
    assert statuses == {**dict.fromkeys(IDS, "built"), "broken": "failed"}
    broken = summary.results[-1]
    assert [p.key for p in broken.errors] == ["metrics[0].source"]
    assert "unknown source 'nope'" in broken.errors[0].message
    assert _outputs(out) == _outputs(serial)
    assert not (out / "broken").exists()


def test_worker_processes_match_serial_build(
    briefs: list[Path], serial: Path, tmp_path: Path
) -> None:
    seen: list[str] = []
    summary = build_many(
        briefs,
        tmp_path,
        Project(),
        BatchOptions(jobs=2),
        on_result=lambda r: seen.append(r.brief_id),
    )
    assert summary.workers == "2 worker processes"
    assert sorted(seen) == sorted([*IDS, "broken"])
    _check_batch(summary, tmp_path, serial)
    assert all(r.timings["total"] > 0 and "pdf" in r.timings for r in summary.results[:3])


def test_dask_cluster_matches_serial_build(
    briefs: list[Path], serial: Path, tmp_path: Path
) -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        summary = build_many(
            briefs, tmp_path / "out", Project(), BatchOptions(dask=cluster.scheduler_address)
        )
    assert summary.workers.startswith("Dask at tcp://127.0.0.1:")
    _check_batch(summary, tmp_path / "out", serial)


def test_dask_workers_keep_the_deadline(tmp_path: Path) -> None:
    """A Dask worker makes a brief as a local worker does, in a process of its own within
    the ceilings: a PDF that would take hours (an SVG <use> bomb) stops at the deadline."""
    from distributed import LocalCluster

    brief = new_brief("bomb", tmp_path / "seeds").folder
    add_svg_bomb(brief)
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        options = BatchOptions(dask=cluster.scheduler_address, ceilings=Ceilings(3, 0))
        [result] = build_many([brief], tmp_path / "out", Project(), options).results
    assert result.status == "failed"
    assert [p.message for p in result.errors] == [Ceilings(3, 0).timeout_message()]


def test_cli_json_one_object_per_brief(briefs: list[Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["build", *map(str, briefs), "--out", str(tmp_path), "--html-only", "-j", "2", "--json"],
    )
    assert result.exit_code == 1, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(r["brief"] for r in records) == sorted([*IDS, "broken"])
    by_id = {r["brief"]: r for r in records}
    assert by_id["broken"]["status"] == "failed"
    assert by_id["broken"]["errors"][0]["key"] == "metrics[0].source"
    assert by_id["alpha-one"]["outputs"] == [str(tmp_path / "alpha-one" / "alpha-one.html")]
    assert set(by_id["alpha-one"]["timings"]) >= {"check", "compose", "html", "write", "total"}


def test_cli_summary_quiet_and_verbose(briefs: list[Path], tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["build", *map(str, briefs[:2]), "--out", str(tmp_path), "--html-only", "-j", "1"]
    verbose = runner.invoke(main, [*args, "--verbose"])
    assert verbose.exit_code == 0, verbose.output
    lines = verbose.stdout.splitlines()
    assert lines[0].startswith("built alpha-one: ")
    assert any(line.startswith("  alpha-one: check ") and " html " in line for line in lines)
    assert lines[-1].startswith("2 briefs: 2 built, 0 skipped, 0 failed in ")
    assert any(line.split()[:2] == ["beta-two", "built"] for line in lines)
    quiet = runner.invoke(main, [*args, "--quiet"])
    assert quiet.exit_code == 0 and quiet.output == ""
    again = runner.invoke(main, args)
    assert "skipped alpha-one: unchanged since the last build" in again.stdout


def test_cli_unreachable_dask_scheduler_is_one_line(briefs: list[Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "build",
            str(briefs[0]),
            "--out",
            str(tmp_path),
            "--html-only",
            "--dask",
            "tcp://127.0.0.1:9",
        ],
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr


@pytest.mark.parametrize("times", [1, 4])
def test_benchmark_generator_writes_briefs_that_build_strict(tmp_path: Path, times: int) -> None:
    """The benchmark times real builds: a generated brief, usual or 4x as long (the growth
    measure), builds with every check on and no warning."""
    generate = [sys.executable, str(REPO / "benchmarks" / "generate.py"), "--briefs", "1"]
    generate += ["--out", str(tmp_path / "briefs"), "--times", str(times)]
    subprocess.run(generate, check=True, capture_output=True)
    folders = sorted(p for p in (tmp_path / "briefs").iterdir() if (p / "brief.yaml").is_file())
    assert len(folders) == 1
    out = str(tmp_path / "out")
    result = CliRunner().invoke(main, ["build", *map(str, folders), "--out", out, "--strict"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


def _hostile(root: Path) -> list[Path]:
    """A good brief and briefs that once escaped as tracebacks or forged output lines."""
    bad_date = copy.deepcopy(MINIMAL)
    bad_date["as_of"] = "2026-02-30"
    bad_published = copy.deepcopy(MINIMAL)
    bad_published["sources"]["alpha"]["published"] = "2026-13-01"
    return [
        write_brief(root / "good", MINIMAL),
        write_brief(root / "bad-date", bad_date),
        write_brief(root / "bad-published", bad_published),
        write_brief(root / "deep", "title: " + "[" * 500 + "]" * 500 + "\n"),
        write_brief(root / "tagged", "title: !!python/object/apply:os.system ['echo owned']\n"),
        write_brief(root / "omap", "title: !!omap [{a: 1}]\n"),
        write_brief(root / "evil\nbuilt forged", MINIMAL),
    ]


@pytest.mark.parametrize("command", [["check"], ["build", "-j", "2", "--html-only"]])
def test_cli_one_bad_brief_is_one_failure_never_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    folders = _hostile(tmp_path / "briefs")
    args = [*command, *map(str, folders)] + (
        ["--out", str(tmp_path / "out")] if len(command) > 1 else []
    )
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "owned" not in result.output
    for folder in folders[1:]:  # each bad brief is named by its file, on one line
        where = str(folder / "brief.yaml").replace("\n", "\\u000a")
        assert any(line.startswith(where + ":") for line in result.output.splitlines()), where
    assert not any(line.startswith("built forged") for line in result.output.splitlines())
    if command[0] == "build":
        assert "built good:" in result.stdout
        assert (tmp_path / "out" / "good" / "good.html").is_file()


def test_cli_build_in_a_project_uses_build_briefs_and_out(tmp_path: Path) -> None:
    """`reportgen build` in a folder with reportgen.toml builds [build].briefs into [build].out."""
    write_brief(tmp_path / "research" / "acme", MINIMAL)
    (tmp_path / "reportgen.toml").write_text(
        '[build]\nbriefs = ["research"]\nout = "public"\n', encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", "build", "--html-only"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "public" / "acme" / "acme.html").is_file()
    assert not (tmp_path / "build").exists()


def test_cli_time_and_memory_limits_fail_the_brief_and_say_how_to_raise_them(
    briefs: list[Path], tmp_path: Path
) -> None:
    runner = CliRunner()
    args = ["build", str(briefs[0]), "--out", str(tmp_path), "--html-only"]
    slow = runner.invoke(main, [*args, "--timeout", "0.001"])
    assert slow.exit_code == 1, slow.output
    assert "not finished after 0.001 s" in slow.stderr and "--timeout" in slow.stderr
    assert "[build].timeout" in slow.stderr
    big = runner.invoke(main, [*args, "--memory-limit", "64"])
    assert big.exit_code == 1, big.output
    assert "--memory-limit" in big.stderr and "[build].memory_limit" in big.stderr
    assert "Traceback" not in slow.output + big.output
    assert not (tmp_path / IDS[0]).exists()  # nothing half-written


def test_a_worker_that_cannot_start_fails_the_brief_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preview's path: the kernel refusing a process was a traceback in serve's thread."""

    def refused(*_args: object, **_kwargs: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(batch, "run_limited", refused)
    brief = write_brief(tmp_path / "acme", MINIMAL)
    built = run_within(BuildTask(brief, Project(), None, pdf=False), BatchOptions().ceilings)
    assert not built.ok
    [problem] = built.problems
    assert "could not start a worker process" in str(problem) and "\n" not in str(problem)
