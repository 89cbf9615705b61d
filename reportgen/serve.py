"""`reportgen serve`: a live preview of one brief on 127.0.0.1.

A watcher thread polls the brief's files (and reportgen.toml, the template overrides, the
logo) and rebuilds the HTML on every change; it and the PDF made on request are made as
`reportgen build` makes them (a worker within the [build] ceilings, the PDF verified),
writing nothing but the chart cache. Only our own Host is answered. Served pages (never
the built files) poll `/__version` and reload; a failed build shows its problems.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import cast

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reportgen.batch import BuildTask, run_within
from reportgen.brief.spec import BRIEF_FILE
from reportgen.cache import CHART_DIR, ChartCache
from reportgen.config import CONFIG_FILE, load_config
from reportgen.errors import ReportgenError, ServeError
from reportgen.project import Project, load_project
from reportgen.record import Built
from reportgen.render.environment import builtin_templates
from reportgen.workers import Ceilings

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
# Listing and stat-ing the example brief's files takes 0.2 ms, so looking ten times a second
# costs nothing, and an edit waits 0.05 s on average before its build starts (0.2 s at 0.4).
POLL_SECONDS = 0.1
IDLE_SECONDS = 20  # a connection that sends nothing for this long is closed
Signature = frozenset[tuple[str, int, int]]
HTML, TEXT = "text/html; charset=utf-8", "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Build:
    """One build of the brief as the server shows it; replaced whole on every rebuild."""

    version: int
    brief_id: str
    html: str | None  # the built page, exactly as written; None when the build failed
    errors: list[str] = field(default_factory=list)  # `file:line: key: message` lines
    warnings: list[str] = field(default_factory=list)
    built_at: str = ""


class Preview:
    """Makes one brief as `reportgen build` does, again whenever one of its inputs changes."""

    def __init__(
        self, brief_dir: Path, config_path: Path | None = None, templates: Path | None = None
    ):
        self.brief_dir = brief_dir
        self.config_path = config_path
        self.templates = templates
        self.lock = threading.Lock()  # one build at a time
        self.watched: list[Path] = [config_path or Path(CONFIG_FILE)]
        self.build = Build(0, brief_dir.resolve().name, None)
        self.project: Project | None = None  # of the current build
        self._pdf: tuple[int, Built] | None = None

    def rebuild(self) -> Build:
        """Make the HTML now; a bad brief or config becomes a failed Build, never raises."""
        with self.lock:
            version = self.build.version + 1
            stamp = time.strftime("%H:%M:%S")
            try:
                config = load_config(self.config_path)
                # the chart cache `build` keeps: a prose edit redraws no chart
                charts = ChartCache(config.resolve(config.build.out) / CHART_DIR)
                self.project = load_project(config, self.templates, charts=charts)
            except ReportgenError as exc:
                self.build = Build(version, self.build.brief_id, None, [str(exc)], built_at=stamp)
                return self.build
            # everything a build reads besides the brief folder itself
            self.watched = [self.config_path or Path(CONFIG_FILE), *self.project.template_dirs]
            if config.theme.logo:
                self.watched.append(config.base_dir / config.theme.logo)
            built = self._make(self.project, pdf=False)
            errors = [str(p) for p in built.problems if p.severity == "error"]
            warnings = [str(p) for p in built.problems if p.severity == "warning"]
            text = built.html if built.ok else None
            self.build = Build(version, built.brief_id, text, errors, warnings, stamp)
        log.info("build %d of %s: %s", version, self.brief_dir, "ok" if text else "failed")
        return self.build

    def signature(self) -> Signature:
        """Name, mtime and size of every watched file: any saved change alters it."""
        entries = set()
        for root in [self.brief_dir, *self.watched]:
            for path in [p for p in root.rglob("*") if _edited(p)] if root.is_dir() else [root]:
                # deleted between listing and stat, or absent: that is a state too
                with contextlib.suppress(OSError):
                    stat = path.stat()
                    entries.add((str(path), stat.st_mtime_ns, stat.st_size))
        return frozenset(entries)

    def _make(self, project: Project, pdf: bool) -> Built:
        """The brief made in a worker within the project's [build] ceilings."""
        where = self.brief_dir / f"{self.build.brief_id}.pdf"
        stamped = replace(project, clock=project.now())  # read here, not in the worker
        task = BuildTask(self.brief_dir, stamped, None, pdf=pdf, where=where)
        return run_within(task, Ceilings.of(project.config.build))

    def pdf(self) -> Built | None:
        """The current version made with its PDF, once; None when the HTML build failed."""
        with self.lock:
            build, project = self.build, self.project
            if build.html is None or project is None:
                return None
            if self._pdf is None or self._pdf[0] != build.version:
                self._pdf = (build.version, self._make(project, pdf=True))
            return self._pdf[1]


class PreviewServer(ThreadingHTTPServer):
    """The HTTP server and the watcher thread around one Preview."""

    daemon_threads = True

    def __init__(
        self,
        preview: Preview,
        port: int = 8000,
        poll: float = POLL_SECONDS,
        idle: float = IDLE_SECONDS,
    ):
        self.preview = preview
        self.poll = poll
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        try:
            super().__init__((HOST, port), _handler(preview, idle))
        except OSError as exc:
            raise ServeError(
                f"cannot listen on {HOST}:{port}: {exc.strerror}; try --port 0"
            ) from exc

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"

    def start(self) -> None:
        """Build once, then serve and watch in background threads."""
        self.preview.rebuild()
        self.threads = [
            threading.Thread(target=self.serve_forever, name="reportgen-http", daemon=True),
            threading.Thread(target=self._watch, name="reportgen-watch", daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    def _watch(self) -> None:
        last = self.preview.signature()
        while not self.stopping.wait(self.poll):
            current = self.preview.signature()
            if current != last:
                self.preview.rebuild()
                # seen: the files as they were when the build started, plus any file it began
                # to watch; an edit saved during the build still differs and rebuilds
                known = {entry[0] for entry in current}
                last = current | {e for e in self.preview.signature() if e[0] not in known}

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        for thread in self.threads:
            thread.join(timeout=5)

    def handle_error(self, _request: object, client_address: tuple[str, int]) -> None:
        """A client that hangs up (or goes idle) mid-request is no error: nothing to print.
        Anything else is one line in the log, never a traceback on the console."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            log.debug("%s hung up: %s", client_address[0], exc)
        else:
            log.error("request from %s failed: %s: %s", client_address[0], type(exc).__name__, exc)


def _edited(path: Path) -> bool:
    """A file an analyst edits: not an editor's hidden swap file or ~ backup."""
    return path.is_file() and not path.name.startswith(".") and not path.name.endswith("~")


def _handler(preview: Preview, idle: float) -> type[BaseHTTPRequestHandler]:
    """A request handler bound to one preview (http.server wants a class)."""

    class Handler(BaseHTTPRequestHandler):
        timeout = idle  # idle or slow clients cannot hold a thread forever

        def do_GET(self) -> None:
            if not self._host_ok():
                return
            build = preview.build
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(200, HTML, served_page(build).encode("utf-8"))
            elif path == "/__version":
                self._send(200, "application/json", json.dumps({"version": build.version}).encode())
            elif path == f"/{build.brief_id}.pdf":
                self._pdf(build)
            else:
                self._send(404, TEXT, b"not found: try /\n")

        def _host_ok(self) -> bool:
            """Only our own Host: a DNS-rebinding page (Host: attacker.example) must not
            read an unpublished brief through the analyst's browser."""
            hosts = self.headers.get_all("Host") or []
            port = cast(tuple[str, int], self.server.server_address)[1]
            if len(hosts) != 1:  # a second Host could be read by a proxy in front instead
                self._send(400, TEXT, b"one Host header is required\n")
            elif hosts[0].strip().lower() not in {f"{HOST}:{port}", f"localhost:{port}"}:
                self._send(421, TEXT, b"wrong host: use the URL printed\n")
            else:
                return True
            return False

        def _pdf(self, build: Build) -> None:
            made = preview.pdf()
            if made is None:
                self._send(409, HTML, served_page(build).encode("utf-8"))
            elif made.pdf is None:  # failed, over its deadline, or not verified: say why
                errors = [str(p) for p in made.problems if p.severity == "error"]
                failed = Build(build.version, build.brief_id, None, errors, built_at=build.built_at)
                self._send(500, HTML, error_page(failed).encode("utf-8"))
            else:
                self._send(200, "application/pdf", made.pdf)

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s %s", self.address_string(), format % args)

    return Handler


def served_page(build: Build) -> str:
    """The built page with the preview bar and reload script before </body> (at the end of a
    custom page that has none), or the error page."""
    if build.html is None:
        return error_page(build)
    bar = _pages().get_template("toolbar.html.j2").render(build=build)
    at = build.html.lower().rfind("</body>")
    return build.html + bar if at < 0 else build.html[:at] + bar + build.html[at:]


def error_page(build: Build) -> str:
    """The brief's problems, one `file:line: key: message` a line, reloading when fixed."""
    return _pages().get_template("errors.html.j2").render(build=build)


@functools.cache
def _pages() -> Environment:
    """The preview's own pages (templates/serve/), autoescaped like the brief's."""
    loader = FileSystemLoader(builtin_templates() / "serve")
    return Environment(loader=loader, autoescape=True, undefined=StrictUndefined)


def serve(
    brief_dir: Path,
    port: int = 8000,
    config_path: Path | None = None,
    templates: Path | None = None,
) -> PreviewServer:
    """Start previewing a brief; the caller stops the returned server."""
    if not (brief_dir / BRIEF_FILE).is_file():
        raise ServeError(f"{brief_dir}: no {BRIEF_FILE} in this folder")
    server = PreviewServer(Preview(brief_dir, config_path, templates), port)
    server.start()
    return server
