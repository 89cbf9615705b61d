"""Stage 4c: a chart spec and its DataFrame -> an SVG string, in one house style.

matplotlib runs headless (Agg) and writes SVG with text kept as text (smaller,
sharper, searchable in the PDF). Text from the data is never read as mathtext,
and the output is byte-stable: fixed hash salt, no date.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from reportgen.brief.data import Frame, format_with_unit
from reportgen.brief.models import Chart
from reportgen.cache import cached_svg
from reportgen.render.svg import inline_svg

if TYPE_CHECKING:
    import pandas as pd

ACCENT = "#d9622b"
BASE = "#1f3a5f"
SERIES = ["#1f3a5f", "#d9622b", "#5b8bb5", "#9aa9bc", "#b5893b", "#6c757d"]
SERIES_MULTI = ["#1f3a5f", "#6f9ccc", "#9aa9bc", "#b5893b", "#4f7a63", "#6c757d"]
ACCENT_SOFT = "#fbe3d6"
MUTED = "#a9b6c6"
INK = "#1d2733"
GRID = "#e3e8ee"

STYLE: dict[str, Any] = {
    "font.family": ["Inter", "DejaVu Sans", "Noto Sans CJK SC"],
    "font.size": 9,
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


@dataclass(frozen=True)
class ChartView:
    id: str
    title: str
    svg: str  # trusted markup produced by matplotlib from escaped data
    source_marks: str  # trusted HTML: each source's name and mark, "; "-separated (the source line)


def build_chart(
    chart: Chart, frame: Frame, cite: Callable[[str], str], series_label: Callable[[str], str]
) -> ChartView:
    """Draw one chart; `cite` credits a source on the source line (its name and mark),
    `series_label` names a group value (a source id -> its short name)."""
    wide, labels = _series(chart, frame.df, series_label)
    key = (chart.model_dump_json(), wide.to_csv(), "\x1f".join(labels))
    svg = cached_svg(key, lambda: _draw(chart, wide, labels))
    if chart.source:
        marks = cite(chart.source)
    else:
        marks = "; ".join(cite(str(s).strip()) for s in dict.fromkeys(frame.df["source"].dropna()))
    return ChartView(chart.id, chart.title, svg, marks)


def _series(
    chart: Chart, df: pd.DataFrame, series_label: Callable[[str], str]
) -> tuple[pd.DataFrame, list[str]]:
    """A wide frame indexed by x (first-seen order), one column a series, and legend labels."""
    import pandas as pd  # lazy: heavy, and `reportgen --help` or a check-only run never needs it

    order = list(dict.fromkeys(df[chart.x].astype(str)))
    if chart.group:
        keyed = df.assign(_x=df[chart.x].astype(str), _g=df[chart.group].astype(str))
        wide = keyed.pivot_table(
            index="_x", columns="_g", values=chart.y_columns[0], aggfunc="first", sort=False
        )
        wide = wide.reindex(order)
        return wide, [series_label(str(g)) for g in wide.columns]
    wide = df.assign(_x=df[chart.x].astype(str)).set_index("_x")[chart.y_columns]
    wide = wide.apply(pd.to_numeric, errors="coerce")
    names = chart.labels or {}
    return wide, [names.get(c, c) for c in chart.y_columns]


def _draw(chart: Chart, wide: pd.DataFrame, labels: list[str]) -> str:
    # Lazy: matplotlib is the heaviest import, paid only when a chart is drawn (not on a
    # cache hit). A bare Figure, not pyplot: no global figure registry to leak into, and
    # pyplot's import (a third of a cold build's chart time) is never paid.
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(cast(Any, STYLE)):
        fig = Figure(figsize=(6.6, 2.7 if chart.kind != "barh" else 0.5 + 0.32 * len(wide)))
        ax = fig.subplots()
        DRAWERS[chart.kind](ax, chart, wide, labels)
        if len(labels) > 1:
            ax.legend(loc="best", fontsize=8)
        fig.tight_layout(pad=0.4)
        # tight_layout leaves a placeholder layout engine behind, and savefig then draws
        # the whole figure twice (once to measure): none left, one draw, the same SVG.
        fig.set_layout_engine(None)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return inline_svg(buffer.getvalue(), chart.title, f"chart-{chart.id}-")


def _colors(chart: Chart, wide: pd.DataFrame, series: int) -> list[str]:
    """One colour per bar. One series: the highlighted category in the accent colour.
    Several series: each its own colour (never the accent); the highlight is a band."""
    if len(wide.columns) > 1:
        return [SERIES_MULTI[series % len(SERIES_MULTI)]] * len(wide)
    if chart.highlight is None:
        return [BASE] * len(wide)
    return [ACCENT if str(x) == chart.highlight else MUTED for x in wide.index]


def _highlight_band(ax: Any, chart: Chart, wide: pd.DataFrame, horizontal: bool = False) -> None:
    """Mark the highlighted category behind grouped bars and in bold on its axis."""
    if chart.highlight is None or chart.highlight not in [str(x) for x in wide.index]:
        return
    at = [str(x) for x in wide.index].index(chart.highlight)
    if len(wide.columns) > 1:
        (ax.axhspan if horizontal else ax.axvspan)(
            at - 0.48, at + 0.48, color=ACCENT_SOFT, zorder=0
        )
    labels = ax.get_yticklabels() if horizontal else ax.get_xticklabels()
    labels[at].set_fontweight("bold")
    labels[at].set_color(ACCENT)


def _value_label(chart: Chart, value: float) -> str:
    return (
        format_with_unit(value, chart.unit)
        if chart.unit in ("%", "pp", "x")
        else format_with_unit(value, None)
    )


def _draw_bar(ax: Any, chart: Chart, wide: pd.DataFrame, labels: list[str]) -> None:
    count = len(wide.columns)
    width = 0.8 / count
    positions = list(range(len(wide)))
    for s, column in enumerate(wide.columns):
        offsets = [p - 0.4 + width * (s + 0.5) for p in positions]
        values = wide[column].astype(float)
        bars = ax.bar(
            offsets, values.fillna(0), width * 0.92, color=_colors(chart, wide, s), label=labels[s]
        )
        texts = ["" if v != v else _value_label(chart, v) for v in values]
        ax.bar_label(bars, labels=texts, padding=2, fontsize=7.5)
    ax.set_xticks(positions, _tick_labels(wide.index))
    _wrap_ticks(ax, len(wide))
    _highlight_band(ax, chart, wide)
    ax.grid(axis="x", visible=False)
    _unit_axis(ax.set_ylabel, chart)
    ax.margins(y=0.15)


def _draw_barh(ax: Any, chart: Chart, wide: pd.DataFrame, labels: list[str]) -> None:
    ordered = wide.iloc[::-1]  # first category on top
    count = len(ordered.columns)
    height = 0.76 / count
    for s, column in enumerate(ordered.columns):
        offsets = [p + 0.38 - height * (s + 0.5) for p in range(len(ordered))]
        values = ordered[column].astype(float)
        colors = _colors(chart, ordered, s)
        bars = ax.barh(offsets, values.fillna(0), height * 0.92, color=colors, label=labels[s])
        texts = ["" if v != v else _value_label(chart, v) for v in values]
        ax.bar_label(bars, labels=texts, padding=3, fontsize=7.5)
    ax.set_yticks(range(len(ordered)), [str(x) for x in ordered.index])
    _highlight_band(ax, chart, ordered, horizontal=True)
    ax.grid(axis="y", visible=False)
    _unit_axis(ax.set_xlabel, chart)
    ax.margins(x=0.12)


def _draw_line(ax: Any, chart: Chart, wide: pd.DataFrame, labels: list[str]) -> None:
    for s, column in enumerate(wide.columns):
        ax.plot(
            range(len(wide)),
            wide[column].astype(float),
            marker="o",
            markersize=3.5,
            linewidth=1.8,
            color=SERIES[s % len(SERIES)],
            label=labels[s],
        )
    if chart.highlight is not None and chart.highlight in wide.index:
        ax.axvline(
            list(wide.index).index(chart.highlight), color=ACCENT, linewidth=1, linestyle="--"
        )
    ax.set_xticks(range(len(wide)), _tick_labels(wide.index))
    _wrap_ticks(ax, len(wide))
    _unit_axis(ax.set_ylabel, chart)


def _draw_stacked(ax: Any, chart: Chart, wide: pd.DataFrame, labels: list[str]) -> None:
    bottom = [0.0] * len(wide)
    for s, column in enumerate(wide.columns):
        values = wide[column].astype(float).fillna(0).tolist()
        edge = [ACCENT if str(x) == chart.highlight else "none" for x in wide.index]
        ax.bar(
            range(len(wide)),
            values,
            0.65,
            bottom=bottom,
            color=SERIES[s % len(SERIES)],
            edgecolor=edge,
            linewidth=1.5,
            label=labels[s],
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(range(len(wide)), _tick_labels(wide.index))
    _wrap_ticks(ax, len(wide))
    ax.grid(axis="x", visible=False)
    _unit_axis(ax.set_ylabel, chart)


DRAWERS: dict[str, Callable[[Any, Chart, Any, list[str]], None]] = {
    "bar": _draw_bar,
    "barh": _draw_barh,
    "line": _draw_line,
    "stacked-bar": _draw_stacked,
}


def _tick_labels(index: Any) -> list[str]:
    """Long category names break over lines instead of running into each other."""
    return [textwrap.fill(str(x), 14, break_long_words=False) for x in index]


def _wrap_ticks(ax: Any, count: int) -> None:
    if count > 5:
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_horizontalalignment("right")


def _unit_axis(set_label: Callable[[str], Any], chart: Chart) -> None:
    if chart.unit:
        set_label(chart.unit)
