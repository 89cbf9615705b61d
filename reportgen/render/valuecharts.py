"""Stage 4c: the valuation section's charts, drawn in the house style (figure.py) as SVG.

The price history: the price line, the target as a step line from each call on, each call
marked on the price at its date (the calls are the delivered editions' when the caller has
them, else `market.history` and today's). The risk-reward chart (v1.2): the bear-to-bull
range on one axis of value per share, each case a dot with its upside, the price and the
target as lines, the weighted value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any, cast

from markupsafe import Markup

from reportgen.brief.data import Frame, format_number
from reportgen.brief.scenarios import Measured
from reportgen.brief.valuation import format_premium
from reportgen.render.charts import ACCENT, ACCENT_SOFT, BASE, MUTED, REDRAW, ChartStore
from reportgen.render.figure import INK, VALUE_FONT, draw_svg, layout, legend_above

Points = Sequence[tuple[date, float]]  # (date, close) rows, oldest first
ANNOTATION = {"textcoords": "offset points", "fontsize": VALUE_FONT, "color": INK}


@dataclass(frozen=True)
class PastCall:
    """A rating and target issued on a date (from an edition or `market.history`)."""

    date: date
    rating: str | None
    target: float | None


def price_points(frame: Frame) -> list[tuple[date, float]]:
    """(date, close) rows of a checked prices CSV, oldest first."""
    import pandas as pd

    dates = pd.to_datetime(frame.df["date"].astype(str), format="%Y-%m-%d")
    closes = pd.to_numeric(frame.df["close"])
    return sorted((d.date(), float(c)) for d, c in zip(dates, closes, strict=True))


def draw_price_chart(
    points: Points, calls: Sequence[PastCall], currency: str, title: str, store: ChartStore = REDRAW
) -> Markup:
    def paint(ax: Any) -> None:
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        xs = [p[0] for p in points]
        ax.plot(cast(Any, xs), [p[1] for p in points], color=BASE, linewidth=1.6, label="Price")
        _targets(ax, calls, _beyond(xs))
        _marks(ax, points, calls)
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.set_ylabel(currency)
        legend_above(ax)
        layout(ax.figure)

    key = (repr(list(points)), repr(list(calls)), currency, title)
    return store.svg(key, partial(draw_svg, 2.7, title, "chart-price-history-", paint))


def _beyond(xs: Sequence[date]) -> date | None:
    """A little past the last price: the current target reads as a level ahead, not a tick."""
    return xs[-1] + max((xs[-1] - xs[0]) / 12, timedelta(days=7)) if xs else None


def _targets(ax: Any, calls: Sequence[PastCall], last: date | None) -> None:
    """Each target held from its call to the next call (the last one past the last price)."""
    with_target = [c for c in calls if c.target is not None]
    if not with_target:
        return
    ends = [c.date for c in with_target[1:]]
    ends.append(max(last or with_target[-1].date, with_target[-1].date))
    xs = [x for call, end in zip(with_target, ends, strict=True) for x in (call.date, end)]
    ys = [cast(float, call.target) for call in with_target for _ in (1, 2)]
    ax.plot(xs, ys, color=ACCENT, linewidth=1.2, linestyle="--", label="Price target")


def _marks(ax: Any, points: Points, calls: Sequence[PastCall]) -> None:
    """A dot on the price at each call, labelled with its rating and target."""
    for call in calls:
        before = [p for p in points if p[0] <= call.date]
        if not before:
            continue
        price = before[-1][1]
        target = f"{call.target:g}" if call.target else None
        label = " · ".join(t for t in (call.rating, target) if t)
        ax.plot([call.date], [price], marker="o", markersize=5, color=ACCENT, zorder=3)
        up = 7 if call.target and call.target > price else -13
        _annotate(ax, label, (call.date, price), (0, up), ha="center")


def draw_risk_reward(
    measured: Measured, target: float | None, currency: str, title: str, store: ChartStore
) -> Markup:
    price, weighted = measured.price, measured.weighted
    bear, base, bull = (measured.cases[case].value for case in ("bear", "base", "bull"))

    def paint(ax: Any) -> None:
        ax.plot([bear, bull], [0, 0], color=ACCENT_SOFT, linewidth=10, zorder=1)
        for name, value in (("Bear", bear), ("Base", base), ("Bull", bull)):
            # a dot on the axis, its name and value below, its upside under that
            ax.plot([value], [0], marker="o", markersize=7, color=BASE, zorder=3)
            text = f"{name} {format_number(value)}\n{format_premium(measured.upside(name.lower()))}"
            _annotate(ax, text, (value, 0), (0, -11), ha="center", va="top")
        _lines(ax, price, target)
        ax.plot([weighted], [0], marker="D", markersize=6, color=INK, zorder=4)
        away = "right" if (target or 0) >= weighted else "left"  # off the target
        _label(ax, f"Weighted {format_number(weighted, 2)}", weighted, 0.0, away, 9)
        # room for the labels: the value axis a little past the extremes, no y axis
        low, high = min(bear, bull, price, target or price), max(bear, bull, price, target or price)
        pad = (high - low) * 0.15 or 1.0
        ax.set_xlim(low - pad, high + pad)
        ax.set_ylim(-1.2, 1.25)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(f"Value per share ({currency})")
        layout(ax.figure)

    draw = partial(draw_svg, 2.0, title, "chart-risk-reward-", paint, grid=False)
    return store.svg((repr(measured), repr(target), currency, title), draw)


def _lines(ax: Any, price: float, target: float | None) -> None:
    """The price now (solid) and the target (dashed) above the axis, labelled at their tops,
    the lower of the two to the left so the labels never meet."""
    marks = [("Price now", price, "-", MUTED)]
    if target is not None:
        marks.append(("Target", target, "--", ACCENT))
    lowest = min(value for _, value, _, _ in marks)
    for name, value, style, colour in marks:
        ax.vlines(value, -0.25, 1.0, colors=colour, linestyles=style, linewidth=1.4, zorder=2)
        side = "right" if value == lowest and len(marks) > 1 else "left"
        _label(ax, f"{name} {format_number(value, 2)}", value, 1.0, side, 0)


def _label(ax: Any, text: str, x: float, y: float, side: str, up: float) -> None:
    """Text beside (or `up` points above) a point, on white: a line passes behind it."""
    shift = {"left": 3, "right": -3}[side]
    box = {"facecolor": "white", "edgecolor": "none", "pad": 0.6}
    va = "bottom" if up else "center"
    _annotate(ax, text, (x, y), (shift, up), ha=side, va=va, bbox=box, zorder=5)


def _annotate(ax: Any, text: str, xy: Any, offset: tuple[float, float], **style: Any) -> None:
    """Text `offset` points from `xy`, in the charts' value type."""
    ax.annotate(text, xy, xytext=offset, **ANNOTATION, **style)
