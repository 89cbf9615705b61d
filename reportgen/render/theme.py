"""A firm's look: the [theme] of reportgen.toml turned into values a template can use safely.

The built HTML must stay self-contained, so the logo becomes a data: URI. The
colour and fonts end up inside a <style> element, where HTML escaping does not
apply, so only values that passed strict patterns (a hex colour, plain font
names) are ever written there, and the CSS is built here, not in a template.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from markupsafe import Markup

from reportgen.config import DATE_FORMAT, Config, ConfigError, ThemeConfig
from reportgen.errors import Problem
from reportgen.render.charts import ACCENT, ACCENT_SOFT
from reportgen.render.figure import recolour

LOGO_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
LOGO_MAX_BYTES = 1_000_000
FALLBACK_FONTS = (
    '"Noto Sans", "DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP", '
    '"PingFang SC", "Hiragino Sans", "Microsoft YaHei", "Yu Gothic", sans-serif'
)
ISO_DATE = re.compile(r"\b\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b")


@dataclass(frozen=True)
class Theme:
    """Render-ready theme values, the look only; the defaults are reportgen's own look."""

    firm: str = ""
    logo_uri: str = ""
    css: Markup = field(default_factory=Markup)  # built by theme_css from validated values only
    disclaimer: str = ""
    accent: str = ""  # a checked hex colour, for charts (the CSS has it already)
    fonts: tuple[str, ...] = ()  # the theme's font families, first choice first
    date_format: str = DATE_FORMAT  # checked strftime directives (config.py)

    def date(self, value: date) -> str:
        """Every date of the brief in the one style of the theme ("21 November 2026")."""
        return value.strftime(self.date_format)

    def dates_in(self, text: str) -> str:
        """ISO dates inside generated text (data notes) in the theme's style too."""
        return ISO_DATE.sub(lambda m: self._restyled(m.group(0)), text)

    def _restyled(self, iso: str) -> str:
        try:
            return self.date(date.fromisoformat(iso))
        except ValueError:  # 2026-02-30 looks like a date but is none: leave it as written
            return iso

    def recolour(self, svg: Markup) -> Markup:
        """A chart in the firm's accent: matplotlib writes the house accent as plain hex
        (a checked hex colour for another keeps the chart's markup safe)."""
        if not self.accent:
            return svg
        colours = {ACCENT: self.accent, ACCENT_SOFT: _tint(self.accent, 0.18)}
        return Markup(recolour(svg, colours))


def load_theme(config: Config) -> Theme:
    """The theme of a loaded configuration; ConfigError when the logo is unusable."""
    t = config.theme
    logo = _logo_uri(config, t.logo) if t.logo else ""
    return Theme(t.firm, logo, theme_css(t), t.disclaimer, t.accent, tuple(t.fonts), t.date_format)


def theme_css(theme: ThemeConfig) -> Markup:
    """CSS custom properties and the font stack; empty when the theme sets neither."""
    rules = []
    if theme.accent:
        soft = _tint(theme.accent)
        ink = _ink(theme.accent, soft)
        rules.append(
            f":root {{ --accent: {theme.accent}; --accent-soft: {soft}; --accent-ink: {ink}; }}"
        )
    if theme.fonts:
        stack = ", ".join(f'"{name}"' for name in theme.fonts)
        rules.append(f"body {{ font-family: {stack}, {FALLBACK_FONTS}; }}")
    return Markup("\n".join(rules))  # only values that passed config.py's strict patterns


def _channels(hex_colour: str) -> list[int]:
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return [int(digits[i : i + 2], 16) for i in (0, 2, 4)]


def _hex(channels: list[int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in channels)


def _tint(hex_colour: str, strength: float = 0.12) -> str:
    """The accent mixed into white: the soft background of the verdict and highlights."""
    return _hex([round(255 - (255 - c) * strength) for c in _channels(hex_colour)])


def _luminance(channels: list[int]) -> float:
    """WCAG 2 relative luminance."""
    linear = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((_luminance(_channels(a)), _luminance(_channels(b))), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _ink(hex_colour: str, background: str, ratio: float = 4.6) -> str:
    """The accent darkened just enough to be read as text on its tint (WCAG AA, 4.5:1)."""
    channels = _channels(hex_colour)
    while contrast(_hex(channels), background) < ratio:
        channels = [int(c * 0.95) for c in channels]
    return _hex(channels)


def _logo_uri(config: Config, name: str) -> str:
    """The logo file, inside the project folder, as a data: URI."""
    path, where = (config.base_dir / name).resolve(), config.path or Path("reportgen.toml")

    def fail(message: str) -> ConfigError:
        return ConfigError(str(Problem(where, None, "theme.logo", message)))

    if not path.is_relative_to(config.base_dir.resolve()):
        raise fail(f"'{name}' is outside the project folder {config.base_dir}")
    if not path.is_file():
        raise fail(f"'{name}' does not exist (paths are relative to {config.base_dir})")
    kind = LOGO_TYPES.get(path.suffix.lower())
    if kind is None:
        raise fail(f"'{name}' must be one of {', '.join(LOGO_TYPES)}")
    data = path.read_bytes()
    if len(data) > LOGO_MAX_BYTES:
        limit = f"a logo may be at most {LOGO_MAX_BYTES // 1000} kB"
        raise fail(f"'{name}' is {len(data) // 1000} kB; {limit}")
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
