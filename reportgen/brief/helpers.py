"""What a brief's Markdown holds, read one way: its helper calls and its images.

Helpers (`{{ metric("id") }}`, `cite`, `table`, `chart`) are Jinja calls, read from Jinja's
syntax tree; any other Jinja construct is an error with the Markdown file and line, so spec
text can never run code. Validation, the figure checks (what is prose), the Markdown renderer
and the email summary all take helpers from here. Images are found with the brief's Markdown
dialect and checked before anything embeds them (inside the brief, a known type, [limits]).
"""

from __future__ import annotations

import mimetypes
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt

from reportgen.brief.bounds import raise_hint, size_problem
from reportgen.brief.spec import MarkdownDoc, Place, is_inside
from reportgen.config import Limits
from reportgen.errors import HelperSyntaxError, Problem

HELPERS = ("metric", "cite", "table", "chart")

HELPER_ENV = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
"""The one Jinja environment brief text is parsed and rendered with."""


@dataclass(frozen=True)
class HelperCall:
    name: str
    arg: str
    place: Place


@dataclass(frozen=True)
class Prose:
    """Text between helper calls, as written, and the line its first character is on."""

    text: str
    line: int


def split_helpers(doc: MarkdownDoc) -> list[Prose | HelperCall]:
    """A Markdown text as prose and helper calls, in order; HelperSyntaxError for anything else."""
    try:
        tree = HELPER_ENV.parse(doc.text)
    except TemplateSyntaxError as exc:
        place = _line(doc, exc.lineno)
        raise HelperSyntaxError(place.path, place.line, exc.message or "template syntax") from exc
    parts: list[Prose | HelperCall] = []
    for node in tree.body:  # Jinja wraps text in Output nodes too
        if not isinstance(node, nodes.Output):
            place, why = _line(doc, node.lineno), 'only {{ helper("id") }} calls are allowed'
            raise HelperSyntaxError(place.path, place.line, why)
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append(Prose(child.data, _line(doc, child.lineno).line or 1))
            else:
                parts.append(_helper_call(child, doc))
    return parts


def plain_text(doc: MarkdownDoc, figures: dict[str, str]) -> str:
    """The text for a reader without footnotes (the email): metric() as its figure,
    cite/table/chart dropped with the spaces before them ("word {{ cite("a") }}." -> "word.")."""
    text = ""
    for part in split_helpers(doc):
        if isinstance(part, Prose):
            text += part.text
        elif part.name == "metric":
            text += figures[part.arg]
        else:
            text = text.rstrip(" \t")
    return text


def scan_helpers(doc: MarkdownDoc) -> list[HelperCall]:
    """Every helper call in a Markdown text, in order; HelperSyntaxError for anything else."""
    return [part for part in split_helpers(doc) if isinstance(part, HelperCall)]


def _helper_call(node: nodes.Node, doc: MarkdownDoc) -> HelperCall:
    place = _line(doc, node.lineno)
    if not (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and len(node.args) == 1
        and not node.kwargs
        and isinstance(node.args[0], nodes.Const)
        and isinstance(node.args[0].value, str)
    ):
        why = 'expected a helper call such as metric("id")'
        raise HelperSyntaxError(place.path, place.line, why)
    if node.node.name not in HELPERS:
        why = f"unknown helper '{node.node.name}' (known: {', '.join(HELPERS)})"
        raise HelperSyntaxError(place.path, place.line, why)
    return HelperCall(node.node.name, node.args[0].value, place)


def _line(doc: MarkdownDoc, lineno: int | None) -> Place:
    start = doc.place.line or 1
    return Place(doc.place.path, start + (lineno or 1) - 1)


IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/svg+xml", "image/webp"}
SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")  # an address, not a file


def markdown_parser() -> MarkdownIt:
    """The Markdown dialect of a brief, for rendering and for finding its images."""
    options = {"html": False, "linkify": False, "typographer": False}
    return MarkdownIt("commonmark", options).enable(["table", "strikethrough"])


def images_in(doc: MarkdownDoc) -> list[tuple[str, int]]:
    """(src, line) of every image a Markdown text shows, helpers left as written."""
    found = []
    for block in markdown_parser().parse(doc.text):
        line = (doc.place.line or 1) + (block.map[0] if block.map else 0)
        found += [
            (str(t.attrGet("src") or ""), line) for t in block.children or [] if t.type == "image"
        ]
    return found


def image_problem(root: Path, src: str, limits: Limits) -> str | None:
    """Why an image cannot be embedded, or None: a local file of a known type, inside the
    brief (no link out of it), within [limits].image_bytes and image_pixels."""
    if not src or SCHEME.match(src) or src.startswith(("/", "\\")):
        return "only image files inside the brief folder are shown, never fetched from elsewhere"
    path = root / src
    if mimetypes.guess_type(path.name)[0] not in IMAGE_TYPES:
        return "not an image type reportgen embeds (png, jpeg, gif, svg, webp)"
    if not is_inside(root, path):
        return "is outside the brief folder (a link leaving it is not followed)"
    if not path.is_file():
        return "no such image file in the brief folder"
    return size_problem(path, limits.image_bytes, "image_bytes") or _content_problem(path, limits)


def _content_problem(path: Path, limits: Limits) -> str | None:
    """A decompression bomb (a small file of huge pixel size) or a file no decoder reads."""
    if path.suffix.lower() == ".svg":
        head = path.read_bytes()
        return "an SVG with entity declarations is not embedded" if b"<!ENTITY" in head else None
    from PIL import Image  # lazy: Pillow is only needed by briefs that embed images

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                size = f"{width:,} x {height:,} pixels"
    except Image.DecompressionBombError as exc:  # far past Pillow's own ceiling: its count
        found = re.search(r"\((\d+) pixels\)", str(exc))
        width, height = (int(found.group(1)) if found else limits.image_pixels + 1), 1
        size = f"{width:,} pixels"
    except (OSError, ValueError, SyntaxError):
        return "not a readable image file"
    if width * height > limits.image_pixels:
        return f"{size}, more than {limits.image_pixels:,} ({raise_hint('image_pixels')})"
    return None


def image_problems(doc: MarkdownDoc, root: Path, limits: Limits, name: str) -> list[Problem]:
    """An image of `doc` (its file or key: `name`) the page will not show: a warning at its
    line, never a silent gap."""
    problems = []
    for src, line in images_in(doc):
        if refused := image_problem(root, src, limits):
            message = f"image {_image_name(src)} not shown: {refused}"
            finding = f"image:{name}:{_image_key(src)}"
            problems += [
                Problem(doc.place.path, line, doc.key, message, "warning", finding, (refused,))
            ]
    return problems


def _image_key(src: str) -> str:
    """An image in its finding's key: a local file by its name, an address by its scheme."""
    scheme = SCHEME.match(src)
    return scheme.group(1).lower() if scheme else src[:80]


def _image_name(src: str) -> str:
    """A local image by its name; an address only by its scheme: warnings reach the
    appendix, where a tracking URL or a data: dump has no place."""
    if scheme := SCHEME.match(src):
        return f"at a '{scheme.group(1)}:' address"
    return repr(src if len(src) <= 80 else src[:77] + "...")
