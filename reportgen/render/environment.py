"""Stage 5: a Document -> one self-contained HTML page (styles and charts inline).

Templates are found on an ordered search path (a project's own folders first,
then the built-in theme), always with autoescape and StrictUndefined.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined
from markupsafe import Markup

from reportgen.render.document import Document
from reportgen.render.theme import Theme

PAGE_TEMPLATE = "brief.html.j2"


def builtin_templates() -> Path:
    """The theme shipped with reportgen: inside the package when installed from a wheel,
    the repository's top-level templates/ when running from a checkout."""
    here = Path(__file__).resolve().parent.parent  # the reportgen package folder
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / PAGE_TEMPLATE).is_file():
            return candidate
    raise FileNotFoundError(
        f"reportgen's templates not found (searched {here / 'templates'}, {here.parent / 'templates'})"
    )


class Renderer:
    """A Jinja environment over the template search path; one per process is enough."""

    def __init__(self, template_dirs: Sequence[Path] = (), theme: Theme | None = None):
        self.theme = theme or Theme()
        builtin = builtin_templates()
        self.search_path = [*template_dirs, builtin]
        loader = ChoiceLoader(
            [
                FileSystemLoader([str(p) for p in self.search_path]),
                PrefixLoader({"builtin": FileSystemLoader(str(builtin))}, delimiter="!"),
            ]
        )
        self.env = Environment(
            loader=loader,
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["trusted"] = Markup
        self.env.filters["accent"] = self.theme.recolour

    def partial(self, name: str, **context: Any) -> str:
        """Render a fragment (table, chart) to trusted HTML for placement in Markdown output."""
        return self.env.get_template(name).render(**context)

    def page(self, document: Document, **context: Any) -> str:
        """The whole brief as one HTML string."""
        return self.env.get_template(PAGE_TEMPLATE).render(
            doc=document, theme=self.theme, **context
        )
