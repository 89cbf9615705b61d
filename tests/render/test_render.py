"""Render stage: the template search path, the packaged theme and the page contract."""

from __future__ import annotations

import base64
import copy
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reportgen.config import Config, ThemeConfig
from reportgen.project import load_project
from reportgen.render.document import PAGE, missing_headings, page_headings
from reportgen.render.environment import PAGE_TEMPLATE, Renderer, builtin_templates
from reportgen.render.fonts import FONT_BUDGET, font_file
from tests.conftest import MINIMAL, REPO, build_brief, write_brief


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
        PAGE.risks
    ]


def _copy_package(target: Path) -> Path:
    shutil.copytree(
        REPO / "reportgen", target / "reportgen", ignore=shutil.ignore_patterns("*.pyc")
    )
    return target


def _builtin_in(pythonpath: Path) -> subprocess.CompletedProcess[str]:
    code = "from reportgen.render.environment import builtin_templates; print(builtin_templates())"
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


def _page_with(tmp_path: Path, theme: ThemeConfig) -> str:
    """The minimal brief's HTML page, built with this theme."""
    folder = write_brief(tmp_path / "briefs" / "acme", copy.deepcopy(MINIMAL))
    project = load_project(Config(path=tmp_path / "reportgen.toml", theme=theme))
    result = build_brief(folder, tmp_path / "out", project, pdf=False)
    assert result.ok, [str(p) for p in result.problems]
    return result.outputs[0].read_text(encoding="utf-8")


def test_one_date_style_from_the_theme(tmp_path: Path) -> None:
    html = _page_with(tmp_path, ThemeConfig(date_format="%d.%m.%Y"))
    assert "<dd>21.11.2026</dd>" in html  # data as of
    assert "Alpha News, 01.11.2026." in html  # a source's date
    assert "· Data as of 21.11.2026</p>" in html  # the production line too
    assert "November" not in html


def test_a_date_format_without_a_year_is_refused() -> None:
    with pytest.raises(ValueError, match="must show a day, a month and a year"):
        ThemeConfig(date_format="%d %B")


def test_the_html_embeds_inter_for_latin_and_names_cjk_fallbacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three faces of Inter, subset to Latin, within FONT_BUDGET, screen only (the PDF uses
    the installed font); CJK text falls to system fonts named after Inter."""
    from fontTools.ttLib import TTFont

    if font_file("Inter", "Regular") is None:
        pytest.skip("Inter is not installed (fonts-inter): bash scripts/setup.sh")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1763683200")  # the same build time twice
    html = _page_with(tmp_path, ThemeConfig())
    style = re.search(r'<style media="screen">(.*?)</style>', html, re.DOTALL)
    assert style is not None and len(style.group(1)) <= FONT_BUDGET
    faces = re.findall(
        r"font-style: (\w+); font-weight: (\d+); .*?base64,([^)]+)\)", style.group(1)
    )
    assert [(s, w) for s, w, _ in faces] == [
        ("normal", "400"),
        ("normal", "700"),
        ("italic", "400"),
    ]
    for _, _, data in faces:
        font = TTFont(io.BytesIO(base64.b64decode(data)))
        assert font.flavor == "woff2" and font["name"].getDebugName(1) == "Inter"
        cmap = font.getBestCmap()
        assert all(ord(c) in cmap for c in "Alibaba's AI Bet – 36% · −3.5 €")
        assert ord("阿") not in cmap  # CJK is left to the system fonts
        assert "tnum" in {r.FeatureTag for r in font["GSUB"].table.FeatureList.FeatureRecord}
    assert '"Noto Sans CJK SC"' in html and '"PingFang SC"' in html
    assert html == _page_with(tmp_path / "again", ThemeConfig())  # byte-reproducible
    assert "@font-face" not in _page_with(
        tmp_path / "serif", ThemeConfig(fonts=["DejaVu Serif"])
    )  # a firm's own font: nothing of Inter embedded


FONTS_JS = (
    "<script>document.fonts.ready.then(() => { const seen = [];"
    " document.fonts.forEach(f => seen.push(`${f.family} ${f.weight} ${f.style} ${f.status}`));"
    " document.body.setAttribute('data-fonts', seen.join('; ')); });</script></body>"
)


def test_chromium_loads_the_embedded_faces(tmp_path: Path) -> None:
    """Offline, in a fresh profile: the browser takes Inter from the page itself."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists() or font_file("Inter", "Regular") is None:
        pytest.skip("needs /usr/bin/chromium and fonts-inter: bash scripts/setup.sh --dev")
    page = tmp_path / "page.html"
    page.write_text(
        _page_with(tmp_path, ThemeConfig()).replace("</body>", FONTS_JS), encoding="utf-8"
    )
    flags = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
    flags += " --disable-background-networking --disable-component-update --disable-sync"
    dom = subprocess.run(
        [
            str(chromium),
            *flags.split(),
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    found = re.search(r'data-fonts="([^"]*)"', dom)
    assert found is not None, dom[-500:]
    assert (
        found.group(1)
        == "Inter 400 normal loaded; Inter 700 normal loaded; Inter 400 italic loaded"
    )


def test_html_is_markup_by_type_and_no_filter_marks_a_string_safe(tmp_path: Path) -> None:
    """Every fragment the page places unescaped is a markupsafe.Markup; a plain string (the
    brief's own text) is escaped by autoescape, and there is no `trusted` filter to say
    otherwise."""
    from markupsafe import Markup

    from reportgen.build import check_brief
    from reportgen.render.compose import compose

    spec = copy.deepcopy(MINIMAL)
    spec["sources"]["alpha"]["title"] = "<b>Alpha</b> Report"
    checked, _ = check_brief(write_brief(tmp_path / "acme", spec))
    assert checked is not None
    renderer = Renderer()
    assert "trusted" not in renderer.env.filters
    doc = compose(checked, renderer.partial, datetime(2026, 11, 22, tzinfo=UTC))
    fragments = [doc.verdict_html, *(s.html for s in doc.sections), *(r.html for r in doc.risks)]
    fragments += [k.marks for k in doc.key_figures]
    assert fragments and all(isinstance(f, Markup) for f in fragments)
    html = renderer.page(doc)
    assert "<b>Alpha</b>" not in html and "&lt;b&gt;Alpha&lt;/b&gt;" in html
