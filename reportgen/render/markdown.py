"""Stage 4a: Markdown with helpers -> safe HTML fragments.

Helpers (`{{ metric("id") }}`, `cite`, `table`, `chart`) are Jinja calls. A
brief may use nothing else: the text is parsed, and any other Jinja construct
is an error with the Markdown file and line, so spec text can never run code.
Markdown is rendered by markdown-it with raw HTML escaped; helper output is
swapped in afterwards as trusted HTML.
"""

from __future__ import annotations

import base64
import mimetypes
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt

from reportgen.brief.bounds import raise_hint, size_problem
from reportgen.brief.spec import MarkdownDoc, Place, is_inside
from reportgen.config import DEFAULT_LIMITS, Limits

HELPERS = ("metric", "cite", "table", "chart")
BLOCK_HELPERS = ("table", "chart")
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/svg+xml", "image/webp"}


@dataclass(frozen=True)
class HelperCall:
    name: str
    arg: str
    place: Place


class HelperSyntaxError(Exception):
    def __init__(self, place: Place, message: str):
        self.place = place
        self.message = message
        super().__init__(message)


_env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)


def scan_helpers(doc: MarkdownDoc) -> list[HelperCall]:
    """Every helper call in a Markdown text, in order; HelperSyntaxError for anything else."""
    try:
        tree = _env.parse(doc.text)
    except TemplateSyntaxError as exc:
        raise HelperSyntaxError(_line(doc, exc.lineno), exc.message or "template syntax") from exc
    calls = []
    for node in tree.body:
        calls += _calls_in(node, doc)
    return calls


def _calls_in(node: nodes.Node, doc: MarkdownDoc) -> list[HelperCall]:
    if isinstance(node, nodes.TemplateData):
        return []
    if not isinstance(node, nodes.Output):
        raise HelperSyntaxError(
            _line(doc, node.lineno), 'only {{ helper("id") }} calls are allowed'
        )
    calls = []
    for child in node.nodes:
        if isinstance(child, nodes.TemplateData):
            continue
        calls.append(_helper_call(child, doc))
    return calls


def _helper_call(node: nodes.Node, doc: MarkdownDoc) -> HelperCall:
    place = _line(doc, node.lineno)
    ok = (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and len(node.args) == 1
        and not node.kwargs
        and isinstance(node.args[0], nodes.Const)
        and isinstance(node.args[0].value, str)
    )
    if not ok:
        raise HelperSyntaxError(place, 'expected a helper call such as metric("id")')
    name = node.node.name  # type: ignore[attr-defined]
    if name not in HELPERS:
        raise HelperSyntaxError(place, f"unknown helper '{name}' (known: {', '.join(HELPERS)})")
    return HelperCall(name, node.args[0].value, place)  # type: ignore[attr-defined]


def _line(doc: MarkdownDoc, lineno: int | None) -> Place:
    start = doc.place.line or 1
    return Place(doc.place.path, start + (lineno or 1) - 1)


HelperResolver = Callable[[str, str], str]
"""(helper name, id) -> trusted HTML. Called in text order, so footnotes number in reading order."""


def render_markdown(
    doc: MarkdownDoc, resolve: HelperResolver, root: Path, limits: Limits = DEFAULT_LIMITS
) -> str:
    """Markdown + helpers -> HTML. The doc must have passed scan_helpers."""
    fragments: list[str] = []

    def helper(name: str) -> Callable[[str], str]:
        def call(arg: str) -> str:
            fragments.append(resolve(name, arg))
            return _token(len(fragments) - 1, block=name in BLOCK_HELPERS)

        return call

    authored = _MARKS.sub("", doc.text)  # the loader refuses these; never trust that here
    text = _env.from_string(authored).render({name: helper(name) for name in HELPERS})
    html = _markdown(root, limits).render(text)
    return _swap_tokens(html, fragments)


# Helper output is swapped in after Markdown rendering through placeholders made of
# Unicode noncharacters ("for internal use"): the author's text cannot hold them, as
# the loader refuses them and render_markdown strips them, so no text can forge one.
_BLOCK, _INLINE, _END = "\ufdd0", "\ufdd1", "\ufdd2"
_MARKS = re.compile(f"[{_BLOCK}{_INLINE}{_END}]")


def _token(index: int, block: bool) -> str:
    return f"{_BLOCK if block else _INLINE}{index}{_END}"


def _swap_tokens(html: str, fragments: list[str]) -> str:
    html = re.sub(f"<p>{_BLOCK}(\\d+){_END}</p>", lambda m: fragments[int(m.group(1))], html)
    return re.sub(f"[{_BLOCK}{_INLINE}](\\d+){_END}", lambda m: fragments[int(m.group(1))], html)


def _markdown(root: Path, limits: Limits) -> MarkdownIt:
    """CommonMark + tables, raw HTML off (escaped), images confined to the brief folder."""
    md = markdown_parser()
    renderer: Any = md.renderer
    default_image = renderer.rules["image"]

    def image(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        src = str(token.attrGet("src") or "")
        if image_problem(root, src, limits) is not None:  # validation warned about it
            alt = renderer.renderInlineAsText(token.children or [], options, env)
            return f'<span class="dropped-image">[image not shown: {_escape(alt)}]</span>'
        token.attrSet("src", _data_uri(root / src))
        return str(default_image(tokens, idx, options, env))

    md.add_render_rule("image", image)
    md.core.ruler.push("shift_headings", _shift_headings)
    return md


def markdown_parser() -> MarkdownIt:
    """The Markdown dialect of a brief, for rendering and for finding its images."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.enable("strikethrough")
    return md


def _shift_headings(state: Any) -> None:
    """Markdown headings sit under a section's <h2>: '#' becomes <h3>, never above."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"


def images_in(doc: MarkdownDoc) -> list[tuple[str, int]]:
    """(src, line) of every image a Markdown text shows, helpers left as written."""
    found = []
    for block in markdown_parser().parse(doc.text):
        line = (doc.place.line or 1) + (block.map[0] if block.map else 0)
        for token in block.children or []:
            if token.type == "image":
                found.append((str(token.attrGet("src") or ""), line))
    return found


def image_problem(root: Path, src: str, limits: Limits) -> str | None:
    """Why an image cannot be embedded, or None: a local file of a known type, inside the
    brief (no link out of it), within [limits].image_bytes and image_pixels."""
    if not src or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) or src.startswith(("/", "\\")):
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


def _data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0]
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
