"""Charts: house style, highlight, data text never read as mathtext, stable bytes, SVG post-processing."""

from __future__ import annotations

import base64
from pathlib import Path

import pandas as pd

from reportgen.brief.data import Frame
from reportgen.brief.models import Chart
from reportgen.render.charts import ACCENT, BASE, build_chart
from reportgen.render.svg import charts_as_images, recolour


def draw(chart: Chart, df: pd.DataFrame) -> str:
    return build_chart(chart, Frame(Path("d.csv"), df), lambda s: f"[{s}]", lambda g: g).svg


DF = pd.DataFrame({"company": ["Acme $x^2$", "Globex"], "share": [40.0, 35.0], "other": [1.0, 2.0]})


def test_highlight_in_accent_and_text_is_literal() -> None:
    chart = Chart(
        id="c",
        title="T",
        kind="bar",
        data="d.csv",
        x="company",
        y="share",
        unit="%",
        highlight="Acme $x^2$",
        source="s",
    )
    svg = draw(chart, DF)
    assert f'fill="{ACCENT}"' in svg
    assert "Acme $x^2$" in svg  # no mathtext: the dollar signs stay as typed
    assert "<text" in svg  # text kept as text (svg.fonttype none)
    assert 'id="chart-c-' in svg and "<?xml" not in svg


def test_every_kind_draws_and_is_stable() -> None:
    for kind in ("bar", "barh", "line", "stacked-bar"):
        chart = Chart(
            id=f"k-{kind}",
            title="T",
            kind=kind,
            data="d.csv",
            x="company",
            y=["share", "other"],
            source="s",
        )
        first, second = draw(chart, DF), draw(chart, DF)
        assert first == second
        assert first.startswith("<svg")


def test_group_makes_one_series_per_source() -> None:
    long = pd.DataFrame(
        {"company": ["A", "A", "B"], "share": [1.0, 2.0, 3.0], "source": ["x", "y", "x"]}
    )
    chart = Chart(id="g", title="T", data="d.csv", x="company", y="share", group="source")
    view = build_chart(chart, Frame(Path("d.csv"), long), lambda s: f"[{s}]", lambda g: f"src {g}")
    assert "src x" in view.svg and "src y" in view.svg
    assert view.source_marks == "[x]; [y]"  # each source credited on the line, "; "-separated


def test_svg_post_processing_escapes_the_title_and_feeds_the_pdf_the_same_svg() -> None:
    """One module rewrites chart SVG: inline for the page, recoloured, and as <img> for the PDF."""
    chart = Chart(
        id="q",
        title='Share "A" <&> B',
        kind="bar",
        data="d.csv",
        x="company",
        y="share",
        source="s",
    )
    svg = draw(chart, DF)
    label = "Share &#34;A&#34; &lt;&amp;&gt; B"
    assert svg.startswith(f'<svg role="img" aria-label="{label}"')
    assert ' width="' not in svg.split(">", 1)[0]  # scales to its container
    assert recolour(svg, {BASE: "#123456"}).count("#123456") == svg.count(BASE) > 0
    page = f'<figure><div class="chart-svg">\n{svg}</div></figure>'
    image = charts_as_images(page)
    data = image.split("base64,", 1)[1].split('"', 1)[0]
    assert image.startswith(f'<figure><div class="chart-svg">\n<img alt="{label}" src="data:')
    assert base64.b64decode(data).decode("utf-8") == svg.rstrip() and "<svg" not in image
