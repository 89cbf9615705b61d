"""Incremental builds: unchanged briefs are skipped, unchanged charts are not redrawn,
and whatever the cache serves is byte-identical to a plain build."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from reportgen.batch import BatchOptions, build_many
from reportgen.cache import CHART_DIR, ChartCache, batch_key, build_key, tree_digest
from reportgen.cli import main
from reportgen.config import ComplianceConfig, Config
from reportgen.project import Project, pinned_time
from reportgen.record import RECORD_FILE
from tests.conftest import MINIMAL, build_brief, write_brief

HTML_ONLY = BatchOptions(pdf=False, jobs=1)


def _project(out: Path) -> Project:
    """The project as `reportgen build --out OUT` reads it: its chart cache under OUT."""
    return Project(charts=ChartCache(out / CHART_DIR))


@pytest.fixture(autouse=True)
def _epoch(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    yield


def _spec_with_second_chart() -> dict:
    spec = copy.deepcopy(MINIMAL)
    spec["charts"].append(
        {
            "id": "growth-line",
            "title": "Growth",
            "kind": "line",
            "data": "growth.csv",
            "x": "year",
            "y": "growth",
            "unit": "%",
            "source": "beta",
        }
    )
    spec["sections"][0]["charts"].append("growth-line")
    return spec


GROWTH_CSV = "year,growth\n2023,10\n2024,20\n2025,34\n"


@pytest.fixture
def brief(tmp_path: Path) -> Path:
    return write_brief(
        tmp_path / "briefs" / "acme", _spec_with_second_chart(), {"growth.csv": GROWTH_CSV}
    )


def _charts(out: Path) -> set[str]:
    return {p.name for p in (out / CHART_DIR).iterdir()}


def test_unchanged_brief_is_skipped_with_its_warnings(brief: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = _spec_with_second_chart()
    spec["sources"]["unused"] = {"title": "Never cited"}
    write_brief(brief, spec, {"growth.csv": GROWTH_CSV})
    first = build_many([brief], out, _project(out), BatchOptions(jobs=1)).results[0]
    assert first.status == "built" and (out / "acme" / RECORD_FILE).is_file()
    html = (out / "acme" / "acme.html").stat().st_mtime_ns
    second = build_many([brief], out, _project(out), BatchOptions(jobs=1)).results[0]
    assert second.status == "skipped"
    assert second.outputs == first.outputs
    assert [str(p) for p in second.warnings] == [str(p) for p in first.warnings] != []
    assert (out / "acme" / "acme.html").stat().st_mtime_ns == html
    forced = build_many([brief], out, _project(out), BatchOptions(jobs=1, force=True)).results[0]
    assert forced.status == "built"


@pytest.mark.parametrize("damage", ["delete", "edit"])
def test_missing_or_edited_output_is_rebuilt(brief: Path, tmp_path: Path, damage: str) -> None:
    out = tmp_path / "out"
    build_many([brief], out, _project(out), HTML_ONLY)
    html = out / "acme" / "acme.html"
    good = html.read_bytes()
    if damage == "delete":
        html.unlink()
    else:
        html.write_bytes(good + b"<!-- hand edit -->")
    assert build_many([brief], out, _project(out), HTML_ONLY).results[0].status == "built"
    assert html.read_bytes() == good


def test_changed_metric_rebuilds_without_redrawing_charts(brief: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_many([brief], out, _project(out), HTML_ONLY)
    charts = _charts(out)
    assert len(charts) == 2
    yaml = brief / "brief.yaml"
    yaml.write_text(
        yaml.read_text(encoding="utf-8").replace("value: 12.5", "value: 13.5"), encoding="utf-8"
    )
    result = build_many([brief], out, _project(out), HTML_ONLY).results[0]
    assert result.status == "built"
    assert "USD 13.5bn" in (out / "acme" / "acme.html").read_text(encoding="utf-8")
    assert _charts(out) == charts  # both charts served from the cache
    (brief / "growth.csv").write_text(GROWTH_CSV.replace("34", "35"), encoding="utf-8")
    build_many([brief], out, _project(out), HTML_ONLY)
    assert len(_charts(out) - charts) == 1  # only the chart of the changed CSV was drawn


def test_cached_build_is_byte_identical_to_plain_build(brief: Path, tmp_path: Path) -> None:
    cached = tmp_path / "cached"
    build_many([brief], cached, _project(cached), BatchOptions(jobs=1))  # fills the chart cache
    build_many(
        [brief], cached, _project(cached), BatchOptions(jobs=1, force=True)
    )  # every chart from the cache
    plain = tmp_path / "plain"
    build_brief(brief, plain)
    for name in ("acme.html", "acme.pdf"):
        assert (cached / "acme" / name).read_bytes() == (plain / "acme" / name).read_bytes()


def test_key_covers_brief_templates_options_and_epoch(
    brief: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "style.css").write_text("body { color: black; }", encoding="utf-8")

    def key(pdf: bool = True) -> str:  # the pinned clock (SOURCE_DATE_EPOCH) read as batches do
        common = batch_key([tree_digest(templates)], pdf=pdf, clock=pinned_time())
        return build_key(tree_digest(brief), common)

    seen = {key()}
    assert key() in seen  # stable
    seen.add(key(pdf=False))
    (templates / "style.css").write_text("body { color: red; }", encoding="utf-8")
    seen.add(key())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    seen.add(key())
    (brief / "notes.md").write_text("a file the brief does not even use", encoding="utf-8")
    seen.add(key())
    assert len(seen) == 5


def test_failed_brief_keeps_old_stamp_and_is_retried(
    brief: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the CLI's look (./reportgen.toml) must match Project()'s
    out = tmp_path / "out"
    build_many([brief], out, _project(out), HTML_ONLY)
    yaml = brief / "brief.yaml"
    good = yaml.read_text(encoding="utf-8")
    yaml.write_text(good.replace("source: alpha\n  key", "source: nope\n  key"), encoding="utf-8")
    runner = CliRunner()
    args = ["build", str(brief), "--out", str(out), "--html-only"]
    for _ in range(2):  # a failed brief is never recorded as built
        failed = runner.invoke(main, args)
        assert failed.exit_code == 1
        assert "failed acme: not built, previous output left in place" in failed.stderr
    yaml.write_text(good, encoding="utf-8")
    assert "skipped acme: unchanged" in runner.invoke(main, args).stdout


def test_a_link_out_of_the_brief_is_hashed_by_target_not_read(tmp_path: Path) -> None:
    """What a link outside points at is never read (it may be 1.5 GB): its target names it."""
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    folder = tmp_path / "brief"
    folder.mkdir()
    (folder / "data.csv").symlink_to(outside)
    before = tree_digest(folder)
    outside.write_text("a\n2\n")
    assert tree_digest(folder) == before
    (folder / "data.csv").unlink()
    (folder / "data.csv").symlink_to(tmp_path / "other.csv")
    (tmp_path / "other.csv").write_text("a\n1\n")
    assert tree_digest(folder) != before


def test_a_page_config_key_that_draws_nothing_rebuilds_nothing(brief: Path, tmp_path: Path) -> None:
    """retention_days is part of the page config (an edition's id) but shows on no page: an
    unchanged brief stays skipped with its record, so its edition is not mailed again."""
    out = tmp_path / "out"

    def project(days: int) -> Project:
        config = Config(compliance=ComplianceConfig(retention_days=days))
        return replace(_project(out), config=config)

    build_many([brief], out, project(1095), HTML_ONLY)
    assert build_many([brief], out, project(2000), HTML_ONLY).results[0].status == "skipped"
