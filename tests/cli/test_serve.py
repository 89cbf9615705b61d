"""`reportgen serve`: a real server process on 127.0.0.1, real HTTP, real file edits."""

from __future__ import annotations

import io
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from reportgen.brief.scaffold import new_brief
from reportgen.serve import Preview, PreviewServer
from tests.conftest import add_svg_bomb, build_brief

REPORTGEN = str(Path(sys.executable).parent / "reportgen")


class Served:
    """A running `reportgen serve` and helpers to talk to it."""

    def __init__(self, process: subprocess.Popen[str], url: str, brief: Path):
        self.process, self.url, self.brief = process, url, brief

    def get(self, path: str = "") -> tuple[int, str, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as response:
                return response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers["Content-Type"], exc.read()

    def page(self) -> str:
        return self.get()[2].decode("utf-8")

    def version(self) -> int:
        return int(re.search(rb"\d+", self.get("__version")[2]).group())  # type: ignore[union-attr]

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.brief / name
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")


def wait_for(condition: Callable[[], bool], what: str, attempts: int = 150) -> None:
    """Poll a condition a bounded number of times (no wall-clock assertion)."""
    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    project = tmp_path_factory.mktemp("project")
    brief = new_brief("acme-live", project / "seeds").folder
    (project / "reportgen.toml").write_text('[theme]\nfirm = "Acme Capital"\n', encoding="utf-8")
    process = subprocess.Popen(
        [REPORTGEN, "serve", "seeds/acme-live", "--port", "0"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+/", first)
    if match is None:
        process.kill()
        pytest.fail(f"no URL printed: {first!r} {process.stderr.read() if process.stderr else ''}")
    yield Served(process, match.group(), brief)
    if process.poll() is None:
        process.kill()
        process.wait()


def test_serves_the_built_page_with_reload_script(served: Served) -> None:
    status, kind, body = served.get()
    assert status == 200 and kind.startswith("text/html")
    page = body.decode("utf-8")
    assert "PLACEHOLDER: Acme Live" in page and "Acme Capital" in page
    assert "/__version" in page and 'href="/acme-live.pdf"' in page
    assert served.get("nothing-here")[0] == 404


def test_built_html_never_carries_the_preview_script(tmp_path: Path) -> None:
    brief = new_brief("plain", tmp_path / "seeds").folder
    result = build_brief(brief, tmp_path / "build", pdf=False)
    html = result.outputs[0].read_text(encoding="utf-8")
    assert "__version" not in html and "reportgen-preview" not in html


def test_saved_change_rebuilds_the_page(served: Served) -> None:
    before = served.version()
    served.edit("brief.yaml", "value: 12.5", "value: 14.25")
    wait_for(lambda: served.version() > before, "a rebuild after editing brief.yaml")
    wait_for(lambda: "USD 14.25bn" in served.page(), "the new value in the page")
    before = served.version()
    served.edit("overview.md", "PLACEHOLDER text.", "Freshly edited text.")
    wait_for(lambda: "Freshly edited text." in served.page(), "the edited Markdown in the page")
    assert served.version() > before


def test_errors_show_in_the_page_and_the_server_keeps_running(served: Served) -> None:
    served.edit(
        "brief.yaml",
        "    source: placeholder-filing\n    key: true",
        "    source: placeholder-filng\n    key: true",
    )
    wait_for(lambda: "has errors" in served.page(), "the error page")
    page = served.page()
    assert re.search(
        r"brief\.yaml:\d+: metrics\[0\]\.source: unknown source &#39;placeholder-filng&#39;", page
    )
    assert "/__version" in page  # it reloads itself once fixed
    assert served.get("acme-live.pdf")[0] == 409
    served.edit("brief.yaml", "placeholder-filng", "placeholder-filing")
    wait_for(lambda: "has errors" not in served.page(), "the fixed page")
    assert served.process.poll() is None


def test_theme_change_in_config_rebuilds(served: Served) -> None:
    config = served.brief.parent.parent / "reportgen.toml"
    config.write_text('[theme]\nfirm = "Acme Capital"\naccent = "#0b6e4f"\n', encoding="utf-8")
    wait_for(lambda: "--accent: #0b6e4f" in served.page(), "the new accent colour")
    config.write_text('[theme]\naccent = "green; }"\n', encoding="utf-8")
    wait_for(lambda: "has errors" in served.page(), "the config error page")
    assert "theme.accent" in served.page()
    config.write_text('[theme]\nfirm = "Acme Capital"\n', encoding="utf-8")
    wait_for(lambda: "has errors" not in served.page(), "the page after fixing the config")


def test_pdf_link_serves_the_current_build(served: Served) -> None:
    """The PDF shows the value the page shows: 12.5, or 14.25 once the edit test has run in
    this process (pytest-xdist may run that test in another worker, with its own server)."""
    shown = re.search(r"USD 1(?:2\.5|4\.25)bn", served.page())
    status, kind, body = served.get("acme-live.pdf")
    assert status == 200 and kind == "application/pdf" and shown is not None
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    assert shown.group() in text


def _raw_get(served: Served, *hosts: str | None) -> tuple[int, bytes]:
    """GET / with exactly these Host headers (None: none at all), over a real socket."""
    port = int(served.url.rsplit(":", 1)[1].strip("/"))
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        header = "".join(f"Host: {host}\r\n" for host in hosts if host is not None)
        conn.sendall(f"GET / HTTP/1.0\r\n{header}\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


def test_only_its_own_host_is_served(served: Served) -> None:
    """A DNS-rebinding page (Host: attacker.example) must not read the unpublished brief."""
    port = served.url.rsplit(":", 1)[1].strip("/")
    status, body = _raw_get(served, "attacker.example")
    assert status == 421 and b"Acme" not in body
    assert _raw_get(served, f"attacker.example:{port}")[0] == 421
    assert _raw_get(served, None)[0] == 400
    assert _raw_get(served, f"localhost:{port}")[0] == 200
    assert _raw_get(served, f"127.0.0.1:{port}")[0] == 200


def test_two_host_headers_are_refused(served: Served) -> None:
    """Ours first and an attacker's second was served: a proxy may read the other one."""
    port = served.url.rsplit(":", 1)[1].strip("/")
    status, body = _raw_get(served, f"127.0.0.1:{port}", "attacker.example")
    assert status == 400 and b"Acme" not in body
    assert _raw_get(served, f"127.0.0.1:{port}", f"127.0.0.1:{port}")[0] == 400


@pytest.fixture
def in_process(tmp_path: Path) -> Iterator[tuple[PreviewServer, Path]]:
    """A preview server in this process (idle connections closed after 0.3 s), its project's
    [build].timeout at 3 s."""
    brief = new_brief("acme", tmp_path / "seeds").folder
    config = tmp_path / "reportgen.toml"
    config.write_text("[build]\ntimeout = 3\n", encoding="utf-8")
    server = PreviewServer(Preview(brief, config), port=0, idle=0.3)
    server.start()
    yield server, brief
    server.stop()


def test_an_idle_connection_is_closed(in_process: tuple[PreviewServer, Path]) -> None:
    """A client that connects and says nothing does not hold a thread for ever."""
    server, _ = in_process
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=30) as conn:
        assert conn.recv(1) == b""  # closed by the server, well before our own timeout


def _port(server: PreviewServer) -> int:
    return int(server.url.rsplit(":", 1)[1].strip("/"))


def test_clients_that_hang_up_are_no_error(
    in_process: tuple[PreviewServer, Path], capfd: pytest.CaptureFixture[str]
) -> None:
    """60 clients reset the connection mid-request or before reading the answer: the server
    prints no traceback and goes on serving."""
    server, _ = in_process
    before = threading.active_count()
    port = _port(server)
    half = b"GET / HTTP/1.1\r\nHo"
    whole = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    for n in range(60):
        conn = socket.create_connection(("127.0.0.1", port), timeout=30)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.sendall(whole if n % 2 else half)
        conn.close()  # with linger 0: a reset, as a client that gives up
    wait_for(lambda: threading.active_count() <= before, "the handler threads to end")
    with urllib.request.urlopen(server.url, timeout=30) as response:
        assert response.status == 200
    assert "Traceback" not in capfd.readouterr().err


def test_a_pdf_preview_stops_at_the_build_deadline(
    in_process: tuple[PreviewServer, Path],
) -> None:
    """An SVG <use> bomb (10^9 rectangles) in the brief: the PDF preview is made as `build`
    makes it, so it stops at [build].timeout and says so, and the server goes on."""
    server, brief = in_process
    add_svg_bomb(brief)
    server.preview.rebuild()
    try:
        urllib.request.urlopen(server.url + "acme.pdf", timeout=120)
        pytest.fail("the bomb was laid out")
    except urllib.error.HTTPError as exc:
        page = exc.read().decode("utf-8")
        assert exc.code == 500
    assert "build: not finished after 3 s, stopped" in page
    with urllib.request.urlopen(server.url, timeout=30) as response:
        assert response.status == 200


def test_ctrl_c_stops_cleanly(served: Served) -> None:
    served.process.send_signal(signal.SIGINT)
    out, err = served.process.communicate(timeout=30)
    assert served.process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
