"""Stage 6c: check the finished PDF before it replaces the previous one.

Read back with PDFium (what Chrome shows PDFs with): every footnote mark `[n]` resolves to
an entry under "Sources" and every listed source is cited; every section title is present;
every table and chart is followed by its "Source:" line with a mark; the page count is
within the limit. `reportgen verify <pdf>` adds the layout checks, from the files beside it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium

from reportgen.errors import Problem
from reportgen.pdf.layout import render_pdf
from reportgen.render.changes import Snapshot, load_snapshot
from reportgen.render.document import PAGE, flat

DEFAULT_MAX_PAGES = 30
MARK = re.compile(r"\[(\d{1,3}(?:,\s?\d{1,3})*)\]")  # "[2]", or marks merged: "[2, 3]"
SOURCE_LINE = "source:"
PER_ROW = "as marked per row"
LISTED = re.compile(r"^\s*\[(\d{1,3})\]", re.MULTILINE)


@dataclass(frozen=True)
class Expected:
    """What the PDF must show: h2 titles, listed sources (number, title), page limit,
    and the tables and charts (kind, title) that must each carry a source line."""

    sections: tuple[str, ...] = ()
    sources: tuple[tuple[int, str], ...] = ()
    max_pages: int = DEFAULT_MAX_PAGES
    figures: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, snapshot: Snapshot) -> Expected:
        sources = tuple((int(n), str(title)) for n, title in snapshot.sources)
        figures = tuple((str(kind), str(title)) for kind, title in snapshot.figures)
        return cls(tuple(snapshot.sections), sources, snapshot.max_pages, figures)


@dataclass(frozen=True)
class ReadBack:
    """What a PDF viewer shows: each page's text, the bookmarks, the document info."""

    pages: list[str]
    outline: list[str]
    metadata: dict[str, str]


# PDFium may not be entered from two threads at once, even for two documents
# (the preview builds in one thread and serves the PDF from another).
_pdfium = threading.Lock()


def read_back(pdf: Path | bytes) -> ReadBack:
    """Read a PDF as a viewer does; raises pdfium.PdfiumError when it is not a readable PDF."""
    with _pdfium:
        document = pdfium.PdfDocument(pdf)
        try:
            pages = [_page_text(document, index) for index in range(len(document))]
            outline = [str(bookmark.get_title()) for bookmark in document.get_toc()]
            metadata = dict(document.get_metadata_dict(skip_empty=True))
        finally:
            document.close()
    return ReadBack(pages, outline, metadata)


def _page_text(document: pdfium.PdfDocument, index: int) -> str:
    """One page's text. PDFium marks a hyphen that ends a line as U+FFFE: it is a hyphen."""
    page = document[index]
    text = page.get_textpage()
    try:
        return str(text.get_text_range()).replace("\ufffe", "-")
    finally:
        text.close()
        page.close()


def verify_pdf(
    pdf: Path | bytes, expected: Expected | None = None, *, where: Path | None = None
) -> list[Problem]:
    """Read a PDF back and check footnotes, sources, section titles and page count."""
    where = where or (pdf if isinstance(pdf, Path) else Path("brief.pdf"))
    expected = expected or Expected()
    try:
        read = read_back(pdf)
    except (pdfium.PdfiumError, OSError, ValueError) as exc:
        return [Problem(where, None, "pdf", f"not a readable PDF: {exc}")]
    pages, outline = read.pages, read.outline
    problems = _footnotes(pages, expected, where)
    problems += _sections(pages, outline, expected, where)
    problems += _attributions(pages, expected, where)
    if len(pages) > expected.max_pages:
        limit = f"the limit of {expected.max_pages} (checks.max_pages)"
        problems.append(Problem(where, None, "pages", f"{len(pages)} pages, more than {limit}"))
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


def _footnotes(pages: list[str], expected: Expected, where: Path) -> list[Problem]:
    """Marks in the text against entries under the last 'Sources' heading."""
    body, listing = _split_sources(pages)
    if listing is None:
        return [Problem(where, None, "sources", "no 'Sources' list found in the PDF")]
    listed = [int(n) for n in LISTED.findall(listing)]
    first_page: dict[int, int] = {}
    for page, text in body:
        for group in MARK.findall(text):
            for n in group.split(","):
                first_page.setdefault(int(n), page)
    said = [
        ("footnotes", f"footnote mark [{n}] on page {page} has no entry in Sources")
        for n, page in first_page.items()
        if n not in listed
    ]
    said += [
        ("sources", f"source [{n}] is listed but never cited in the text")
        for n in listed
        if n not in first_page
    ]
    said += [
        ("sources", f"source [{n}] '{title}' is missing from the Sources list")
        for n, title in expected.sources
        if n not in listed or flat(title) not in flat(listing)
    ]
    return [Problem(where, None, key, message) for key, message in said]


def _split_sources(pages: list[str]) -> tuple[list[tuple[int, str]], str | None]:
    """([(page number, text)] before the Sources heading, the text after it)."""
    for index in range(len(pages) - 1, -1, -1):
        lines = pages[index].splitlines()
        # the heading in any text-transform
        heads = [i for i, line in enumerate(lines) if flat(line) == flat(PAGE.sources.title)]
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
    text = flat(" ".join(pages))
    shown = [flat(t) for t in outline] if outline else [text]
    return [
        Problem(where, None, "sections", f"section '{title}' is missing from the PDF")
        for title in expected.sections
        if not any(flat(title) in t for t in shown)
    ]


def _attributions(pages: list[str], expected: Expected, where: Path) -> list[Problem]:
    """Each table and chart shows, before the next figure's title, "Source:" then a mark,
    or "as marked per row" with marked rows; one attributed showing of a title is enough.
    A figure begins where its title ends a line, as a caption does: a title that is a
    common word ("Revenue") also shows in table headers and prose, mid-line."""
    body, _ = _split_sources(pages)
    text, line_ends = _flat_lines("\n".join(page for _, page in body))
    titles = {flat(title) for _, title in expected.figures}
    starts = sorted(at for t in titles for at in _occurrences(text, t) if at + len(t) in line_ends)
    starts.append(len(text))
    problems = []
    for kind, title in expected.figures:
        wanted = flat(title)
        spans = [  # to where the next figure title begins (the last start is the body's end)
            text[at + len(wanted) : next(s for s in starts if s > at)]
            for at in _occurrences(text, wanted)
        ]
        if not spans:
            message = f"{kind} '{title}' is missing from the PDF"
        elif not any(_attributed(span) for span in spans):
            message = f"{kind} '{title}' has no source line with a footnote mark"
        else:
            continue
        problems.append(Problem(where, None, "attribution", message))
    return problems


def _flat_lines(text: str) -> tuple[str, set[int]]:
    """The text flattened as `flat` does, with where each of its lines ends."""
    flat_lines = [line for line in map(flat, text.splitlines()) if line]
    ends, at = set(), 0
    for line in flat_lines:
        ends.add(at + len(line))
        at += len(line) + 1
    return " ".join(flat_lines), ends


def _occurrences(text: str, title: str) -> list[int]:
    """Every place the (flattened) title shows in the (flattened) text."""
    return [m.start() for m in re.finditer(re.escape(title), text)] if title else []


def _attributed(span: str) -> bool:
    """A "Source:" line with a mark after it, or footed per row with marked rows before it."""
    cut = span.find(SOURCE_LINE)
    if cut < 0:
        return False
    before, after = span[:cut], span[cut + len(SOURCE_LINE) :]
    if after.lstrip().startswith(PER_ROW):
        return MARK.search(before) is not None
    return MARK.search(after) is not None
