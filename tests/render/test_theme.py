"""Theming: [theme] in reportgen.toml and template overrides, end to end through `reportgen build`."""

from __future__ import annotations

import base64
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from conftest import write_brief
from pypdf import PdfReader

from reportgen.config import ConfigError, ThemeConfig, load_config
from reportgen.render.environment import template_dirs
from reportgen.render.theme import load_theme, theme_css

REPORTGEN = str(Path(sys.executable).parent / "reportgen")

OVERRIDE = """\
{% extends "builtin!brief.html.j2" %}
{% block style %}{{ super() }}
.title { letter-spacing: -0.01em; }
{% endblock %}
{% block disclaimer %}<p class="house-footer">Acme Capital house footer</p>{{ super() }}{% endblock %}
"""


def png(width: int = 4, height: int = 2) -> bytes:
    """A small valid PNG, so the test needs no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x0b\x6e\x4f" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def write_project(root: Path, minimal: dict, theme: str) -> Path:
    write_brief(root / "seeds" / "acme", minimal)
    (root / "brand").mkdir(parents=True, exist_ok=True)
    (root / "brand" / "logo.png").write_bytes(png())
    (root / "reportgen.toml").write_text(theme, encoding="utf-8")
    return root


THEME = """\
[theme]
firm = "Acme Capital <Research>"
logo = "brand/logo.png"
accent = "#0B6E4F"
fonts = ["DejaVu Serif", "Noto Serif"]
disclaimer = "For Acme Capital clients only. Not a solicitation."
"""


def build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REPORTGEN, "build", "-j", "1", *args], cwd=root, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def themed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One themed project with a templates/ override, built once through the CLI."""
    from conftest import MINIMAL

    root = write_project(tmp_path_factory.mktemp("themed"), MINIMAL, THEME)
    (root / "templates").mkdir()
    (root / "templates" / "brief.html.j2").write_text(OVERRIDE, encoding="utf-8")
    result = build(root)
    assert result.returncode == 0, result.stderr
    return root


def test_theme_reaches_the_html(themed: Path) -> None:
    html = (themed / "build" / "acme" / "acme.html").read_text(encoding="utf-8")
    assert "Acme Capital &lt;Research&gt;" in html and "<Research>" not in html
    assert (
        '<img class="brand-logo" src="data:image/png;base64,' + base64.b64encode(png()).decode()
        in html
    )
    assert "--accent: #0b6e4f; --accent-soft: #e2eeea;" in html
    assert 'font-family: "DejaVu Serif", "Noto Serif", ' in html
    assert "For Acme Capital clients only." in html and "Not investment advice." not in html
    assert "brand/logo.png" not in html  # embedded, not linked: the page stays self-contained


def test_charts_take_the_accent(themed: Path) -> None:
    html = (themed / "build" / "acme" / "acme.html").read_text(encoding="utf-8")
    chart = html[html.index('<div class="chart-svg">') :].split("</figure>")[0]
    assert "#0b6e4f" in chart and "#d9622b" not in chart


def test_template_override_extends_the_builtin_block_by_block(themed: Path) -> None:
    html = (themed / "build" / "acme" / "acme.html").read_text(encoding="utf-8")
    assert '<p class="house-footer">Acme Capital house footer</p>' in html
    assert ".title { letter-spacing: -0.01em; }" in html
    assert "--ink: #1d2733" in html  # super(): the built-in stylesheet is still there
    assert html.index("house-footer") < html.index("For Acme Capital clients only.")


def test_theme_reaches_the_pdf(themed: Path) -> None:
    reader = PdfReader(themed / "build" / "acme" / "acme.pdf")
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Acme Capital <Research>" in text and "Acme Capital house footer" in text
    fonts = {
        str(f["/BaseFont"]) for page in reader.pages for f in page["/Resources"]["/Font"].values()
    }
    assert any("DejaVu-Serif" in name for name in fonts), fonts
    assert any(
        obj.get("/Subtype") == "/Image"
        for page in reader.pages
        for obj in page["/Resources"].get("/XObject", {}).values()
    )


def test_theme_change_rebuilds_a_skipped_brief(themed: Path) -> None:
    assert "skipped acme" in build(themed).stdout
    config = themed / "reportgen.toml"
    config.write_text(THEME.replace("#0B6E4F", "#123"), encoding="utf-8")
    try:
        result = build(themed, "--html-only")
        assert "built acme" in result.stdout, result.stdout + result.stderr
        assert "--accent: #123;" in (themed / "build" / "acme" / "acme.html").read_text(
            encoding="utf-8"
        )
    finally:
        config.write_text(THEME, encoding="utf-8")


def test_templates_option_wins_over_the_project_folder(themed: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "brief.html.j2").write_text(
        OVERRIDE.replace("Acme Capital house footer", "From --templates"), encoding="utf-8"
    )
    result = build(themed, "--templates", str(other), "--html-only", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / "acme" / "acme.html").read_text(encoding="utf-8")
    assert "From --templates" in html and "house footer" not in html


@pytest.mark.parametrize(
    ("toml", "key", "why"),
    [
        ('[theme]\naccent = "red; } body { display: none"\n', "theme.accent", "hex colour"),
        ('[theme]\naccent = "#12345"\n', "theme.accent", "hex colour"),
        ('[theme]\nfonts = ["Inter\\"; } body { x: y"]\n', "theme.fonts", "font family"),
        ('[theme]\nlogo = "../outside.png"\n', "theme.logo", "outside the project"),
        ('[theme]\nlogo = "brand/missing.png"\n', "theme.logo", "does not exist"),
        ('[theme]\nlogo = "reportgen.toml"\n', "theme.logo", "must be one of"),
        ('[theme]\ntemplates = "nope"\n', "theme.templates", "not found"),
    ],
)
def test_bad_theme_is_one_clear_line(
    tmp_path: Path, minimal: dict, toml: str, key: str, why: str
) -> None:
    root = write_project(tmp_path / "p", minimal, toml)
    (tmp_path / "outside.png").write_bytes(png())
    result = build(root, "--html-only")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert (
        line.startswith("error: ") and "reportgen.toml" in line and key in line and why in line
    ), line
    assert not (root / "build").exists()


def test_css_is_built_only_from_checked_values() -> None:
    assert theme_css(ThemeConfig()) == ""
    css = theme_css(ThemeConfig(accent="#ABC", fonts=["Source Serif 4"]))
    assert css == (
        ":root { --accent: #abc; --accent-soft: #f5f7f9; --accent-ink: #616c76; }\n"
        'body { font-family: "Source Serif 4", "Noto Sans", "DejaVu Sans", '
        '"Noto Sans CJK SC", "Noto Sans CJK JP", "PingFang SC", "Hiragino Sans", "Microsoft YaHei", '
        '"Yu Gothic", sans-serif; }'
    )


def test_project_templates_folder_is_found_beside_the_config(tmp_path: Path) -> None:
    (tmp_path / "reportgen.toml").write_text("[theme]\n", encoding="utf-8")
    config = load_config(tmp_path / "reportgen.toml")
    assert template_dirs(config) == ()
    (tmp_path / "templates").mkdir()
    assert template_dirs(config) == (tmp_path.resolve() / "templates",)
    assert load_theme(config).css == ""
    with pytest.raises(ConfigError, match="not found"):
        template_dirs(config, tmp_path / "missing")
