"""Stage 4c: a brief's own charts (a chart spec and its DataFrame), drawn in the house
style (figure.py) as SVG strings: bar, horizontal bar, line and stacked bar; the palette
and the chart store every chart (valuecharts.py too) is drawn through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from markupsafe import Markup

from reportgen.brief.data import Frame, format_with_unit
from reportgen.brief.labels import axis_title, series_name
from reportgen.brief.models import Chart
from reportgen.render.figure import (
    VALUE_FONT,
    draw_svg,
    fit_x_labels,
    fit_y_labels,
    layout,
    legend_above,
    plot_width,
    value_texts,
)

if TYPE_CHECKING:
    import pandas as pd

ACCENT = "#d9622b"
BASE = "#1f3a5f"
SERIES = ["#1f3a5f", "#d9622b", "#5b8bb5", "#9aa9bc", "#b5893b", "#6c757d"]
SERIES_MULTI = ["#1f3a5f", "#6f9ccc", "#9aa9bc", "#b5893b", "#4f7a63", "#6c757d"]
ACCENT_SOFT = "#fbe3d6"
MUTED = "#a9b6c6"


class ChartStore(Protocol):
    """Where drawn charts are kept (reportgen.cache.ChartCache is one); the build passes
    its store down as a value. `parts` must fully describe the chart."""

    def svg(self, parts: Sequence[str], draw: Callable[[], Markup]) -> Markup: ...


class Redraw:
    """No store: every chart is drawn."""

    def svg(self, parts: Sequence[str], draw: Callable[[], Markup]) -> Markup:
        return draw()


REDRAW = Redraw()


@dataclass(frozen=True)
class ChartView:
    id: str
    title: str
    svg: Markup  # produced by matplotlib from escaped data
    source_marks: Markup  # each source's name and mark, "; "-separated (the source line)


def build_chart(
    chart: Chart,
    frame: Frame,
    cite: Callable[[str], Markup],
    series_label: Callable[[str], str],
    store: ChartStore = REDRAW,
) -> ChartView:
    """Draw one chart; `cite` credits a source on the source line (its name and mark),
    `series_label` names a group value (a source id -> its short name)."""
    wide, labels = _series(chart, frame.df, series_label)
    key = (chart.model_dump_json(), wide.to_csv(), "\x1f".join(labels))
    svg = store.svg(key, lambda: _draw(chart, wide, labels))
    if chart.source:
        marks = cite(chart.source)
    else:
        sources = dict.fromkeys(frame.df["source"].dropna())
        marks = Markup("; ").join(cite(str(s).strip()) for s in sources)
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
    return wide, [series_name(chart, c) for c in chart.y_columns]


def _draw(chart: Chart, wide: pd.DataFrame, labels: list[str]) -> Markup:
    def paint(ax: Any) -> None:
        DRAWERS[chart.kind](ax, chart, wide, labels)
        horizontal = chart.kind == "barh"
        if chart.kind != "line":  # bars need no grid lines along their categories
            ax.grid(axis="y" if horizontal else "x", visible=False)
        _axis_titles(ax, chart, horizontal)
        if len(labels) > 1:
            legend_above(ax)
        names = [str(x) for x in wide.index]
        if horizontal:
            fit_y_labels(ax, names[::-1])
            layout(ax.figure)
        else:
            fit_x_labels(ax, names, time_axis=chart.kind == "line")  # lays it out

    # A long ranking gets thinner bars, never a taller figure than print's 80 mm shows unscaled.
    height = 2.7 if chart.kind != "barh" else min(0.5 + 0.3 * len(wide), 3.2)
    return draw_svg(height, chart.title, f"chart-{chart.id}-", paint)


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
    names = [str(x) for x in wide.index]
    if chart.highlight not in names:  # None too
        return
    at = names.index(chart.highlight)
    if len(wide.columns) > 1:
        span = ax.axhspan if horizontal else ax.axvspan
        span(at - 0.48, at + 0.48, color=ACCENT_SOFT, zorder=0)
    labels = ax.get_yticklabels() if horizontal else ax.get_xticklabels()
    labels[at].set_fontweight("bold")
    labels[at].set_color(ACCENT)


def _value_texts(chart: Chart | None, values: pd.Series) -> list[str]:
    """Bar value labels, with the chart's unit when it is short (%, pp, x); none for a gap."""
    unit = chart.unit if chart is not None and chart.unit in ("%", "pp", "x") else None
    return ["" if v != v else format_with_unit(float(v), unit) for v in values.astype(float)]


def _draw_bar(ax: Any, chart: Chart, wide: pd.DataFrame, labels: list[str]) -> None:
    width = 0.8 / len(wide.columns)
    positions = list(range(len(wide)))
    room = plot_width(ax) / max(len(wide), 1) * width
    texts, rotation = value_texts(
        [_value_texts(chart, wide[c]) for c in wide.columns],
        [_value_texts(None, wide[c]) for c in wide.columns],
        room,
    )
    for s, column in enumerate(wide.columns):
        offsets = [p - 0.4 + width * (s + 0.5) for p in positions]
        values = wide[column].astype(float).fillna(0)
        bars = ax.bar(offsets, values, width * 0.92, color=_colors(chart, wide, s), label=labels[s])
        ax.bar_label(bars, texts[s], padding=2, fontsize=VALUE_FONT, rotation=rotation)
    ax.set_xticks(positions, [str(x) for x in wide.index])
    _highlight_band(ax, chart, wide)
    ax.margins(y=0.3 if rotation else 0.15)


def _draw_barh(ax: Any, chart: Chart, wide: pd.DataFrame, labels: list[str]) -> None:
    ordered = wide.iloc[::-1]  # first category on top
    height = 0.76 / len(ordered.columns)
    for s, column in enumerate(ordered.columns):
        offsets = [p + 0.38 - height * (s + 0.5) for p in range(len(ordered))]
        values = ordered[column].astype(float)
        colors = _colors(chart, ordered, s)
        bars = ax.barh(offsets, values.fillna(0), height * 0.92, color=colors, label=labels[s])
        ax.bar_label(bars, _value_texts(chart, values), padding=3, fontsize=VALUE_FONT)
    ax.set_yticks(range(len(ordered)), [str(x) for x in ordered.index])
    _highlight_band(ax, chart, ordered, horizontal=True)
    ax.margins(x=0.12)


def _draw_line(ax: Any, chart: Chart, wide: pd.DataFrame, labels: list[str]) -> None:
    for s, column in enumerate(wide.columns):
        values, colour = wide[column].astype(float), SERIES[s % len(SERIES)]
        ax.plot(range(len(wide)), values, marker="o", ms=3.5, lw=1.8, color=colour, label=labels[s])
    if chart.highlight is not None and chart.highlight in wide.index:
        at = list(wide.index).index(chart.highlight)
        ax.axvline(at, color=ACCENT, linewidth=1, linestyle="--")
    ax.set_xticks(range(len(wide)), [str(x) for x in wide.index])


def _draw_stacked(ax: Any, chart: Chart, wide: pd.DataFrame, labels: list[str]) -> None:
    bottom = [0.0] * len(wide)
    for s, column in enumerate(wide.columns):
        values = wide[column].astype(float).fillna(0).tolist()
        edge = [ACCENT if str(x) == chart.highlight else "none" for x in wide.index]
        colour = SERIES[s % len(SERIES)]
        style = {"edgecolor": edge, "linewidth": 1.5, "label": labels[s]}
        ax.bar(range(len(wide)), values, 0.65, bottom=bottom, color=colour, **style)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(range(len(wide)), [str(x) for x in wide.index])


DRAWERS: dict[str, Callable[[Any, Chart, Any, list[str]], None]] = {
    "bar": _draw_bar,
    "barh": _draw_barh,
    "line": _draw_line,
    "stacked-bar": _draw_stacked,
}


def _axis_titles(ax: Any, chart: Chart, horizontal: bool = False) -> None:
    """The value axis: the author's label of a lone y column with the unit, else the unit;
    the category axis only when the author labelled the x column."""
    ys = chart.y_columns
    value = axis_title(chart, ys[0], chart.unit) if len(ys) == 1 else chart.unit
    category = (chart.labels or {}).get(chart.x, "")
    ax.set_xlabel(value if horizontal else category)
    ax.set_ylabel(category if horizontal else value)
