"""The house-style figure: a matplotlib figure -> inline SVG, and chart text that fits.

matplotlib writes SVG with text as text (sharper, searchable in the PDF), never read as
mathtext, byte-stable (fixed hash salt, no date), then made markup a page can inline.
It places text where told, overlapping or not, so chart text is measured first to fit:
x labels flat, else on two balanced lines, else thinned (time axis) or slanted; a
legend in as many columns as fit above the plot, never covering a bar or a line.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Mapping
from functools import cache
from itertools import pairwise
from typing import Any, cast

from markupsafe import Markup

# Chart text sizes in the SVG's user units (1 unit = 1 pt at the figure's natural size).
# Why these: the figure is 4.5 in (324 units) wide and style.css shows it at most 32rem
# wide, on a screen and in print. At 390 px (a 350 px column) 8.5 units are 9.2 CSS px;
# at 1280 px 9 units are 0.89x the body text; in the PDF (9.6 pt root) 8.1-8.5 pt.
FIGURE_WIDTH = 4.5  # inches
FONT = 9.0
VALUE_FONT = 8.5

GAP = 0.6  # space kept between neighbouring labels, in ems
LEGEND = {"handlelength": 1.2, "handletextpad": 0.5, "columnspacing": 1.4}
ABOVE = {"loc": "lower left", "bbox_to_anchor": (0, 1.02), "borderaxespad": 0, "fontsize": FONT}
LINE = 1.2  # a line of label text, in ems
PLOT_SHARE = 0.86  # the plot's share of the figure's width, before layout measures it

INK = "#1d2733"
GRID = "#e3e8ee"

STYLE: dict[str, Any] = {
    "font.family": ["Inter", "DejaVu Sans", "Noto Sans CJK SC"],
    "font.size": FONT,
    "text.parse_math": False,
    "text.color": INK,
    "axes.edgecolor": "#c5ced8",
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.frameon": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "reportgen",
}


def draw_svg(
    height: float, title: str, prefix: str, paint: Callable[[Any], None], grid: bool = True
) -> Markup:
    """A house-style figure, drawn and laid out by `paint(ax)`, as inline SVG: one SVG reads
    at 390 px, at 1280 px and on A4 (see FONT). `grid`: the house grid lines."""
    # Lazy: matplotlib is the heaviest import, paid only when a chart is drawn (not on a
    # cache hit). A bare Figure, not pyplot: no global figure registry to leak into, and
    # pyplot's import (a third of a cold build's chart time) is never paid.
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(cast(Any, {**STYLE, "axes.grid": grid})):
        fig = Figure(figsize=(FIGURE_WIDTH, height))
        paint(fig.subplots())
        # tight_layout leaves a placeholder layout engine behind, and savefig then draws
        # the whole figure twice (once to measure): none left, one draw, the same SVG.
        fig.set_layout_engine(None)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return inline_svg(buffer.getvalue(), title, prefix)


def inline_svg(svg: str, title: str, prefix: str) -> Markup:
    """Strip the XML prologue, metadata and fixed size so the SVG scales to its container, and turn
    style="fill: …" into presentation attributes, which HTML CSS engines do not re-parse."""
    start = svg.index("<svg")
    # matplotlib's RDF metadata (creator, date) is not SVG an HTML page may hold (vnu)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg[start:], flags=re.S)
    svg = re.sub(r' style="([^"]*)"', _style_to_attributes, svg)
    svg = re.sub(r'\b(id="|url\(#|href="#)', lambda m: m.group(1) + prefix, svg)  # unique per page
    svg = re.sub(r'^<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", svg, count=1)
    labelled = Markup('<svg role="img" aria-label="{}"').format(title)
    return Markup(svg.replace("<svg", labelled, 1))  # matplotlib's own markup, from escaped data


def _style_to_attributes(match: re.Match[str]) -> str:
    pairs = [d.split(":", 1) for d in match.group(1).split(";") if ":" in d]
    return "".join(f' {name.strip()}="{value.strip()}"' for name, value in pairs)


def recolour(svg: str, colours: Mapping[str, str]) -> str:
    """Each house colour (plain hex, as matplotlib writes it) replaced by its substitute, in order."""
    for old, new in colours.items():
        svg = svg.replace(old, new)
    return svg


def text_width(text: str, size: float = FONT) -> float:
    """The width of (possibly multi-line) text in points, in the current rc font: measured
    with the fonts matplotlib draws with (at 72 dpi, a pixel is a point)."""
    from matplotlib.font_manager import FontProperties  # lazy: only a chart measures text

    prop = FontProperties(size=size)
    return max(
        _measurer().get_text_width_height_descent(line, prop, ismath=False)[0]
        for line in text.split("\n")
    )


@cache
def _measurer() -> Any:
    from matplotlib.textpath import TextToPath  # lazy: see text_width

    return TextToPath()


def two_lines(text: str) -> str:
    """The text broken at the space that makes its longer line shortest (one word stays one line)."""
    words = text.split()
    if len(words) < 2:
        return text
    splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    first, second = min(splits, key=lambda s: max(text_width(s[0]), text_width(s[1])))
    return f"{first}\n{second}"


def axes_width(ax: Any) -> float:
    """The plot area's width in points, as laid out so far."""
    return float(ax.get_position().width * ax.figure.get_figwidth() * 72)


def fit_x_labels(ax: Any, names: list[str], time_axis: bool) -> None:
    """Set x labels flat, on two lines, thinned (time axis) or slanted, and leave the figure
    laid out for them. Each try is laid out (the plot's width depends on its labels); labels
    that take more than one flat line make the figure taller (the plot keeps its height)."""
    positions = list(ax.get_xticks())
    wrapped = [two_lines(n) for n in names]
    for labels in (names, wrapped):
        ax.set_xticks(positions, labels)
        layout(ax.figure)
        if _side_by_side(labels, axes_width(ax) / max(len(names), 1)):
            if any("\n" in label for label in labels):
                _grow(ax.figure, LINE * FONT)
            return  # laid out as it stands: one tight layout fewer (a third of a chart)
    if time_axis:
        slot = axes_width(ax) / max(len(names), 1)
        step = math.ceil((max(map(text_width, wrapped)) + GAP * FONT) / slot)
        ax.set_xticks(positions, [w if i % step == 0 else "" for i, w in enumerate(wrapped)])
        _grow(ax.figure, LINE * FONT)
        return
    ax.set_xticks(positions, names)
    from matplotlib.artist import setp

    setp(ax.get_xticklabels(), rotation=45, horizontalalignment="right", rotation_mode="anchor")
    _grow(ax.figure, max(map(text_width, names)) * math.sin(math.pi / 4))


def layout(fig: Any) -> None:
    """matplotlib's tight layout with the house padding."""
    fig.tight_layout(pad=0.4)


def _grow(fig: Any, points: float) -> None:
    """The figure `points` taller, for labels beyond one flat line, and laid out again."""
    fig.set_figheight(fig.get_figheight() + points / 72)
    layout(fig)


def _side_by_side(names: list[str], slot: float) -> bool:
    """True when no two neighbouring labels, centred on ticks `slot` apart, touch."""
    widths = [text_width(n) for n in names]
    return all((a + b) / 2 + GAP * FONT <= slot for a, b in pairwise(widths))


def value_texts(
    labelled: list[list[str]], plain: list[list[str]], room: float
) -> tuple[list[list[str]], int]:
    """Value labels over bars `room` points wide: with their unit when they fit, else the
    bare number (the axis carries the unit), else the bare number turned upright."""
    for texts in (labelled, plain):
        if max((text_width(t, VALUE_FONT) for row in texts for t in row), default=0) <= room:
            return texts, 0
    return plain, 90


def plot_width(ax: Any) -> float:
    """The plot's width in points, estimated before layout."""
    return float(ax.figure.get_figwidth() * 72 * PLOT_SHARE)


def fit_y_labels(ax: Any, names: list[str]) -> None:
    """Category names on a horizontal bar chart: two lines when one would take over a third
    of the figure's width from the bars."""
    limit = ax.figure.get_figwidth() * 72 / 3
    ax.set_yticks(
        list(ax.get_yticks()), [two_lines(n) if text_width(n) > limit else n for n in names]
    )


def legend_above(ax: Any) -> None:
    """The legend above the plot, left-aligned, in as many columns as fit its width."""
    handles, labels = ax.get_legend_handles_labels()
    room = plot_width(ax)
    columns = next((n for n in range(len(labels), 1, -1) if _legend_width(labels, n) <= room), 1)
    ax.legend(handles, labels, ncol=columns, **ABOVE, **LEGEND)


def _legend_width(labels: list[str], columns: int) -> float:
    """A legend's width in points: matplotlib fills it column by column."""
    rows = math.ceil(len(labels) / columns)
    handle = (LEGEND["handlelength"] + LEGEND["handletextpad"]) * FONT
    widths = [
        max(text_width(t) for t in labels[c * rows : (c + 1) * rows]) + handle
        for c in range(columns)
        if labels[c * rows : (c + 1) * rows]
    ]
    return sum(widths) + LEGEND["columnspacing"] * FONT * (len(widths) - 1)
