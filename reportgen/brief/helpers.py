"""The helper syntax of brief Markdown, read one way: Jinja's syntax tree.

Helpers (`{{ metric("id") }}`, `cite`, `table`, `chart`) are Jinja calls. A
brief may use nothing else: the text is parsed, and any other Jinja construct
is an error with the Markdown file and line, so spec text can never run code.
Validation (which ids are called), the figure checks (what is prose), the
Markdown renderer and the email summary all take helpers from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from reportgen.brief.spec import MarkdownDoc, Place
from reportgen.errors import HelperSyntaxError

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
            place = _line(doc, node.lineno)
            raise HelperSyntaxError(
                place.path, place.line, 'only {{ helper("id") }} calls are allowed'
            )
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append(Prose(child.data, _line(doc, child.lineno).line or 1))
            else:
                parts.append(_helper_call(child, doc))
    return parts


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
        raise HelperSyntaxError(
            place.path, place.line, 'expected a helper call such as metric("id")'
        )
    if node.node.name not in HELPERS:
        why = f"unknown helper '{node.node.name}' (known: {', '.join(HELPERS)})"
        raise HelperSyntaxError(place.path, place.line, why)
    return HelperCall(node.node.name, node.args[0].value, place)


def _line(doc: MarkdownDoc, lineno: int | None) -> Place:
    start = doc.place.line or 1
    return Place(doc.place.path, start + (lineno or 1) - 1)
