"""The straightforward way, for comparison: plain Jinja2 + matplotlib + WeasyPrint.

Everything imported up front, no cache, one new WeasyPrint document per brief
with default settings, matplotlib's default SVG output. It builds the same
synthetic briefs to the same kind of page (title, verdict, key figures,
Markdown sections with their tables and charts, risks, sources) and prints one
JSON line per brief with the seconds it took.

    python benchmarks/reference.py BRIEF_DIR ... --out DIR [--html-only]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import time
from pathlib import Path
from typing import Any

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import weasyprint
from markdown_it import MarkdownIt
from ruamel.yaml import YAML

PAGE = jinja2.Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ b.title }}</title>
<style>
@page { size: A4; margin: 18mm 16mm; @bottom-center { content: "Page " counter(page) " of " counter(pages); } }
body { font-family: Inter, "DejaVu Sans", sans-serif; font-size: 10pt; color: #1d2733; line-height: 1.45; }
h1 { font-size: 22pt; margin: 0; } h2 { font-size: 13pt; border-bottom: 1px solid #ccd; }
.verdict { border-left: 5px solid #d9622b; padding: 6px 12px; background: #fbf3ee; }
.figures { display: flex; flex-wrap: wrap; gap: 8px; } .figure { border: 1px solid #dde; padding: 6px; width: 30%; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; } td, th { padding: 3px 6px; border-bottom: 1px solid #e3e8ee; }
td.num { text-align: right; } svg { width: 100%; height: auto; }
</style></head><body>
<h1>{{ b.title }}</h1><p>{{ b.subtitle }} · {{ b.subject.name }} · data as of {{ b.as_of }}</p>
<div class="verdict"><strong>{{ b.verdict.label }}</strong> (risk {{ b.verdict.risk }}, reward {{ b.verdict.reward }})
{{ verdict | safe }}</div>
<div class="figures">{% for m in key_figures %}<div class="figure">{{ m.label }}<br><strong>{{ m.text }}</strong></div>{% endfor %}</div>
{% for s in sections %}<h2>{{ s.title }}</h2>{{ s.html | safe }}{% endfor %}
<h2>Risks</h2>{% for r in b.risks %}<h3>{{ r.title }} ({{ r.likelihood }} likelihood, {{ r.impact }} impact)</h3>
{{ md.render(r.body) | safe }}{% endfor %}
<h2>Sources</h2><ol>{% for s in b.sources.values() %}<li>{{ s.title }}, {{ s.publisher }}, {{ s.published }}</li>{% endfor %}</ol>
</body></html>""")


def build(folder: Path, out: Path, pdf: bool) -> None:
    """One brief: read, draw, render, write; nothing kept between briefs."""
    spec: dict[str, Any] = YAML(typ="safe").load(
        (folder / "brief.yaml").read_text(encoding="utf-8")
    )
    md = MarkdownIt()
    metrics = {m["id"]: m for m in spec["metrics"]}
    text = {
        i: f"{m['value']:,}{'%' if m.get('unit') == '%' else ' ' + str(m.get('unit', ''))}"
        for i, m in metrics.items()
    }
    tables = {t["id"]: table_html(folder, t) for t in spec["tables"]}
    charts = {c["id"]: chart_svg(folder, c) for c in spec["charts"]}

    def markdown(source: str) -> str:
        if source.strip().endswith(".md"):
            source = (folder / source.strip()).read_text(encoding="utf-8")
        source = re.sub(r'\{\{ metric\("([^"]+)"\) \}\}', lambda m: text[m.group(1)], source)
        source = re.sub(r'\{\{ cite\("([^"]+)"\) \}\}', "", source)
        html = md.render(re.sub(r'\{\{ (table|chart)\("([^"]+)"\) \}\}', r"@@\1:\2@@", source))
        return re.sub(
            r"(?:<p>)?@@(table|chart):([^@]+)@@(?:</p>)?",
            lambda m: (tables if m.group(1) == "table" else charts)[m.group(2)],
            html,
        )

    sections = [
        {
            "title": s["title"],
            "html": markdown(s["body"])
            + "".join(tables[t] for t in s.get("tables", []))
            + "".join(charts[c] for c in s.get("charts", [])),
        }
        for s in spec["sections"]
    ]
    key_figures = [
        {"label": m["label"], "text": text[m["id"]]} for m in spec["metrics"] if m.get("key")
    ]
    html = PAGE.render(
        b=spec,
        verdict=markdown(spec["verdict"]["summary"]),
        sections=sections,
        key_figures=key_figures,
        md=md,
    )
    target = out / folder.name
    target.mkdir(parents=True, exist_ok=True)
    (target / f"{folder.name}.html").write_text(html, encoding="utf-8")
    if pdf:
        weasyprint.HTML(string=html, base_url=str(folder)).write_pdf(target / f"{folder.name}.pdf")


def table_html(folder: Path, table: dict[str, Any]) -> str:
    df = pd.read_csv(folder / table["data"])
    if table.get("sort"):
        column = table["sort"].lstrip("-")
        df = df.sort_values(column, ascending=not table["sort"].startswith("-"))
    if table.get("columns"):
        df = df[list(table["columns"])].rename(columns=table["columns"])
    return f"<h4>{table['title']}</h4>" + df.to_html(index=False, classes="data")


def chart_svg(folder: Path, chart: dict[str, Any]) -> str:
    df = pd.read_csv(folder / chart["data"])
    ys = chart["y"] if isinstance(chart["y"], list) else [chart["y"]]
    fig, ax = plt.subplots(figsize=(6.6, 2.7))
    x = df[chart["x"]].astype(str)
    if chart["kind"] == "line":
        for y in ys:
            ax.plot(x, df[y], marker="o", label=y)
    elif chart["kind"] == "stacked-bar":
        bottom = None
        for y in ys:
            ax.bar(x, df[y], bottom=bottom, label=y)
            bottom = df[y] if bottom is None else bottom + df[y]
    else:
        colors = ["#d9622b" if v == chart.get("highlight") else "#a9b6c6" for v in x]
        ax.bar(x, df[ys[0]], color=colors)
    ax.set_title(chart["title"])
    if len(ys) > 1:
        ax.legend()
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("briefs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--html-only", action="store_true")
    args = parser.parse_args()
    for folder in args.briefs:
        start = time.perf_counter()
        build(folder, args.out, pdf=not args.html_only)
        print(
            json.dumps({"brief": folder.name, "seconds": time.perf_counter() - start}), flush=True
        )


if __name__ == "__main__":
    main()
