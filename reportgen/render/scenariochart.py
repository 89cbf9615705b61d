"""Stage 4e: the risk-reward chart of a brief with scenarios (brief-format v1.2).

One axis of value per share: the bear-to-bull range as a band, each case a dot
labelled with its value and its upside or downside, the price now and the
target as vertical lines, the probability-weighted value as a diamond. A reader
sees at a glance how far the price can fall and how far it can rise.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, cast

from markupsafe import Markup

from reportgen.brief.data import format_number
from reportgen.brief.valuation import format_premium
from reportgen.render import chartfit
from reportgen.render.charts import ACCENT, ACCENT_SOFT, BASE, INK, MUTED, REDRAW, STYLE, ChartStore
from reportgen.render.svg import inline_svg


@dataclass(frozen=True)
class Levels:
    """What the chart draws, in market.currency per share."""

    price: float
    target: float | None
    bear: float
    base: float
    bull: float
    weighted: float
    currency: str


def draw_risk_reward(levels: Levels, title: str, store: ChartStore = REDRAW) -> Markup:
    """The chart as inline SVG (cached like every chart: the key is everything drawn)."""
    return store.svg((repr(levels), title), lambda: _draw(levels, title))


def _draw(levels: Levels, title: str) -> Markup:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(cast(Any, {**STYLE, "axes.grid": False})):
        fig = Figure(figsize=(chartfit.FIGURE_WIDTH, 2.0))
        ax = fig.subplots()
        ax.plot([levels.bear, levels.bull], [0, 0], color=ACCENT_SOFT, linewidth=10, zorder=1)
        _cases(ax, levels)
        _lines(ax, levels)
        ax.plot([levels.weighted], [0], marker="D", markersize=6, color=INK, zorder=4)
        away = "right" if (levels.target or 0) >= levels.weighted else "left"  # off the target
        weighted = f"Weighted {format_number(levels.weighted, 2)}"
        _label(ax, weighted, levels.weighted, 0.0, away, 9)
        _frame(ax, levels)
        fig.tight_layout(pad=0.4)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return inline_svg(buffer.getvalue(), title, "chart-risk-reward-")


def _cases(ax: Any, levels: Levels) -> None:
    """Bear, base and bull: a dot on the axis, its name and value below, its upside under that."""
    for name, value in (("Bear", levels.bear), ("Base", levels.base), ("Bull", levels.bull)):
        ax.plot([value], [0], marker="o", markersize=7, color=BASE, zorder=3)
        upside = format_premium(value / levels.price - 1)
        ax.annotate(
            f"{name} {format_number(value)}\n{upside}",
            (value, 0),
            textcoords="offset points",
            xytext=(0, -11),
            ha="center",
            va="top",
            fontsize=chartfit.VALUE_FONT,
            color=INK,
        )


def _lines(ax: Any, levels: Levels) -> None:
    """The price now (solid) and the target (dashed) above the axis, labelled at their tops,
    the lower of the two to the left so the labels never meet."""
    marks = [("Price now", levels.price, "-", MUTED)]
    if levels.target is not None:
        marks.append(("Target", levels.target, "--", ACCENT))
    lowest = min(value for _, value, _, _ in marks)
    for name, value, style, colour in marks:
        ax.vlines(value, -0.25, 1.0, colors=colour, linestyles=style, linewidth=1.4, zorder=2)
        side = "right" if value == lowest and len(marks) > 1 else "left"
        _label(ax, f"{name} {format_number(value, 2)}", value, 1.0, side, 0)


def _label(ax: Any, text: str, x: float, y: float, side: str, up: float) -> None:
    """Text beside (or `up` points above) a point, in the chart's value type."""
    shift = {"left": 3, "right": -3, "center": 0}[side]
    ax.annotate(
        text,
        (x, y),
        xytext=(shift, up),
        textcoords="offset points",
        ha=side if side != "center" else "center",
        va="bottom" if up else "center",
        fontsize=chartfit.VALUE_FONT,
        color=INK,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6},  # a line passes behind
        zorder=5,
    )


def _frame(ax: Any, levels: Levels) -> None:
    """Room for the labels: the value axis a little past the extremes, no y axis."""
    values = [levels.bear, levels.bull, levels.price, levels.target or levels.price]
    low, high = min(values), max(values)
    pad = (high - low) * 0.15 or 1.0
    ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(-1.2, 1.25)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(f"Value per share ({levels.currency})")
