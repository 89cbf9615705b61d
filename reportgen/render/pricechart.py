"""Stage 4d: the price and target history chart of a brief with a `prices` CSV.

The price line, the target as a step line from each call on, and each call
(rating and target) marked on the price at its date. The calls are the
delivered editions' when the caller has them, else `market.history` and the
current market block.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from markupsafe import Markup

from reportgen.brief.data import Frame
from reportgen.render import chartfit
from reportgen.render.charts import ACCENT, BASE, INK, REDRAW, STYLE, ChartStore
from reportgen.render.svg import inline_svg


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
    points: Sequence[tuple[date, float]],
    calls: Sequence[PastCall],
    currency: str,
    title: str,
    store: ChartStore = REDRAW,
) -> Markup:
    """The chart as inline SVG (cached like every chart: the key is everything drawn)."""
    key = (repr(list(points)), repr(list(calls)), currency, title)
    return store.svg(key, lambda: _draw(points, calls, currency, title))


def _draw(
    points: Sequence[tuple[date, float]], calls: Sequence[PastCall], currency: str, title: str
) -> Markup:
    import matplotlib
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    with matplotlib.rc_context(cast(Any, STYLE)):
        fig = Figure(figsize=(chartfit.FIGURE_WIDTH, 2.7))  # house size: reads on a phone and on A4
        ax = fig.subplots()
        xs = [p[0] for p in points]
        ax.plot(cast(Any, xs), [p[1] for p in points], color=BASE, linewidth=1.6, label="Price")
        _targets(ax, calls, _beyond(xs))
        _marks(ax, points, calls)
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.set_ylabel(currency)
        chartfit.legend_above(ax)
        fig.tight_layout(pad=0.4)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return inline_svg(buffer.getvalue(), title, "chart-price-history-")


def _beyond(xs: Sequence[date]) -> date | None:
    """A little past the last price: the current target reads as a level ahead, not a tick."""
    if not xs:
        return None
    return xs[-1] + max((xs[-1] - xs[0]) / 12, timedelta(days=7))


def _targets(ax: Any, calls: Sequence[PastCall], last: date | None) -> None:
    """Each target held from its call to the next call (the last one past the last price)."""
    with_target = [c for c in calls if c.target is not None]
    if not with_target:
        return
    xs: list[date] = []
    ys: list[float] = []
    for i, call in enumerate(with_target):
        end = (
            with_target[i + 1].date
            if i + 1 < len(with_target)
            else max(last or call.date, call.date)
        )
        xs += [call.date, end]
        ys += [cast(float, call.target)] * 2
    ax.plot(xs, ys, color=ACCENT, linewidth=1.2, linestyle="--", label="Price target")


def _marks(ax: Any, points: Sequence[tuple[date, float]], calls: Sequence[PastCall]) -> None:
    """A dot on the price at each call, labelled with its rating and target."""
    for call in calls:
        before = [p for p in points if p[0] <= call.date]
        if not before:
            continue
        price = before[-1][1]
        label = " · ".join(
            t for t in (call.rating, f"{call.target:g}" if call.target else None) if t
        )
        ax.plot([call.date], [price], marker="o", markersize=5, color=ACCENT, zorder=3)
        ax.annotate(
            label,
            (call.date, price),
            textcoords="offset points",
            xytext=(0, 7 if call.target and call.target > price else -13),
            ha="center",
            fontsize=chartfit.VALUE_FONT,
            color=INK,
        )
