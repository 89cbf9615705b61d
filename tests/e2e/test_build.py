"""The example brief end to end: HTML and PDF built, read back and checked."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from ruamel.yaml import YAML

from tests.conftest import EXAMPLE, build_brief


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One build of the example for the module; WeasyPrint must not log a single warning."""
    out = tmp_path_factory.mktemp("out")
    collect = _Collect()
    logging.getLogger("weasyprint").addHandler(collect)
    try:
        result = build_brief(EXAMPLE, out)
    finally:
        logging.getLogger("weasyprint").removeHandler(collect)
    assert result.ok, [str(p) for p in result.problems]
    assert collect.messages == []
    return (
        out / "alibaba-ai-2026" / "alibaba-ai-2026.html",
        out / "alibaba-ai-2026" / "alibaba-ai-2026.pdf",
    )


@pytest.fixture(scope="module")
def spec() -> dict:
    return YAML(typ="safe").load((EXAMPLE / "brief.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pdf_text(built: tuple[Path, Path]) -> str:
    reader = PdfReader(built[1])
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_pdf_holds_title_sections_and_sources(pdf_text: str, spec: dict) -> None:
    text = flat(pdf_text)
    assert flat(spec["title"]) in text
    for section in spec["sections"]:
        assert flat(section["title"]) in text, section["title"]
    for heading in ("Risks", "Sources", "Key figures", "Produced"):
        assert heading.lower() in text.lower()
    for source in spec["sources"].values():
        assert flat(source["title"]) in text


def test_pdf_names_every_competitor(pdf_text: str) -> None:
    text = flat(pdf_text)
    for name in (
        "Tencent Cloud",
        "Huawei Cloud",
        "Baidu AI Cloud",
        "ByteDance",
        "AWS",
        "Microsoft Azure",
        "Google Cloud",
    ):
        assert name in text, name


def test_both_conflicting_figures_are_shown(pdf_text: str) -> None:
    text = flat(pdf_text)
    assert "35.8%" in text and "36%" in text
    assert "7%" in text and "10%" in text
    assert "Source reconciliation" in text


def test_footnotes_numbered_in_first_cited_order(pdf_text: str, spec: dict) -> None:
    marks = [int(n) for n in re.findall(r"\[(\d+)\]", pdf_text)]
    first_seen = list(dict.fromkeys(marks))
    assert first_seen == list(range(1, len(spec["sources"]) + 1))


def test_pdf_metadata_pages_and_outline(built: tuple[Path, Path], spec: dict) -> None:
    reader = PdfReader(built[1])
    meta = reader.metadata
    assert meta is not None
    assert meta.title == spec["title"]
    names = [a if isinstance(a, str) else a["name"] for a in spec["authors"]]  # v1.2: analysts
    assert meta.author == ", ".join(names) or meta.author == names[0]
    assert "Alibaba" in (meta.subject or "")
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    assert 3 <= len(reader.pages) <= 8
    outline_titles = [item.title for item in reader.outline if not isinstance(item, list)]
    for section in spec["sections"]:
        assert any(section["title"] in t for t in outline_titles), outline_titles
    last = reader.pages[-1].extract_text()
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in last


def test_html_is_self_contained(built: tuple[Path, Path]) -> None:
    html = built[0].read_text(encoding="utf-8")
    assert "<svg" in html and "<style>" in html
    for pattern in (
        r"<link\b",
        r"<script\b",
        r'\bsrc="(?!data:)',
        r'url\((?!["\']?(?:data:|#))',
        r"@import",
    ):
        assert not re.search(pattern, html), pattern


def test_charts_are_vector_and_text_is_text(built: tuple[Path, Path]) -> None:
    html = built[0].read_text(encoding="utf-8")
    assert html.count("<svg") >= 3
    assert "<image" not in html  # no raster fallbacks inside the SVGs
    assert "Alibaba Cloud" in re.sub(r"<[^>]+>", " ", html)


def test_inline_table_stands_instead_of_after_the_body(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    minimal["sections"][0]["body"] = (
        'Before.\n\n{{ table("peers") }}\n\nAfter {{ chart("peers-bar") }}.\n'
    )
    folder = make_brief(minimal)
    assert build_brief(folder, tmp_path / "out", pdf=False).ok
    html = (tmp_path / "out" / "acme" / "acme.html").read_text(encoding="utf-8")
    assert html.count('id="table-peers"') == 1 and html.count('id="chart-peers-bar"') == 1
    assert html.index("Before.") < html.index('id="table-peers"') < html.index("After")


def test_warnings_go_to_the_author_and_the_page_says_draft(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    minimal["sources"]["unused"] = {"title": "Never cited"}
    folder = make_brief(minimal)
    result = build_brief(folder, tmp_path / "out", pdf=False)
    assert result.ok and [w.key for w in result.warnings] == ["sources.unused"]
    html = (tmp_path / "out" / "acme" / "acme.html").read_text(encoding="utf-8")
    assert "never cited" not in html and 'id="appendix"' not in html  # issue 11: no tool talk
    assert 'class="draft-mark"' in html and not result.publishable
    assert "Never cited" not in html[html.index('id="sources"') :]  # only cited sources are listed


GOLDEN = Path(__file__).parent.parent / "golden" / "alibaba-ai-2026.json"
GOLDEN_EPOCH = "1764201600"  # 2025-11-27T00:00:00Z


def _fingerprint(html: bytes, pdf: bytes) -> dict[str, Any]:
    """What the golden file pins: the HTML bytes, the text of each PDF page, the page count."""
    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]
    return {
        "html_sha256": hashlib.sha256(html).hexdigest(),
        "pages": len(pages),
        "page_text_sha256": [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in pages],
    }


def test_example_output_is_pinned_under_source_date_epoch(tmp_path: Path) -> None:
    """The example brief built by the CLI under SOURCE_DATE_EPOCH matches the golden file.
    After an intended change of output: REPORTGEN_REGEN_GOLDEN=1 pytest -k pinned."""
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", "build", str(EXAMPLE), "--out", str(tmp_path), "-q"],
        env={**os.environ, "SOURCE_DATE_EPOCH": GOLDEN_EPOCH},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    folder = tmp_path / EXAMPLE.name
    found = _fingerprint(
        (folder / f"{EXAMPLE.name}.html").read_bytes(),
        (folder / f"{EXAMPLE.name}.pdf").read_bytes(),
    )
    if os.environ.get("REPORTGEN_REGEN_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")
    assert found == json.loads(GOLDEN.read_text(encoding="utf-8"))
