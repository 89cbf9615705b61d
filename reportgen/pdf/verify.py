"""Stage 6b: check the PDF before it replaces the previous one.

Two kinds of checks, so that a brief never ships with a broken page:

- While laying out and writing (needs the HTML): WeasyPrint's log is captured;
  a missing glyph or a font problem is an error naming the text. No table or
  chart may overflow the page's text block (read from WeasyPrint's layout
  boxes, `HTML.render()`).
- On the finished bytes, read back with pypdf: every footnote mark `[n]`
  resolves to an entry under "Sources" and every listed source is cited;
  every section title is present; the page count is within the limit.

`reportgen verify build/<id>/<id>.pdf` runs the same checks on a built brief,
taking the expected titles and sources from the snapshot.json beside it and
the layout checks from the .html beside it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from reportgen.errors import Problem, one_line
from reportgen.render.changes import Snapshot, load_snapshot
from reportgen.render.contract import PAGE
from reportgen.render.contract import flat as _flat

log = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 30
PX_TO_MM = 25.4 / 96
SLACK_PX = 0.5  # rounding in layout; anything wider is a real overflow
MARK = re.compile(r"\[(\d{1,3})\]")
LISTED = re.compile(r"^\s*\[(\d{1,3})\]", re.MULTILINE)


@dataclass(frozen=True)
class Expected:
    """What the PDF must show: h2 titles, listed sources (number, title), page limit."""

    sections: tuple[str, ...] = ()
    sources: tuple[tuple[int, str], ...] = ()
    max_pages: int = DEFAULT_MAX_PAGES

    @classmethod
    def of(cls, snapshot: Snapshot) -> Expected:
        sources = tuple((int(n), str(title)) for n, title in snapshot.sources)
        return cls(tuple(snapshot.sections), sources, snapshot.max_pages)


@dataclass(frozen=True)
class Rendered:
    """The PDF bytes and what laying them out revealed."""

    pdf: bytes
    problems: list[Problem]


def render_pdf(html: str, root: Path, where: Path) -> Rendered:
    """Lay out once, check the boxes, write the PDF: WeasyPrint's warnings become problems."""
    from reportgen.pdf.layout import layout

    with _weasyprint_log() as records:
        document = layout(html, root)
        pdf: bytes = document.write_pdf()
    problems = overflow(document, where) + _log_problems(records, document, where)
    return Rendered(pdf, problems)


def verify_pdf(
    pdf: Path | bytes, expected: Expected | None = None, *, where: Path | None = None
) -> list[Problem]:
    """Read a PDF back and check footnotes, sources, section titles and page count."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    where = where or (pdf if isinstance(pdf, Path) else Path("brief.pdf"))
    expected = expected or Expected()
    try:
        reader = PdfReader(pdf if isinstance(pdf, Path) else BytesIO(pdf))
        pages = [page.extract_text() or "" for page in reader.pages]
        outline = _outline_titles(reader.outline)
    except (PdfReadError, OSError, ValueError) as exc:
        return [Problem(where, None, "pdf", f"not a readable PDF: {exc}")]
    problems = _footnotes(pages, expected, where)
    problems += _sections(pages, outline, expected, where)
    if len(pages) > expected.max_pages:
        problems.append(
            Problem(
                where,
                None,
                "pages",
                f"{len(pages)} pages, more than the limit of {expected.max_pages} (checks.max_pages)",
            )
        )
    return problems


def verify_built(pdf_path: Path) -> list[Problem]:
    """Every check on a built brief: expectations from snapshot.json, layout from the .html."""
    if not pdf_path.is_file():
        return [Problem(pdf_path, None, "pdf", "no such file")]
    snapshot = load_snapshot(pdf_path.parent)
    expected = Expected.of(snapshot) if snapshot and snapshot.brief == pdf_path.stem else None
    problems = []
    html = pdf_path.with_suffix(".html")
    if html.is_file():
        problems += render_pdf(html.read_text(encoding="utf-8"), pdf_path.parent, pdf_path).problems
    return problems + verify_pdf(pdf_path, expected, where=pdf_path)


# ---------------------------------------------------------------- read back


def _footnotes(pages: list[str], expected: Expected, where: Path) -> list[Problem]:
    """Marks in the text against entries under the last 'Sources' heading."""
    body, listing = _split_sources(pages)
    if listing is None:
        return [Problem(where, None, "sources", "no 'Sources' list found in the PDF")]
    listed = [int(n) for n in LISTED.findall(listing)]
    first_page: dict[int, int] = {}
    for page, text in body:
        for n in MARK.findall(text):
            first_page.setdefault(int(n), page)
    problems = [
        Problem(
            where, None, "footnotes", f"footnote mark [{n}] on page {page} has no entry in Sources"
        )
        for n, page in first_page.items()
        if n not in listed
    ]
    problems += [
        Problem(where, None, "sources", f"source [{n}] is listed but never cited in the text")
        for n in listed
        if n not in first_page
    ]
    flat = _flat(listing)
    problems += [
        Problem(where, None, "sources", f"source [{n}] '{title}' is missing from the Sources list")
        for n, title in expected.sources
        if n not in listed or _flat(title) not in flat
    ]
    return problems


def _split_sources(pages: list[str]) -> tuple[list[tuple[int, str]], str | None]:
    """([(page number, text)] before the Sources heading, the text after it)."""
    for index in range(len(pages) - 1, -1, -1):
        lines = pages[index].splitlines()
        heads = [
            i for i, line in enumerate(lines) if _flat(line) == _flat(PAGE.sources.title)
        ]  # any text-transform
        if heads:
            cut = heads[-1]
            body = [(i + 1, text) for i, text in enumerate(pages[:index])]
            body.append((index + 1, "\n".join(lines[:cut])))
            return body, "\n".join(lines[cut + 1 :] + pages[index + 1 :])
    return [(i + 1, text) for i, text in enumerate(pages)], None


def _sections(
    pages: list[str], outline: list[str], expected: Expected, where: Path
) -> list[Problem]:
    """Each title in the PDF outline (bookmarks) when it has one, else in the text."""
    text = _flat(" ".join(pages))
    problems = []
    for title in expected.sections:
        wanted = _flat(title)
        found = any(wanted in _flat(t) for t in outline) if outline else wanted in text
        if not found:
            problems.append(
                Problem(where, None, "sections", f"section '{title}' is missing from the PDF")
            )
    return problems


def _outline_titles(outline: Sequence[Any]) -> list[str]:
    titles: list[str] = []
    for item in outline:
        if isinstance(item, list):
            titles += _outline_titles(item)
        else:
            titles.append(str(item.title))
    return titles


# ---------------------------------------------------------------- layout


def overflow(document: Any, where: Path) -> list[Problem]:
    """Tables and charts (replaced boxes: SVG, images) that stick out of the text block."""
    from weasyprint.formatting_structure.boxes import ReplacedBox, TableBox

    problems = []
    for number, page in enumerate(document.pages, start=1):
        box = page._page_box
        left, top = box.content_box_x(), box.content_box_y()
        right, bottom = left + box.width, top + box.height
        for child, name in _boxes(box, None):
            if not isinstance(child, TableBox | ReplacedBox):
                continue
            x, y = child.border_box_x(), child.border_box_y()
            out = max(
                left - x, x + child.border_width() - right, y + child.border_height() - bottom
            )
            if out > SLACK_PX:
                what = name or f"<{getattr(child, 'element_tag', 'element')}>"
                problems.append(
                    Problem(
                        where,
                        None,
                        "layout",
                        f"{what} on page {number} overflows the text block by {out * PX_TO_MM:.1f} mm",
                    )
                )
    return problems


def _boxes(box: Any, name: str | None) -> Iterator[tuple[Any, str | None]]:
    """Every box under `box`, with the table or chart (by element id) it belongs to."""
    for child in getattr(box, "children", ()):
        element = getattr(child, "element", None)
        ident = element.get("id") if element is not None else None
        own = _figure_name(ident) or name
        yield child, own
        yield from _boxes(child, own)


def _figure_name(ident: str | None) -> str | None:
    for prefix in ("table", "chart"):
        if ident and ident.startswith(prefix + "-"):
            return f"{prefix} '{ident[len(prefix) + 1 :]}'"
    return None


# ---------------------------------------------------------------- WeasyPrint's log


class _Collect(logging.Handler):
    """Keeps WeasyPrint's warnings from this thread only (builds may run side by side)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.records.append(record)


@contextmanager
def _weasyprint_log() -> Iterator[list[logging.LogRecord]]:
    logger = logging.getLogger("weasyprint")
    handler = _Collect()
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


def _log_problems(records: list[logging.LogRecord], document: Any, where: Path) -> list[Problem]:
    """A missing glyph names the text it is in; font trouble and dangling links are errors;
    anything else WeasyPrint says is a warning. Repeats are reported once."""
    problems: list[Problem] = []
    for record in records:
        message = record.getMessage()
        if message.startswith("No anchor #source-"):
            problems.append(
                Problem(where, None, "footnotes", f"a footnote link points to no source: {message}")
            )
        elif ".notdef glyph" in message and record.args:
            char = str(record.args[0])  # type: ignore[index]
            text, page = _text_with(document, char)
            on_page = f" on page {page}" if page else ""
            problems.append(
                Problem(
                    where,
                    None,
                    "glyphs",
                    (
                        f'no font has a glyph for {char!r} (U+{ord(char[0]):04X}){on_page}, in "{text}"'
                    ),
                )
            )
        elif record.module == "fonts":  # weasyprint/text/fonts.py, weasyprint/pdf/fonts.py
            problems.append(Problem(where, None, "fonts", f"WeasyPrint: {message}"))
        else:
            problems.append(Problem(where, None, "weasyprint", f"WeasyPrint: {message}", "warning"))
    return list(dict.fromkeys(problems))


def _text_with(document: Any, char: str) -> tuple[str, int | None]:
    """The laid-out text that holds `char` (trimmed around it), and its page."""
    for number, page in enumerate(document.pages, start=1):
        for box, _ in _boxes(page._page_box, None):
            text = getattr(box, "text", None)
            if isinstance(text, str) and char in text:
                at = text.index(char)
                return one_line(text[max(0, at - 30) : at + 30]), number
    return one_line(char), None
