"""Render stage: the template search path, the packaged theme and the page contract."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from reportgen.render.contract import PAGE, Heading, missing_headings, page_headings
from reportgen.render.environment import Renderer
from reportgen.render.templates import PAGE_TEMPLATE, builtin_templates
from tests.conftest import MINIMAL, REPO, write_brief


def test_builtin_theme_is_found() -> None:
    assert (builtin_templates() / PAGE_TEMPLATE).is_file()


def test_project_template_overrides_a_block_and_extends_the_builtin(tmp_path: Path) -> None:
    (tmp_path / PAGE_TEMPLATE).write_text(
        '{% extends "builtin!brief.html.j2" %}{% block disclaimer %}<p>House words</p>{% endblock %}'
    )
    renderer = Renderer([tmp_path])
    assert renderer.search_path[0] == tmp_path
    source = renderer.env.loader.get_source(renderer.env, PAGE_TEMPLATE)[0]  # type: ignore[union-attr]
    assert "House words" in source


def test_wheel_ships_the_templates(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("reportgen-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("brief.html.j2", "table.html.j2", "chart.html.j2", "style.css"):
        assert f"reportgen/templates/{name}" in names, names


REPORTGEN = str(Path(sys.executable).parent / "reportgen")


def _project(root: Path) -> Path:
    """A project folder: reportgen.toml, one brief under seeds/, a templates/ folder."""
    write_brief(root / "seeds" / "acme", copy.deepcopy(MINIMAL))
    (root / "reportgen.toml").write_text("[theme]\n", encoding="utf-8")
    (root / "templates").mkdir()
    return root


def _build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REPORTGEN, "build", "-j", "1", *args], cwd=root, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("override", "block", "titles"),
    [
        ("{% block risks %}<p>No risks today.</p>{% endblock %}", "risks", "'Risks'"),
        ("{% block sources %}{% endblock %}", "sources", "'Sources'"),
        ("{% block sections %}<h2>Body</h2>{% endblock %}", "sections", "'Thesis'"),
    ],
)
def test_override_that_drops_a_required_section_names_the_block(
    tmp_path: Path, override: str, block: str, titles: str
) -> None:
    root = _project(tmp_path)
    assert _build(root, "--html-only").returncode == 0
    page = root / "build" / "acme" / "acme.html"
    good = page.read_bytes()
    template = root / "templates" / PAGE_TEMPLATE
    template.write_text(f'{{% extends "builtin!brief.html.j2" %}}\n\n{override}\n', "utf-8")
    result = _build(root, "--html-only")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith(str(template))]
    assert line.startswith(f"{template}:3: template: the page shows no <h2> heading {titles}")
    assert f"block '{block}' of {PAGE_TEMPLATE} must render it" in line
    assert page.read_bytes() == good  # the previous good page stays


def test_template_mistakes_name_the_file_and_line(tmp_path: Path) -> None:
    root = _project(tmp_path)
    template = root / "templates" / PAGE_TEMPLATE
    template.write_text(
        '{% extends "builtin!brief.html.j2" %}\n{% block header %}\n{% if %}{% endblock %}\n'
    )
    result = _build(root, "--html-only")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{template}:3: template: " in result.stderr
    template.write_text(
        '{% extends "builtin!brief.html.j2" %}\n{% block header %}\n'
        '{% include "missing.html.j2" %}{% endblock %}\n'
    )
    result = _build(root, "--html-only")
    assert f"{template}:3: template: template 'missing.html.j2' not found (searched " in (
        result.stderr
    )
    assert f"{root / 'templates'}, {builtin_templates()})" in result.stderr


def test_section_titles_come_from_the_page_contract() -> None:
    """The template types no fixed heading: it renders them from `page`, as verification reads them."""
    source = (builtin_templates() / PAGE_TEMPLATE).read_text(encoding="utf-8")
    for part in (PAGE.risks, PAGE.reconciliation, PAGE.sources):
        assert f">{part.title}<" not in source and f"{{% block {part.block} %}}" in source
    headings = page_headings(["Thesis", "Outlook"], [], appendix=True)
    assert [(h.title, h.block) for h in headings] == [
        ("Thesis", "sections"),
        ("Outlook", "sections"),
        ("Risks", "risks"),
        ("Source reconciliation", "appendix"),
        ("Sources", "sources"),
    ]
    html = '<h2><span class="num">1</span>Thesis &amp; more</h2><h2>Sources</h2>'
    assert missing_headings(html, page_headings(["Thesis & more"], [], appendix=False)) == [
        Heading("Risks", "risks")
    ]


def _copy_package(target: Path) -> Path:
    shutil.copytree(
        REPO / "reportgen", target / "reportgen", ignore=shutil.ignore_patterns("*.pyc")
    )
    return target


def _builtin_in(pythonpath: Path) -> subprocess.CompletedProcess[str]:
    code = "from reportgen.render.templates import builtin_templates; print(builtin_templates())"
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=pythonpath, env=env, capture_output=True, text=True
    )


def test_builtin_templates_follow_one_rule_and_say_where_they_looked(tmp_path: Path) -> None:
    """Installed: inside the package. Not installed and not a checkout: an error listing both."""
    bare = _copy_package(tmp_path / "bare")
    result = _builtin_in(bare)
    assert result.returncode == 1
    assert (
        f"reportgen's built-in templates (brief.html.j2) not found; searched "
        f"{bare / 'reportgen' / 'templates'} (installed package) and {bare / 'templates'} "
        "(source checkout)"
    ) in result.stderr
    (bare / "templates").mkdir()  # a templates/ folder without a pyproject.toml is no checkout
    shutil.copy(REPO / "templates" / PAGE_TEMPLATE, bare / "templates")
    assert _builtin_in(bare).returncode == 1
    installed = _copy_package(tmp_path / "installed")
    shutil.copytree(REPO / "templates", installed / "reportgen" / "templates")
    result = _builtin_in(installed)
    assert result.stdout.strip() == str(installed / "reportgen" / "templates"), result.stderr
