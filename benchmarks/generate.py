"""Write N realistic synthetic briefs in the brief-format v1 contract.

Each brief is a different made-up company with its own numbers: 3 charts (bar,
line, stacked bar), 2 tables, 8 key metrics, 4 sections of prose in Markdown
files and 4 risks, about four A4 pages. The same seed gives the same briefs.

    python benchmarks/generate.py --briefs 100 --out /tmp/briefs
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

SYLLABLES = [
    "ac",
    "bel",
    "cor",
    "dyn",
    "ex",
    "fal",
    "gen",
    "hal",
    "ion",
    "jet",
    "kor",
    "lum",
    "mer",
    "nov",
    "or",
    "pax",
    "quan",
    "ros",
    "sol",
    "tek",
    "ul",
    "vor",
    "wex",
    "xen",
    "yor",
    "zen",
]
LEVELS = ["low", "medium", "high"]
YEARS = [2021, 2022, 2023, 2024, 2025, 2026]
SEGMENTS = ["cloud", "devices", "services"]

PROSE = [
    "Management framed the quarter as a transition year, with spending pulled forward to secure "
    "capacity before rivals do, and investors have so far given it the benefit of the doubt.",
    "The order book grew faster than revenue, which suggests demand is not the constraint; supply "
    "of accelerators and power is, and both take longer to add than software capacity.",
    "Pricing held up better than feared: list prices fell, but mix shifted towards higher-margin "
    "managed services, and churn among the largest customers stayed below the five-year average.",
    "Competition is intensifying at the low end, where smaller providers bundle compute with free "
    "credits; the company has chosen not to follow, trading share for margin in that segment.",
    "Cash conversion weakened as inventory built ahead of new product launches, a pattern seen in "
    "previous cycles that reversed within two quarters once shipments caught up.",
    "Regulatory scrutiny is rising in two of its larger markets, though neither proposal under "
    "discussion would change the economics of the core business in the next two years.",
]


def company(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def paragraph(rng: random.Random, extra: str = "") -> str:
    sentences = rng.sample(PROSE, 2)
    return " ".join(sentences) + (f" {extra}" if extra else "")


def brief_files(n: int, seed: int) -> tuple[dict[str, Any], dict[str, str]]:
    """The brief.yaml mapping and the other files of brief number `n`."""
    rng = random.Random(seed * 100_003 + n)
    name = company(rng)
    peers = [name, *(company(rng) for _ in range(5))]
    raw = [rng.uniform(4, 30) for _ in peers]
    shares = [round(85 * r / sum(raw), 1) for r in raw]  # the rest of the market is "others"
    revenue = [round(rng.uniform(2, 12) * (1.15**i), 2) for i, _ in enumerate(YEARS)]
    segments = [[round(r * w, 2) for w in _weights(rng)] for r in revenue]
    files = {
        "peers.csv": "company,share_pct,growth_pct\n"
        + "".join(
            f"{p},{s},{round(rng.uniform(-10, 60), 1)}\n"
            for p, s in zip(peers, shares, strict=True)
        ),
        "revenue.csv": "year,revenue,margin_pct\n"
        + "".join(
            f"{y},{r},{round(rng.uniform(5, 35), 1)}\n" for y, r in zip(YEARS, revenue, strict=True)
        ),
        "segments.csv": "year,"
        + ",".join(SEGMENTS)
        + "\n"
        + "".join(
            f"{y}," + ",".join(map(str, s)) + "\n" for y, s in zip(YEARS, segments, strict=True)
        ),
    }
    metrics = _metrics(rng, revenue, shares[0])
    files.update(_sections(rng, name))
    return _spec(name, n, metrics, rng), files


def _weights(rng: random.Random) -> list[float]:
    raw = [rng.uniform(1, 3) for _ in SEGMENTS]
    return [w / sum(raw) for w in raw]


def _metrics(rng: random.Random, revenue: list[float], share: float) -> list[dict[str, Any]]:
    growth = round((revenue[-1] / revenue[-2] - 1) * 100, 1)
    rows = [
        ("revenue", "Revenue", revenue[-1], "USD bn", "FY2026", "filings"),
        ("revenue_growth", "Revenue growth, y/y", growth, "%", "FY2026", "filings"),
        ("market_share", "Share of its home market", share, "%", "2026", "survey"),
        (
            "capex",
            "Capital expenditure plan",
            round(rng.uniform(5, 60)),
            "USD bn",
            "three years",
            "press",
        ),
        ("margin", "Operating margin", round(rng.uniform(3, 30), 1), "%", "FY2026", "filings"),
        (
            "eps_change",
            "Change in EPS",
            round(rng.uniform(-70, 40)),
            "%",
            "latest quarter",
            "press",
        ),
        ("headcount", "Employees", round(rng.uniform(2, 90), 1), "thousand", "2026", "filings"),
        (
            "upside",
            "Upside to consensus price target",
            round(rng.uniform(-10, 45)),
            "%",
            None,
            "survey",
        ),
    ]
    return [
        {
            "id": i,
            "label": label,
            "value": v,
            "unit": u,
            **({"period": p} if p else {}),
            "source": s,
            "key": k < 5,
        }
        for k, (i, label, v, u, p, s) in enumerate(rows)
    ]


def _sections(rng: random.Random, name: str) -> dict[str, str]:
    return {
        "thesis.md": f"{name} is betting its balance sheet on capacity.\n\n"
        + paragraph(
            rng, 'Revenue reached {{ metric("revenue") }}, up {{ metric("revenue_growth") }}.'
        )
        + "\n\n"
        + paragraph(rng, '{{ cite("press") }}')
        + "\n",
        "market.md": paragraph(rng, 'It holds {{ metric("market_share") }} of its home market.')
        + "\n\n"
        + '{{ table("peers") }}\n\n'
        + paragraph(rng)
        + "\n\n"
        + "- Scale: the largest installed base in the region\n- Cost: own silicon from next year\n"
        "- Reach: partners on every continent\n\n" + paragraph(rng) + "\n",
        "financials.md": paragraph(rng, 'The plan commits {{ metric("capex") }}.')
        + "\n\n"
        + paragraph(rng, 'Operating margin was {{ metric("margin") }}.')
        + "\n\n"
        + paragraph(rng, 'Earnings per share moved {{ metric("eps_change") }}.')
        + "\n",
        "outlook.md": paragraph(rng, 'Consensus implies {{ metric("upside") }} upside.')
        + "\n\n"
        + paragraph(rng)
        + "\n",
    }


def _level(level: str) -> str:
    """'very-high' -> 'Very High', as a verdict label writes it."""
    return level.replace("-", " ").title()


def _spec(name: str, n: int, metrics: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    risk = rng.choice(["medium", "high", "very-high"])
    reward = rng.choice(["medium", "high"])
    return {
        "title": f"{name}'s Capacity Bet",
        "subtitle": "Capex, share and the path to profit",
        "subject": {"name": f"{name} Holdings", "ticker": name[:4].upper(), "exchange": "NYSE"},
        "as_of": "2026-11-21",
        "authors": ["Benchmark Desk"],
        "verdict": {
            "label": f"{_level(risk)}-Risk, {_level(reward)}-Reward",  # the label names its levels
            "risk": risk,
            "reward": reward,
            "summary": f'{name} plans {{{{ metric("capex") }}}} of spending; revenue grew '
            '{{ metric("revenue_growth") }}. ' + paragraph(rng),
        },
        "sources": {
            "filings": {
                "title": f"{name} annual report 2026",
                "publisher": f"{name} Holdings",
                "published": "2026-03-30",
                "url": f"https://example.org/{n}/annual-report",
            },
            "survey": {
                "title": "Regional cloud market survey",
                "publisher": "Example Research",
                "published": "2026-09-01",
            },
            "press": {
                "title": f"{name} raises its investment plan",
                "publisher": "Example News",
                "published": "2026-11-10",
                "url": f"https://example.org/{n}/news",
            },
        },
        "metrics": metrics,
        "tables": [
            {
                "id": "peers",
                "title": "Market share and growth",
                "data": "peers.csv",
                "columns": {
                    "company": "Company",
                    "share_pct": "Share (%)",
                    "growth_pct": "Growth (%)",
                },
                "sort": "-share_pct",
                "highlight": name,
                "source": "survey",
            },
            {
                "id": "revenue-history",
                "title": "Revenue and margin",
                "data": "revenue.csv",
                "columns": {
                    "year": "Year",
                    "revenue": "Revenue (USD bn)",
                    "margin_pct": "Margin (%)",
                },
                "source": "filings",
            },
        ],
        "charts": [
            {
                "id": "peers-bar",
                "title": "Market share",
                "kind": "bar",
                "data": "peers.csv",
                "x": "company",
                "y": "share_pct",
                "unit": "%",
                "highlight": name,
                "source": "survey",
            },
            {
                "id": "revenue-line",
                "title": "Revenue",
                "kind": "line",
                "data": "revenue.csv",
                "x": "year",
                "y": "revenue",
                "unit": "USD bn",
                "source": "filings",
            },
            {
                "id": "segments-stack",
                "title": "Revenue by segment",
                "kind": "stacked-bar",
                "data": "segments.csv",
                "x": "year",
                "y": SEGMENTS,
                "labels": {name: name.capitalize() for name in SEGMENTS},
                "unit": "USD bn",
                "source": "filings",
            },
        ],
        "sections": [
            {"title": "Investment thesis", "body": "thesis.md", "charts": ["revenue-line"]},
            {"title": "Market position", "body": "market.md", "charts": ["peers-bar"]},
            {
                "title": "Financials",
                "body": "financials.md",
                "tables": ["revenue-history"],
                "charts": ["segments-stack"],
            },
            {"title": "Outlook", "body": "outlook.md"},
        ],
        "risks": [
            {
                "title": title,
                "likelihood": rng.choice(LEVELS),
                "impact": rng.choice(LEVELS),
                "body": paragraph(rng),
                "sources": [source],
            }
            for title, source in [
                ("Export controls on accelerators", "press"),
                ("Price war at the low end", "survey"),
                ("Capex overrun", "filings"),
                ("Regulation", "press"),
            ]
        ],
    }


def longer(spec: dict[str, Any], files: dict[str, str], times: int) -> None:
    """Make a brief `times` as long: each section, table, chart, metric and risk again
    (part 2, part 3, ...), the copies citing their own metrics, tables and charts."""
    kinds = ("metrics", "tables", "charts", "sections", "risks")
    first = {kind: list(spec[kind]) for kind in kinds}
    ids = [item["id"] for kind in ("metrics", "tables", "charts") for item in first[kind]]
    named = re.compile(r'\b(metric|table|chart)\("(' + "|".join(map(re.escape, ids)) + r')"\)')
    for part in range(2, times + 1):

        def copy(kind: str, ident: str, part: int = part) -> str:
            return f"{ident}_{part}" if kind.startswith("metric") else f"{ident}-{part}"

        for kind in ("metrics", "tables", "charts"):
            spec[kind] += [{**item, "id": copy(kind, item["id"])} for item in first[kind]]
        for metric in spec["metrics"][-len(first["metrics"]) :]:
            metric["key"] = False  # key figures stay a short list
        for section in first["sections"]:
            body = f"part{part}-{section['body']}"
            text = files[section["body"]]
            files[body] = named.sub(lambda m: f'{m[1]}("{copy(m[1], m[2])}")', text)
            lists = {k: [copy(k, i) for i in section.get(k, [])] for k in ("tables", "charts")}
            title = f"{section['title']}, part {part}"
            spec["sections"].append({**section, "title": title, "body": body, **lists})
        spec["risks"] += [{**r, "title": f"{r['title']}, part {part}"} for r in first["risks"]]


def write_briefs(out: Path, count: int, seed: int = 1, times: int = 1) -> list[Path]:
    """Write `count` briefs under `out` (brief-0000, brief-0001, ...), each `times` the
    usual length; returns their folders."""
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.representer.ignore_aliases = lambda data: True  # a brief may not use aliases
    folders = []
    for n in range(count):
        folder = out / f"brief-{n:04d}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        spec, files = brief_files(n, seed)
        if times > 1:
            longer(spec, files, times)
        with (folder / "brief.yaml").open("w", encoding="utf-8") as handle:
            yaml.dump(spec, handle)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        folders.append(folder)
    return folders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--briefs", type=int, default=100, help="how many briefs (default 100)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write them into")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--times", type=int, default=1, help="each brief N times as long")
    args = parser.parse_args()
    folders = write_briefs(args.out, args.briefs, args.seed, args.times)
    print(f"wrote {len(folders)} briefs under {args.out}")


if __name__ == "__main__":
    main()
