"""Shared fixtures: write small brief folders from dicts (mkdocs' tempdir pattern)."""

from __future__ import annotations

import copy
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from ruamel.yaml import YAML

from reportgen.batch import BatchOptions, build_many
from reportgen.project import Project
from reportgen.publish.editions import last_delivered_snapshot
from reportgen.record import BuildResult

# CI explores the same examples every run (a red CI must be reproducible); developers explore anew.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "seeds" / "alibaba-ai-2026"


def build_brief(
    brief: Path,
    out: Path,
    project: Project | None = None,
    *,
    pdf: bool = True,
    now: datetime | None = None,
    strict: bool = False,
) -> BuildResult:
    """One brief the way `reportgen build --force` makes it (build_many: a worker with the
    deadline and memory ceiling, "Changes since" the edition last delivered).
    `now`: the build clock."""
    project = project or Project()
    if now is not None:
        project = replace(project, clock=now)
    options = BatchOptions(
        pdf=pdf, jobs=1, force=True, strict=strict, delivered=last_delivered_snapshot
    )
    return build_many([brief], out, project, options).results[0]


def add_svg_bomb(brief: Path, markdown: str = "overview.md") -> None:
    """An SVG <use> bomb (10^9 rectangles) shown in a brief's Markdown: WeasyPrint would lay
    it out for hours; only a deadline stops it."""
    levels = "".join(
        f'<g id="l{i}">' + f'<use xlink:href="#l{i - 1}"/>' * 10 + "</g>" for i in range(1, 10)
    )
    (brief / "bomb.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="100" height="100"><defs><rect id="l0" width="1" height="1"/>{levels}</defs>'
        '<use xlink:href="#l9"/></svg>',
        encoding="utf-8",
    )
    with (brief / markdown).open("a", encoding="utf-8") as handle:
        handle.write("\n\n![bomb](bomb.svg)\n")


MINIMAL: dict[str, Any] = {
    "title": "Acme's Big Bet",
    "subject": {"name": "Acme Corp", "ticker": "ACME", "exchange": "NYSE"},
    "as_of": "2026-11-21",
    "authors": ["Test Desk"],
    "verdict": {
        "label": "High-Risk, High-Reward",
        "risk": "high",
        "reward": "high",
        "summary": 'Revenue reached {{ metric("revenue") }}.',
    },
    "sources": {
        "alpha": {"title": "Alpha Report", "publisher": "Alpha News", "published": "2026-11-01"},
        "beta": {"title": "Beta Review", "publisher": "Beta Weekly"},
    },
    "metrics": [
        {
            "id": "revenue",
            "label": "Revenue",
            "value": 12.5,
            "unit": "USD bn",
            "period": "FY2025",
            "source": "alpha",
            "key": True,
        },
        {"id": "growth", "label": "Revenue growth", "value": 34, "unit": "%", "source": "beta"},
    ],
    "tables": [
        {
            "id": "peers",
            "title": "Peers",
            "data": "peers.csv",
            "columns": {"company": "Company", "share": "Share (%)"},
            "sort": "-share",
            "highlight": "Acme",
            "source": "alpha",
        },
    ],
    "charts": [
        {
            "id": "peers-bar",
            "title": "Peer share",
            "kind": "bar",
            "data": "peers.csv",
            "x": "company",
            "y": "share",
            "unit": "%",
            "highlight": "Acme",
            "source": "beta",
        },
    ],
    "sections": [
        {
            "title": "Thesis",
            "body": 'Growth was {{ metric("growth") }} {{ cite("beta") }}.',
            "tables": ["peers"],
            "charts": ["peers-bar"],
        },
    ],
    "risks": [
        {
            "title": "Competition",
            "likelihood": "high",
            "impact": "medium",
            "body": "Rivals.",
            "sources": ["alpha"],
        },
    ],
}

PEERS_CSV = "company,share\nAcme,40\nGlobex,35\nInitech,25\n"


def write_brief(
    folder: Path, spec: dict[str, Any] | str, files: dict[str, str] | None = None
) -> Path:
    """Write brief.yaml (from a dict, or raw text) and extra files into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(spec, str):
        (folder / "brief.yaml").write_text(spec, encoding="utf-8")
    else:
        yaml = YAML()
        yaml.default_flow_style = False
        with (folder / "brief.yaml").open("w", encoding="utf-8") as handle:
            yaml.dump(spec, handle)
    for name, text in {"peers.csv": PEERS_CSV, **(files or {})}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def minimal() -> dict[str, Any]:
    """A fresh, valid minimal brief spec to modify."""
    return copy.deepcopy(MINIMAL)


@pytest.fixture
def make_brief(tmp_path: Path) -> Callable[..., Path]:
    """make_brief(spec, files=None, name='acme') -> the brief folder."""

    def make(
        spec: dict[str, Any] | str, files: dict[str, str] | None = None, name: str = "acme"
    ) -> Path:
        return write_brief(tmp_path / "briefs" / name, spec, files)

    return make


EXAMPLE_NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)  # the shared build's clock


@dataclass(frozen=True)
class ExampleBuild:
    """The example built once per session: read its outputs, never change them."""

    result: BuildResult
    folder: Path
    weasyprint_warnings: list[str]

    @property
    def html(self) -> Path:
        return self.folder / f"{EXAMPLE.name}.html"

    @property
    def pdf(self) -> Path:
        return self.folder / f"{EXAMPLE.name}.pdf"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="session")
def example_built(tmp_path_factory: pytest.TempPathFactory) -> ExampleBuild:
    """One build of the example (at EXAMPLE_NOW) shared by every test that only reads it:
    each such build costs seconds of WeasyPrint."""
    out = tmp_path_factory.mktemp("example")
    collect = _Collect()
    logging.getLogger("weasyprint").addHandler(collect)
    try:
        result = build_brief(EXAMPLE, out, now=EXAMPLE_NOW)
    finally:
        logging.getLogger("weasyprint").removeHandler(collect)
    return ExampleBuild(result, out / EXAMPLE.name, collect.messages)


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A private copy of the example brief, safe to modify."""
    target = tmp_path / "briefs" / EXAMPLE.name
    shutil.copytree(EXAMPLE, target)
    return target


# --- a project with one built brief, and an SMTP server: the delivery tests' ground ---


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder with briefs/acme and its built out/acme/acme.pdf (built once a
    session; tests change only their private copy, `project`)."""
    root = tmp_path_factory.mktemp("project")
    result = build_brief(write_brief(root / "briefs" / "acme", MINIMAL), root / "out")
    assert result.ok, result.problems
    return root


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    """A private copy of `built`, for a test that sends, edits or rebuilds."""
    target = tmp_path / "project"
    shutil.copytree(built, target)
    return target


@pytest.fixture
def server() -> Any:
    """A real SMTP server on 127.0.0.1 (aiosmtpd): (recorder, port)."""
    # here, not at the top: test_output's subprocesses import this file as tests.conftest,
    # where the sibling module smtp_server is not on the path
    from smtp_server import smtp_server

    with smtp_server() as running:
        yield running
