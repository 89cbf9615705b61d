"""Stage 4c: a chart spec and its DataFrame -> an SVG string, in one house style.

matplotlib writes SVG with text as text (sharper, searchable in the PDF), never read as
mathtext, byte-stable (fixed hash salt, no date), then made markup a page can inline.
It places text where told, overlapping or not, so chart text is measured first to fit:
x labels flat, else on two balanced lines, else thinned (time axis) or slanted; a
legend in as many columns as fit above the plot, never covering a bar or a line.

The valuation section's charts: the price history (the price line, the target as a step
line from each call on, each call marked on the price at its date; the calls are the
delivered editions' when the caller has them, else `market.history` and today's) and the
risk-reward chart (v1.2: the bear-to-bull range on one axis of value per share, each
case a dot with its upside, the price and the target as lines, the weighted value).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, partial
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Protocol, cast

from markupsafe import Markup

from reportgen.brief.data import Frame, format_number, format_with_unit
from reportgen.brief.labels import axis_title, series_name
from reportgen.brief.models import Chart
from reportgen.brief.scenarios import Measured
from reportgen.brief.valuation import format_premium

if TYPE_CHECKING:
    import pandas as pd

# Chart text sizes in the SVG's user units (1 unit = 1 pt at the figure's natural size).
# Why these: the figure is 4.5 in (324 units) wide and style.css shows it at most 32rem
# wide, on a screen and in print. At 390 px (a 350 px column) 8.5 units are 9.2 CSS px;
# at 1280 px 9 units are 0.89x the body text; in the PDF (9.6 pt root) 8.1-8.5 pt.
FIGURE_WIDTH = 4.5  # inches
FONT = 9.0
VALUE_FONT = 8.5

GAP = 0.6  # space kept between neighbouring labels, in ems
LEGEND = {"handlelength": 1.2, "handletextpad": 0.5, "columnspacing": 1.4}
LINE = 1.2  # a line of label text, in ems
PLOT_SHARE = 0.86  # the plot's share of the figure's width, before layout measures it

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


def draw_svg(
    height: float, title: str, prefix: str, paint: Callable[[Any], None], grid: bool = True
) -> Markup:
    """A house-style figure, drawn and laid out by `paint(ax)`, as inline SVG. 4.5 in wide (a
    phone's aspect): the page shows it at most 32rem wide, so the same SVG reads at 390 px,
    at 1280 px and on A4 (see FONT). `grid`: the house grid lines."""
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
    value = (
        axis_title(chart, chart.y_columns[0], chart.unit)
        if len(chart.y_columns) == 1
        else chart.unit
    )
    category = (chart.labels or {}).get(chart.x, "")
    ax.set_xlabel(value if horizontal else category)
    ax.set_ylabel(category if horizontal else value)


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
    if not xs:
        return None
    return xs[-1] + max((xs[-1] - xs[0]) / 12, timedelta(days=7))


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
            text = f"{name} {format_number(value)}\n{format_premium(value / price - 1)}"
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
    ax.annotate(
        text,
        xy,
        xytext=offset,
        textcoords="offset points",
        fontsize=VALUE_FONT,
        color=INK,
        **style,
    )


# Chart text that fits its space


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
    ax.legend(
        handles,
        labels,
        loc="lower left",
        bbox_to_anchor=(0, 1.02),
        borderaxespad=0,
        ncol=columns,
        fontsize=FONT,
        **LEGEND,
    )


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
