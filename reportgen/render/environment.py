"""Stage 5: a Document -> one self-contained HTML page (styles and charts inline).

Templates are found on an ordered search path: a project's own folders first, then the
built-in theme (autoescape, StrictUndefined): `reportgen/templates/` in an installed wheel
(`force-include` in pyproject.toml), else `templates/` beside a source checkout's
pyproject.toml; anything else is a broken installation. An override that drops a heading
of the page contract (document.py) is an error naming its block; any other template
mistake, an error naming the template file and line.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import groupby
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)
from markupsafe import Markup

from reportgen.config import Config, ConfigError
from reportgen.errors import BriefError, Problem, TemplatesNotFound
from reportgen.render.backmatter import BackMatter
from reportgen.render.document import PAGE, Document, Part, missing_headings
from reportgen.render.fonts import embedded_fonts_css
from reportgen.render.markdown import merge_marks, typeset
from reportgen.render.theme import Theme

PAGE_TEMPLATE = "brief.html.j2"
PROJECT_TEMPLATES = "templates"
PACKAGE_DIR = Path(__file__).resolve().parent.parent
INSTALLED_TEMPLATES = PACKAGE_DIR / "templates"
CHECKOUT = PACKAGE_DIR.parent
CHECKOUT_TEMPLATES = CHECKOUT / "templates"


def builtin_templates() -> Path:
    """The theme shipped with reportgen, by the rule in the module docstring."""
    if (INSTALLED_TEMPLATES / PAGE_TEMPLATE).is_file():
        return INSTALLED_TEMPLATES
    if (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT_TEMPLATES / PAGE_TEMPLATE).is_file():
        return CHECKOUT_TEMPLATES
    raise TemplatesNotFound(
        f"reportgen's built-in templates ({PAGE_TEMPLATE}) not found; searched "
        f"{INSTALLED_TEMPLATES} (installed package) and {CHECKOUT_TEMPLATES} "
        "(source checkout): reinstall reportgen"
    )


def template_dirs(config: Config, override: Path | None = None) -> tuple[Path, ...]:
    """Where a project's own templates are: --templates DIR, else [theme] templates,
    else a templates/ folder beside reportgen.toml when there is one (not the built-in
    theme itself, as in a reportgen checkout)."""
    if override is not None:
        if not override.is_dir():
            raise ConfigError(f"{override}: templates folder not found")
        return (override,)
    if config.theme.templates:
        folder = config.base_dir / config.theme.templates
        if not folder.is_dir():
            where = config.path or Path("reportgen.toml")
            raise ConfigError(
                str(Problem(where, None, "theme.templates", f"folder '{folder}' not found"))
            )
        return (folder,)
    folder = config.base_dir / PROJECT_TEMPLATES
    if folder.is_dir() and folder.resolve() != builtin_templates().resolve():
        return (folder,)
    return ()


class Renderer:
    """A Jinja environment over the template search path; one per process is enough."""

    def __init__(
        self,
        template_dirs: Sequence[Path] = (),
        theme: Theme | None = None,
        back_matter: BackMatter | None = None,
    ):
        self.theme = theme = theme or Theme()
        builtin = builtin_templates()
        self.search_path = [*template_dirs, builtin]
        prefixed = PrefixLoader({"builtin": FileSystemLoader(str(builtin))}, delimiter="!")
        loader = ChoiceLoader([FileSystemLoader([str(p) for p in self.search_path]), prefixed])
        self.env = Environment(
            loader=loader,
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        filters = {"accent": theme.recolour, "date": theme.date, "dates_in": theme.dates_in}
        self.env.filters.update(filters, typeset=typeset)
        self.env.globals["back_matter"] = back_matter  # [compliance], None without one
        self.env.globals["embedded_fonts"] = lambda: embedded_fonts_css(self.theme.fonts)

    def partial(self, name: str, **context: Any) -> Markup:
        """A fragment (table, chart) as HTML for placement in Markdown output: an
        autoescaped template's output is safe by construction."""
        with self._template_errors(name):
            return Markup(self.env.get_template(name).render(**context))

    def page(self, document: Document, **context: Any) -> str:
        """The whole brief as one HTML string; BriefError when the templates break the contract."""
        with self._template_errors(PAGE_TEMPLATE):
            template = self.env.get_template(PAGE_TEMPLATE)
            html = template.render(doc=document, theme=self.theme, page=PAGE, **context)
            html = merge_marks(html)
        if missing := missing_headings(html, document.headings):
            raise BriefError(self._contract_problems(template, missing))
        return html

    def _contract_problems(self, template: Template, missing: list[Part]) -> list[Problem]:
        """One problem per block that lost a heading, at the block in the page template."""
        source = self.env.loader.get_source(self.env, PAGE_TEMPLATE)[0]  # type: ignore[union-attr]
        where, problems = Path(template.filename or PAGE_TEMPLATE), []
        for block, group in groupby(missing, key=lambda h: h.block):
            titles = ", ".join(f"'{h.title}'" for h in group)
            found = re.search(r"\{%-?\s*block\s+" + re.escape(block) + r"\b", source)
            line = source.count("\n", 0, found.start()) + 1 if found else None
            message = (
                f"the page shows no <h2> heading {titles}: PDF verification looks for every "
                f"section title, so block '{block}' of {PAGE_TEMPLATE} must render it "
                "(keep the block, or call {{ super() }} in your override)"
            )
            problems.append(Problem(where, line, "template", message))
        return problems

    @contextmanager
    def _template_errors(self, name: str) -> Iterator[None]:
        """Template mistakes (a project's or ours) as problems naming the file and line."""
        try:
            yield
        except TemplateSyntaxError as exc:
            where = Path(exc.filename or exc.name or name)
            raise BriefError([Problem(where, exc.lineno, "template", exc.message or "")]) from exc
        except TemplateError as exc:  # TemplateNotFound too
            message = str(exc)
            if isinstance(exc, TemplateNotFound):
                searched = ", ".join(str(p) for p in self.search_path)
                message = f"template '{exc.name}' not found (searched {searched})"
            where, line = self._frame(exc, name)
            raise BriefError([Problem(where, line, "template", message)]) from exc

    def _frame(self, exc: BaseException, name: str) -> tuple[Path, int | None]:
        """The template file and line an error came from (Jinja maps its frames to them)."""
        where, line = Path(name), None
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            filename = Path(frame.f_code.co_filename)
            if any(filename.is_relative_to(folder) for folder in self.search_path):
                where, line = filename, lineno
        return where, line
