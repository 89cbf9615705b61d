"""Issue 20.10: the standard checkers find nothing. axe-core in headless Chromium (WCAG 2.1
AA and best practice: colour contrast, a main landmark, all content in landmarks) at phone
and desktop widths; the W3C validator vnu on the HTML; the PDF/UA checker `pdfua` on the
PDF. The checkers are installed by `bash scripts/setup.sh --dev`; on CI a missing one fails
the test rather than skipping it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE, REPO, build_brief

from reportgen.config import Config, ThemeConfig
from reportgen.project import Project
from reportgen.render.theme import _ink, _tint, contrast, load_theme
from tests.e2e.test_browser import WIDTHS, DevTools, page_socket, start_chromium

A11Y = REPO / ".venv" / "a11y" / "node_modules"
AXE = A11Y / "axe-core" / "axe.min.js"
VNU = A11Y / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM = Path("/usr/bin/chromium")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
PAGED_MEDIA = re.compile(
    r"CSS: “(string-set|bookmark-level|bookmark-label)”: Property “\1” doesn't exist"
    r"|CSS: “content”: “string\(\w+\)” is not a “content” value"
)
"""The paged-media CSS only WeasyPrint reads (running header, footer, bookmarks): vnu's CSS
checker does not know it; every other message counts."""


def need(path: Path | None, what: str) -> Path:
    """The checker, or a skip on a developer's machine without it (a failure on CI)."""
    if path is None or not path.exists():
        message = f"{what} not installed: bash scripts/setup.sh --dev"
        (pytest.fail if os.environ.get("CI") else pytest.skip)(message)
    assert path is not None
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The example (HTML and PDF) and a themed brief with a firm's own accent (HTML)."""
    root = tmp_path_factory.mktemp("a11y")
    example = build_brief(EXAMPLE, root / "build")
    theme = load_theme(Config(path=root / "reportgen.toml", theme=ThemeConfig(accent="#e8a33d")))
    themed = build_brief(EXAMPLE, root / "themed", Project(theme=theme), pdf=False)
    assert example.ok and themed.ok
    html = root / "build" / EXAMPLE.name / f"{EXAMPLE.name}.html"
    return {
        "example": html,
        "pdf": html.with_suffix(".pdf"),
        "themed": root / "themed" / EXAMPLE.name / f"{EXAMPLE.name}.html",
    }


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    need(CHROMIUM, "chromium")
    process, port = start_chromium(tmp_path_factory.mktemp("chromium-a11y"))
    tools = DevTools(page_socket(port))
    tools.call("Page.enable")
    yield tools
    tools.close()
    process.terminate()
    process.wait(timeout=20)


def open_page(tools: DevTools, html: Path, width: int, height: int, mobile: bool) -> None:
    """Load the page at this viewport and wait until it has loaded."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}
    tools.call("Emulation.setDeviceMetricsOverride", **metrics)
    tools.events.clear()
    tools.call("Page.navigate", url=html.resolve().as_uri())
    tools.wait_for("Page.loadEventFired")


def axe_violations(tools: DevTools, html: Path, width: int, height: int, mobile: bool) -> Any:
    open_page(tools, html, width, height, mobile)
    tools.call("Runtime.evaluate", expression=need(AXE, "axe-core").read_text(encoding="utf-8"))
    run = (
        f"axe.run(document, {{runOnly: {{type: 'tag', values: {json.dumps(AXE_TAGS)}}}}})"
        ".then((r) => JSON.stringify(r.violations.map((v) => [v.id, v.nodes.length,"
        " v.nodes.slice(0, 3).map((n) => n.target.join(' '))])))"
    )
    result = tools.call("Runtime.evaluate", expression=run, awaitPromise=True, returnByValue=True)
    return json.loads(result["result"]["value"])


@pytest.mark.parametrize("viewport", list(WIDTHS))
@pytest.mark.parametrize("brief", ["example", "themed"])
def test_axe_finds_nothing(
    browser: DevTools, built: dict[str, Path], brief: str, viewport: str
) -> None:
    width, height, mobile = WIDTHS[viewport]
    assert axe_violations(browser, built[brief], width, height, mobile) == []


def test_vnu_finds_no_error_in_the_html(built: dict[str, Path]) -> None:
    java = need(Path(shutil.which("java") or "/usr/bin/java"), "java")
    jar = need(VNU, "vnu.jar")
    run = subprocess.run(
        [str(java), "-jar", str(jar), "--errors-only", "--format", "json", str(built["example"])],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(run.stderr or run.stdout)["messages"]
    errors = [m["message"] for m in messages if not PAGED_MEDIA.search(m["message"])]
    assert errors == []
    assert any(PAGED_MEDIA.search(m["message"]) for m in messages)  # the filter still matches


def test_pdfua_finds_nothing_in_the_pdf(built: dict[str, Path]) -> None:
    need(Path(sys.executable).parent / "pdfua", "pdfua")
    from pdfua.cli import main as pdfua

    assert pdfua(["check", "--quiet", str(built["pdf"])]) == 0


def test_a_firms_accent_is_darkened_for_text_until_it_reads() -> None:
    """The accent as text (footnote marks, section numbers) keeps 4.5:1 on its own tint."""
    for accent in ("#e8a33d", "#ffcc00", "#0b6e4f", "#d9622b"):
        ink = _ink(accent, _tint(accent))
        assert contrast(ink, _tint(accent)) >= 4.5 and contrast(ink, "#ffffff") >= 4.5
    assert _ink("#0b6e4f", _tint("#0b6e4f")) == "#0b6e4f"  # dark enough already: unchanged
