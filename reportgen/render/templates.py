"""Where the built-in templates are: one explicit rule, and an error naming the paths searched.

The repository keeps the theme in its top-level templates/ folder (the
project's required layout). The rule, in order:

1. Installed from a wheel: `reportgen/templates/` inside the package. The wheel
   ships the top-level folder there (`[tool.hatch.build.targets.wheel.force-include]`
   in pyproject.toml), so an installed reportgen never looks outside itself.
2. Running from a source checkout (an editable install): the checkout's
   top-level `templates/`, beside the `pyproject.toml` the package sits under.

Anything else is a broken installation: TemplatesNotFound lists both paths.
A project's own folders come before these (see theme.template_dirs).
"""

from __future__ import annotations

from pathlib import Path

from reportgen.errors import TemplatesNotFound

PAGE_TEMPLATE = "brief.html.j2"
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
