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
from reportgen.brief.images import image_problem, markdown_parser
from reportgen.brief.spec import MarkdownDoc
from reportgen.config import DEFAULT_LIMITS, Limits

BLOCK_HELPERS = ("table", "chart")

HelperResolver = Callable[[str, str], str]
"""(helper name, id) -> trusted HTML. Called in text order, so footnotes number in reading order."""


def render_markdown(
    doc: MarkdownDoc, resolve: HelperResolver, root: Path, limits: Limits = DEFAULT_LIMITS
) -> str:
    """Markdown + helpers -> HTML. The doc must have passed brief.helpers.scan_helpers."""
    fragments: list[str] = []

    def helper(name: str) -> Callable[[str], str]:
        def call(arg: str) -> str:
            fragments.append(resolve(name, arg))
            return _token(len(fragments) - 1, block=name in BLOCK_HELPERS)

        return call

    authored = _MARKS.sub("", doc.text)  # the loader refuses these; never trust that here
    text = HELPER_ENV.from_string(authored).render({name: helper(name) for name in HELPERS})
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
            return f'<span class="dropped-image">[image not shown: {escape(alt)}]</span>'
        token.attrSet("src", _data_uri(root / src))
        return str(default_image(tokens, idx, options, env))

    md.add_render_rule("image", image)
    md.core.ruler.push("shift_headings", _shift_headings)
    return md


def _shift_headings(state: Any) -> None:
    """Markdown headings sit under a section's <h2>: '#' becomes <h3>, never above."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"


def _data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0]
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
