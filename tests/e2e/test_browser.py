"""The built HTML in a real browser: Debian's headless Chromium, driven over the DevTools protocol.

At desktop and phone widths: no failed resource loads, no request leaving the
page, no console errors, no horizontal overflow. Full-page screenshots go to
tests/artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websocket
from conftest import EXAMPLE, REPO, build_brief

from reportgen.brief.scaffold import new_brief
from reportgen.config import Config, ThemeConfig
from reportgen.project import Project
from reportgen.render.theme import load_theme
from tests.render.test_charts import unlabelled_brief

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
WIDTHS = {"desktop": (1280, 900, False), "phone": (390, 844, True)}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian chromium not installed (/usr/bin/chromium): bash scripts/setup.sh --dev",
)

LOGO_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32" viewBox="0 0 120 32">
<rect width="32" height="32" rx="6" fill="#0b6e4f"/><text x="40" y="22" font-family="sans-serif"
font-size="16" font-weight="700" fill="#0b6e4f">ACME</text></svg>"""

OVERFLOW_JS = """(() => {
  const width = document.documentElement.clientWidth;
  const clipped = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') return true;
    }
    return false;
  };
  const offenders = [...document.body.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > width + 1 && !clipped(el))
    .slice(0, 8)
    .map((el) => el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined
      ? '.' + String(el.className).trim().replace(/\\s+/g, '.') : '')
      + ' right=' + Math.round(el.getBoundingClientRect().right));
  return JSON.stringify({scrollWidth: document.documentElement.scrollWidth, width, offenders});
})()"""


class DevTools:
    """A minimal Chrome DevTools Protocol client over one page's websocket."""

    def __init__(self, ws_url: str):
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str) -> None:
        """Read events until `method` arrives (bounded by the socket timeout)."""
        while not any(e.get("method") == method for e in self.events):
            self.events.append(json.loads(self.ws.recv()))

    def close(self) -> None:
        self.ws.close()


@dataclass
class PageReport:
    failed_loads: list[str]
    outside_requests: list[str]
    console_errors: list[str]
    overflow: dict[str, Any]
    screenshot: Path


def start_chromium(profile: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Headless Chromium with no network at all; returns the process and its DevTools port."""
    args = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        "--remote-debugging-address=127.0.0.1",
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # any network use fails
        "about:blank",
    ]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = profile / "DevToolsActivePort"
    for _ in range(300):
        if port_file.is_file() and port_file.read_text().strip():
            return process, int(port_file.read_text().splitlines()[0])
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    pytest.fail("chromium did not start its DevTools endpoint")


def page_socket(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as response:
        targets = json.loads(response.read())
    return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    process, port = start_chromium(profile)
    tools = DevTools(page_socket(port))
    for domain in ("Page", "Network", "Runtime", "Log"):
        tools.call(f"{domain}.enable")
    yield tools
    tools.close()
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The example brief, and a new brief with a firm's theme (logo, accent, fonts)."""
    root = tmp_path_factory.mktemp("browser")
    built = {"example": build_brief(EXAMPLE, root / "build", pdf=False)}
    (root / "logo.svg").write_text(LOGO_SVG, encoding="utf-8")
    config = Config(
        path=root / "reportgen.toml",
        theme=ThemeConfig(
            firm="Acme Capital Research",
            logo="logo.svg",
            accent="#0b6e4f",
            fonts=["DejaVu Serif"],
            disclaimer="For Acme Capital clients only.",
        ),
    )
    themed = new_brief("themed-new", root / "seeds").folder
    built["themed"] = build_brief(
        themed, root / "build", Project(theme=load_theme(config)), pdf=False
    )
    for name, result in built.items():
        assert result.ok, (name, [str(p) for p in result.problems])
    return {name: result.outputs[0] for name, result in built.items()}


def inspect(
    tools: DevTools, html: Path, name: str, width: int, height: int, mobile: bool
) -> PageReport:
    tools.call(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=height,
        deviceScaleFactor=1,
        mobile=mobile,
    )
    tools.events.clear()
    tools.call("Page.navigate", url=html.resolve().as_uri())
    tools.wait_for("Page.loadEventFired")
    events = tools.events
    failed = [
        f"{e['params'].get('errorText')} ({e['params'].get('type')})"
        for e in events
        if e.get("method") == "Network.loadingFailed"
    ]
    urls = [
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    outside = [u[:120] for u in urls if not u.startswith(("data:", "file:", "about:"))]
    console = [_console_text(e) for e in events if _is_console_error(e)]
    result = tools.call("Runtime.evaluate", expression=OVERFLOW_JS, returnByValue=True)
    overflow = json.loads(result["result"]["value"])
    return PageReport(failed, outside, console, overflow, screenshot(tools, name, width))


def _is_console_error(event: dict[str, Any]) -> bool:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        return True
    if method == "Runtime.consoleAPICalled":
        return params.get("type") in ("error", "assert")
    return method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error"


def _console_text(event: dict[str, Any]) -> str:
    params = event["params"]
    if "entry" in params:
        return params["entry"].get("text", "")
    if "exceptionDetails" in params:
        return params["exceptionDetails"].get("text", "")
    return " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))


def screenshot(tools: DevTools, name: str, width: int) -> Path:
    """The whole page, not just the viewport."""
    metrics = tools.call("Page.getLayoutMetrics")
    height = min(int(metrics["cssContentSize"]["height"]) + 1, 16000)
    shot = tools.call(
        "Page.captureScreenshot",
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}-{width}px.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


@pytest.mark.parametrize("viewport", list(WIDTHS))
@pytest.mark.parametrize("brief", ["example", "themed"])
def test_page_is_clean_in_chromium(
    browser: DevTools, pages: dict[str, Path], brief: str, viewport: str
) -> None:
    width, height, mobile = WIDTHS[viewport]
    report = inspect(browser, pages[brief], f"{brief}-{viewport}", width, height, mobile)
    assert report.failed_loads == []
    assert report.outside_requests == []
    assert report.console_errors == []
    overflow = report.overflow
    assert overflow["scrollWidth"] <= overflow["width"], overflow
    assert overflow["offenders"] == [], overflow
    assert report.screenshot.stat().st_size > 10_000


CHART_TEXT_JS = """(() => {
  const body = parseFloat(getComputedStyle(document.querySelector('.section p')).fontSize);
  const sizes = [...document.querySelectorAll('.chart-svg svg text')]
    .filter((t) => t.textContent.trim())
    .map((t) => {
      const m = t.getScreenCTM();  // the SVG's scale on screen (and any rotation)
      return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    });
  return JSON.stringify({body, count: sizes.length, min: Math.min(...sizes), max: Math.max(...sizes)});
})()"""


@pytest.fixture(scope="module")
def chart_pages(
    pages: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """The example, and a brief with crowded, unlabelled charts (test_charts.unlabelled_brief)."""
    root = tmp_path_factory.mktemp("charts")
    result = build_brief(unlabelled_brief(root / "acme"), root / "build", pdf=False)
    assert result.ok, [str(p) for p in result.problems]
    return {"example": pages["example"], "unlabelled": result.outputs[0]}


@pytest.mark.parametrize("viewport", list(WIDTHS))
@pytest.mark.parametrize("brief", ["example", "unlabelled"])
def test_chart_text_reads_at_phone_and_desktop_widths(
    browser: DevTools, chart_pages: dict[str, Path], brief: str, viewport: str
) -> None:
    """Issue 14: at 390 px every chart text is at least 9 CSS px; at 1280 px none is larger
    than 1.1x the body text. Sizes are the SVG text's font size times its on-screen scale."""
    width, height, mobile = WIDTHS[viewport]
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=height,
        deviceScaleFactor=1,
        mobile=mobile,
    )
    browser.events.clear()
    browser.call("Page.navigate", url=chart_pages[brief].resolve().as_uri())
    browser.wait_for("Page.loadEventFired")
    result = browser.call("Runtime.evaluate", expression=CHART_TEXT_JS, returnByValue=True)
    sizes = json.loads(result["result"]["value"])
    print(brief, viewport, sizes)  # the measured figures, for the record (pytest -s)
    assert sizes["count"] > 20, sizes
    if viewport == "phone":
        assert sizes["min"] >= 9, sizes
    else:
        assert sizes["max"] <= 1.1 * sizes["body"], sizes


def test_artifacts_are_git_ignored() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", "tests/artifacts/x.png"], cwd=REPO)
    assert ignored.returncode == 0 or shutil.which("git") is None
