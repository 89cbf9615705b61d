"""Stage 4a: Markdown with helpers -> safe HTML fragments.

Helpers (`{{ metric("id") }}`, `cite`, `table`, `chart`) are Jinja calls,
checked by brief/helpers.py before anything is rendered. Markdown is rendered
by markdown-it with raw HTML escaped; helper output is swapped in afterwards
as trusted HTML.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import escape

from reportgen.brief.helpers import HELPER_ENV, HELPERS
from reportgen.brief.spec import MarkdownDoc, is_inside

BLOCK_HELPERS = ("table", "chart")
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/svg+xml", "image/webp"}

HelperResolver = Callable[[str, str], str]
"""(helper name, id) -> trusted HTML. Called in text order, so footnotes number in reading order."""


def render_markdown(doc: MarkdownDoc, resolve: HelperResolver, root: Path) -> str:
    """Markdown + helpers -> HTML. The doc must have passed brief.helpers.scan_helpers."""
    fragments: list[str] = []

    def helper(name: str) -> Callable[[str], str]:
        def call(arg: str) -> str:
            fragments.append(resolve(name, arg))
            return _token(len(fragments) - 1, block=name in BLOCK_HELPERS)

        return call

    text = HELPER_ENV.from_string(doc.text).render({name: helper(name) for name in HELPERS})
    html = _markdown(root).render(text)
    return _swap_tokens(html, fragments)


def _token(index: int, block: bool) -> str:
    return f"RGBLOCK{index}X" if block else f"RGINLINE{index}X"


def _swap_tokens(html: str, fragments: list[str]) -> str:
    html = re.sub(r"<p>RGBLOCK(\d+)X</p>", lambda m: fragments[int(m.group(1))], html)
    return re.sub(r"RG(?:BLOCK|INLINE)(\d+)X", lambda m: fragments[int(m.group(1))], html)


def _markdown(root: Path) -> MarkdownIt:
    """CommonMark + tables, raw HTML off (escaped), images confined to the brief folder."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.enable("strikethrough")
    renderer: Any = md.renderer
    default_image = renderer.rules["image"]

    def image(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        data_uri = _local_image(root, str(token.attrGet("src") or ""))
        if data_uri is None:
            alt = renderer.renderInlineAsText(token.children or [], options, env)
            return f'<span class="dropped-image">[image not shown: {escape(alt)}]</span>'
        token.attrSet("src", data_uri)
        return str(default_image(tokens, idx, options, env))

    md.add_render_rule("image", image)
    md.core.ruler.push("shift_headings", _shift_headings)
    return md


def _shift_headings(state: Any) -> None:
    """Markdown headings sit under a section's <h2>: '#' becomes <h3>, never above."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"


def _local_image(root: Path, src: str) -> str | None:
    """An image inside the brief folder, as a data: URI; None for anything else."""
    if not src or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) or src.startswith(("/", "\\")):
        return None
    path = root / src
    kind = mimetypes.guess_type(path.name)[0]
    if kind not in IMAGE_TYPES or not is_inside(root, path) or not path.is_file():
        return None
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
