"""`reportgen new`: a brief that builds at once and shows every feature, clearly a placeholder."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from reportgen.brief.models import SCHEMA_FILE, brief_schema
from reportgen.brief.placeholders import is_placeholder
from reportgen.brief.scaffold import ScaffoldError, new_brief
from reportgen.build import check_brief
from tests.conftest import build_brief

REPORTGEN = str(Path(sys.executable).parent / "reportgen")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scaffold made through the real command, shared by the tests below."""
    root = tmp_path_factory.mktemp("project")
    result = subprocess.run([REPORTGEN, "new", "acme-q3"], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "created seeds/acme-q3" in result.stdout
    return root / "seeds" / "acme-q3"


def test_builds_at_once_as_a_draft_warning_only_of_its_placeholders(
    made: Path, tmp_path: Path
) -> None:
    result = build_brief(made, tmp_path / "build")
    assert result.status == "built", [str(p) for p in result.problems]
    assert result.problems and all(is_placeholder(p.finding) for p in result.problems)
    assert not result.publishable
    pdf = PdfReader(tmp_path / "build" / "acme-q3" / "acme-q3.pdf")
    pages = [page.extract_text() for page in pdf.pages]
    assert "PLACEHOLDER" in "".join(pages)
    assert all("DRAFT" in page for page in pages)


def test_shows_every_feature_of_the_contract(made: Path) -> None:
    checked, _ = check_brief(made)
    assert checked is not None
    brief = checked.spec.brief
    assert {c.kind for c in brief.charts} == {"bar", "barh", "line", "stacked-bar"}
    assert any(m.key for m in brief.metrics) and any(not m.key for m in brief.metrics)
    assert any(t.columns and t.sort and t.highlight for t in brief.tables)
    bodies = [s.body.strip() for s in brief.sections]
    assert any(b.endswith(".md") for b in bodies) and any("\n" in b for b in bodies)
    assert any(s.tables for s in brief.sections) and all(s.charts for s in brief.sections)
    helpers = {call.name for calls in checked.helpers.values() for call in calls}
    assert helpers == {"metric", "cite", "table", "chart"}
    assert brief.risks and brief.verdict.summary


def test_scaffolds_the_v11_keys(made: Path) -> None:
    checked, problems = check_brief(made)
    assert checked is not None  # builds, as a draft: its only findings are placeholders, samples
    assert problems and all(p.finding.startswith(("placeholder:", "sample:")) for p in problems)
    brief = checked.spec.brief
    assert brief.market and brief.market.target and brief.market.horizon and brief.market.history
    assert brief.prices and brief.valuation and len(brief.catalysts) == 2
    assert all("PLACEHOLDER" in c.event for c in brief.catalysts)


def test_placeholders_are_marked(made: Path) -> None:
    checked, _ = check_brief(made)
    assert checked is not None
    brief = checked.spec.brief
    assert "PLACEHOLDER" in brief.title and "PLACEHOLDER" in brief.subject.name
    assert all("PLACEHOLDER" in s.title for s in brief.sources.values())
    assert all(
        "PLACEHOLDER" in item.title
        for item in [*brief.tables, *brief.charts, *brief.sections, *brief.risks]
    )


def test_editor_schema_comment_points_at_a_written_schema(made: Path) -> None:
    first = (made / "brief.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema=../{SCHEMA_FILE}"
    schema = made.parent / SCHEMA_FILE
    assert json.loads(schema.read_text(encoding="utf-8")) == brief_schema()


def test_refuses_to_overwrite_and_bad_ids(made: Path) -> None:
    before = (made / "brief.yaml").read_text(encoding="utf-8")
    again = subprocess.run(
        [REPORTGEN, "new", "acme-q3", "--dir", str(made.parent)], capture_output=True, text=True
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert (made / "brief.yaml").read_text(encoding="utf-8") == before
    with pytest.raises(ScaffoldError, match="may only use"):
        new_brief("Acme Q3", made.parent)


def test_dir_option_and_date(tmp_path: Path) -> None:
    made = new_brief("beta", tmp_path / "elsewhere", today=date(2027, 1, 31))
    assert made.folder == tmp_path / "elsewhere" / "beta"
    assert "as_of: 2027-01-31" in (made.folder / "brief.yaml").read_text(encoding="utf-8")
    assert (tmp_path / "elsewhere" / SCHEMA_FILE).is_file()


def test_a_path_is_the_folder_and_its_last_part_the_id(tmp_path: Path) -> None:
    target = tmp_path / "some" / "path" / "acme-2026"
    result = subprocess.run([REPORTGEN, "new", str(target)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"created {target}:" in result.stdout
    first = (target / "brief.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema=../{SCHEMA_FILE}"
    assert (target.parent / SCHEMA_FILE).is_file()  # beside the brief, as its comment says
    checked, problems = check_brief(target)
    assert checked is not None and checked.spec.brief_id == "acme-2026", problems
    assert "Acme 2026" in checked.spec.brief.title
    relative = subprocess.run(
        [REPORTGEN, "new", "./beta-1"], cwd=tmp_path, capture_output=True, text=True
    )
    assert relative.returncode == 0 and (tmp_path / "beta-1" / "brief.yaml").is_file()


def test_a_bad_id_says_how_to_make_the_brief_elsewhere(tmp_path: Path) -> None:
    for target in ("Acme 2026", str(tmp_path / "Acme_2026")):
        result = subprocess.run(
            [REPORTGEN, "new", target], cwd=tmp_path, capture_output=True, text=True
        )
        assert result.returncode == 1
        message = result.stderr.strip()
        assert "\n" not in message and "Traceback" not in message
        assert "may only use a-z, 0-9 and '-'" in message
        assert "--dir" in message and "reportgen new /some/path/" in message
    both = subprocess.run(
        [REPORTGEN, "new", "x/acme", "--dir", "briefs"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert both.returncode == 1 and "either a path or --dir" in both.stderr
    assert list(tmp_path.iterdir()) == []  # nothing made by any refusal
