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
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

from reportgen.brief.helpers import HELPER_ENV, HELPERS, image_problem, markdown_parser
from reportgen.brief.models import Source
from reportgen.brief.spec import MarkdownDoc
from reportgen.config import DEFAULT_LIMITS, Limits

BLOCK_HELPERS = ("table", "chart")
FOOTNOTE_MARK = '<sup class="fn"><a href="#source-{n}">[{n}]</a></sup>'
"""A footnote mark, as `cite` renders it (here, because this module tidies marks in the text)."""

_MARK_RUN = re.compile("(?:" + re.escape(FOOTNOTE_MARK).replace(r"\{n\}", r"\d+") + "){2,}")
_MARK_NUMBER = re.compile(r'href="#source-(\d+)"')


def merge_marks(html: str) -> str:
    """Marks side by side become one, ascending and without repeats: "[3][2]" -> "[2, 3]",
    each number still a link to its source (the page, once rendered)."""

    def merged(run: re.Match[str]) -> str:
        numbers = sorted({int(n) for n in _MARK_NUMBER.findall(run.group(0))})
        links = ",\u00a0".join(f'<a href="#source-{n}">{n}</a>' for n in numbers)
        return f'<sup class="fn">[{links}]</sup>'

    return _MARK_RUN.sub(merged, html)


_NEGATIVE = re.compile(r"(?<![\w.\u2212-])-(?=\d)")
_RANGE = re.compile(r"(?<![\w.-])(\d+(?:\.\d+)?(?:%|x|bn|m|pp)?)-(?=\d+(?:\.\d+)?(?![\d-]))")


def typeset(text: str) -> str:
    """A hyphen that negates a number becomes the minus sign ("-10%" -> "−10%"), and one
    between two numbers an en dash ("20-30%" -> "20–30%"); ISO dates keep theirs."""
    return _RANGE.sub("\\1\u2013", _NEGATIVE.sub("\u2212", text))


HelperResolver = Callable[[str, str], Markup]
"""(helper name, id) -> HTML. Called in text order, so footnotes number in reading order."""


def render_markdown(
    doc: MarkdownDoc, resolve: HelperResolver, root: Path, limits: Limits = DEFAULT_LIMITS
) -> Markup:
    """Markdown + helpers -> HTML. The doc must have passed brief.helpers.scan_helpers."""
    fragments: list[Markup] = []

    def helper(name: str, arg: str) -> str:
        fragments.append(resolve(name, arg))
        return _token(len(fragments) - 1, block=name in BLOCK_HELPERS)

    authored = _MARKS.sub("", doc.text)  # the loader refuses these; never trust that here
    text = HELPER_ENV.from_string(authored).render({n: partial(helper, n) for n in HELPERS})
    text = _tidy_marks(text, fragments)
    html = _markdown(root, limits).render(text)  # raw HTML off: the author's text is escaped
    return Markup(_swap_tokens(html, fragments))


# Helper output is swapped in after Markdown rendering through placeholders made of
# Unicode noncharacters ("for internal use"): the author's text cannot hold them, as
# the loader refuses them and render_markdown strips them, so no text can forge one.
_BLOCK, _INLINE, _END = "\ufdd0", "\ufdd1", "\ufdd2"
_MARKS = re.compile(f"[{_BLOCK}{_INLINE}{_END}]")


def _token(index: int, block: bool) -> str:
    return f"{_BLOCK if block else _INLINE}{index}{_END}"


def _tidy_marks(text: str, fragments: list[Markup]) -> str:
    """Footnote marks sit tight against their word ("opening [1]" -> "opening[1]", authors
    type a space before `{{ cite }}`), and a mark straight after the same mark goes
    ("12.5%[1][1]": a metric, whose output ends in its source's mark, then a cite of it)."""
    inline = f"{_INLINE}(\\d+){_END}"

    def is_mark(index: int) -> bool:
        return fragments[index].startswith(FOOTNOTE_MARK.partition("{n}")[0])

    def tighten(match: re.Match[str]) -> str:
        return match.group(0).lstrip(" \t\n") if is_mark(int(match.group(1))) else match.group(0)

    def merge(match: re.Match[str]) -> str:
        before, after = fragments[int(match.group(1))], fragments[int(match.group(2))]
        repeated = is_mark(int(match.group(2))) and before.removesuffix("</span>").endswith(after)
        return _token(int(match.group(1)), block=False) if repeated else match.group(0)

    text = re.sub(f"(?:[ \t]+|[ \t]*\n[ \t]*){inline}", tighten, text)
    while (merged := re.sub(f"{inline}{inline}", merge, text)) != text:
        text = merged
    return text


def _swap_tokens(html: str, fragments: list[Markup]) -> str:
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
            return Markup('<span class="dropped-image">[image not shown: {}]</span>').format(alt)
        data = base64.b64encode((root / src).read_bytes()).decode("ascii")
        token.attrSet("src", f"data:{mimetypes.guess_type(src)[0]};base64,{data}")
        return str(default_image(tokens, idx, options, env))

    md.add_render_rule("image", image)
    md.core.ruler.push("shift_headings", _shift_headings)
    md.core.ruler.push("typeset", _typeset_text)
    return md


def _shift_headings(state: Any) -> None:
    """Markdown headings sit under a section's <h2>: '#' becomes <h3>, never above."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"


def _typeset_text(state: Any) -> None:
    """Minus signs and en dashes in the prose (not in code)."""
    for token in state.tokens:
        for child in token.children or []:
            if child.type == "text":
                child.content = typeset(child.content)


class Citations:
    """Numbers sources in the order they are first cited; renders footnote marks."""

    def __init__(self, sources: dict[str, Source]):
        self.sources = sources
        self.order: dict[str, int] = {}  # source id -> its number

    def number(self, source_id: str) -> int:
        return self.order.setdefault(source_id, len(self.order) + 1)

    def mark(self, source_id: str) -> Markup:
        return Markup(FOOTNOTE_MARK).format(n=self.number(source_id))

    def credit(self, source_id: str) -> Markup:
        """A source line's entry: the source's short name (else its title), then its mark."""
        source = self.sources[source_id]
        return Markup("{}{}").format(source.short or source.title, self.mark(source_id))

    def marks(self, source_ids: Sequence[str]) -> Markup:
        """Each source's footnote mark, once."""
        return Markup().join(self.mark(s) for s in dict.fromkeys(source_ids))

    def credits(self, source_ids: Sequence[str]) -> Markup:
        """A source line: each source's name and mark, once, "; "-separated."""
        return Markup("; ").join(self.credit(s) for s in dict.fromkeys(source_ids))

    def listed(self) -> list[tuple[int, str, Source]]:
        return [(n, sid, self.sources[sid]) for sid, n in self.order.items()]
