"""Render stage: the template search path and the packaged theme."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from reportgen.render.environment import PAGE_TEMPLATE, Renderer, builtin_templates
from tests.conftest import REPO


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
