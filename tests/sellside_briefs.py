"""Brief specs and files for the v1.1 tests: market block, comparables, catalysts, compliance."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tests.conftest import MINIMAL

# P/E = price / eps; Globex's EPS is negative (n.m.), Initech's zero (n.m.), Umbrella's missing (n.a.)
COMPS_CSV = (
    "company,price,eps,ev,ebitda\n"
    "Acme,100,5,500,50\n"  # P/E 20, EV/EBITDA 10
    "Hooli,60,4,300,20\n"  # 15, 15
    "Globex,40,-2,200,25\n"  # n.m., 8
    "Initech,30,0,90,10\n"  # n.m., 9
    "Umbrella,,3,120,\n"  # n.a., n.a.
    "Stark,90,3,400,40\n"  # 30, 10
)
PRICES_CSV = "date,close\n2026-05-20,80\n2026-08-20,90\n2026-11-20,100\n"

COMPLIANCE_TOML = """\
[build]
briefs = ["briefs"]

[compliance]
ratings = [
  {name = "Buy",  definition = "Expected total return above 15% over 12 months", upside_min = 0.15},
  {name = "Hold", definition = "Expected total return between -10% and 15% over 12 months", upside_min = -0.10, upside_max = 0.15},
  {name = "Sell", definition = "Expected total return below -10% over 12 months", upside_max = -0.10},
]
certification = "The analysts named on this brief certify that the views expressed are their own."
disclosures = "disclosures.md"
retention_days = 1095
"""
DISCLOSURES_MD = "**Firm disclosures.** We hold no position. <script>alert(1)</script>\n"


def market_spec(
    rating: str = "Buy", target: float = 130, price: float = 100, **market: Any
) -> dict[str, Any]:
    """MINIMAL plus a market block (upside = target / price - 1), comps and two catalysts."""
    spec = copy.deepcopy(MINIMAL)
    spec["sources"]["quote"] = {"title": "Quote feed", "publisher": "Exchange"}
    spec["market"] = {
        "price": price,
        "currency": "USD",
        "date": "2026-11-20",
        "shares": 2.5,
        "target": target,
        "horizon": "12 months",
        "rating": rating,
        "source": "quote",
        "history": [{"date": "2026-05-20", "rating": "Hold", "target": 90}],
        "method": "The peers' median multiple on next year's earnings.",  # v1.2, with a target
        "target_risks": "Competition; a slower cloud market.",
        **market,
    }
    spec["prices"] = "prices.csv"
    spec["valuation"] = {
        "data": "comps.csv",
        "subject": "Acme",
        "multiples": [
            {"label": "P/E 2026", "of": "price / eps"},
            {"label": "EV/EBITDA 2026", "of": "ev / ebitda"},
        ],
        "source": "alpha",
    }
    spec["catalysts"] = [
        {"when": "2027-Q1", "event": "Q4 results", "watch": "cloud growth", "sources": ["beta"]},
        {"when": "2026-12", "event": "Investor day", "sources": ["alpha"]},
    ]
    return spec


FILES = {"comps.csv": COMPS_CSV, "prices.csv": PRICES_CSV}


def write_project(root: Path) -> Path:
    """A project folder: reportgen.toml with [compliance] and its disclosures file."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "reportgen.toml").write_text(COMPLIANCE_TOML, encoding="utf-8")
    (root / "disclosures.md").write_text(DISCLOSURES_MD, encoding="utf-8")
    return root
