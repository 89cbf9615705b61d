"""A metric that states a computed figure differently from how reportgen computes it: a
warning with the finding `computed:<metric id>`.

Compared: an upside (its id or label says "upside", unit %) with target / price − 1; a
market value ("market value", "market cap(italisation)", "mkt cap"; unit the market's
currency with bn, m or tn) with price × shares; a multiple (the label of one) with the
subject's computed multiple. They agree when equal at the metric's own decimals (27% states
26.7%) or within `checks.tolerance_pct`.
"""

from __future__ import annotations

import re
from dataclasses import replace

from reportgen.brief.data import decimals_for, format_number, format_with_unit
from reportgen.brief.market import market_value, upside
from reportgen.brief.models import Market, Metric
from reportgen.brief.spec import Spec
from reportgen.brief.valuation import Comps, format_value
from reportgen.errors import Problem

_UPSIDE = re.compile(r"\bupside\b", re.IGNORECASE)
_MARKET_VALUE = re.compile(
    r"market[ _]?(?:value|cap(?:itali[sz]ation)?)\b|\bmkt[ _]?cap\b", re.IGNORECASE
)
_SCALES = {"bn": 1.0, "b": 1.0, "billion": 1.0, "m": 1e-3, "mn": 1e-3, "million": 1e-3}
_SCALES.update({"tn": 1e3, "trillion": 1e3})


def stated_figures(spec: Spec, comps: Comps | None) -> list[Problem]:
    """Metrics that state an upside, a market value or a multiple unlike the computed one."""
    brief = spec.brief
    problems = []
    for i, metric in enumerate(brief.metrics):
        found = _computed_for(metric, brief.market, comps)
        if found is None or _agree(metric, found[0], brief.checks.tolerance_pct):
            continue
        computed, shown, how = found
        stated = format_with_unit(metric.value, metric.unit)
        message = f"'{metric.label}' states {stated} but reportgen computes {shown} ({how})"
        problem = spec.problem(("metrics", i, "value"), message, "warning")
        values = (metric.value, round(computed, 6))  # a new price or target reopens it
        problems.append(replace(problem, finding=f"computed:{metric.id}", values=values))
    return problems


def _computed_for(
    metric: Metric, market: Market | None, comps: Comps | None
) -> tuple[float, str, str] | None:
    """(the computed value in the metric's unit, as shown, how) for a metric that states one."""
    words = f"{metric.id} {metric.label}".replace("_", " ")
    unit = (metric.unit or "").strip()
    if market is not None and _UPSIDE.search(words) and unit == "%":
        value = upside(market)
        if value is not None:
            how = f"target {market.target:g} / price {market.price:g} − 1"
            return value * 100, f"{value * 100:.1f}%", how
    if market is not None and _MARKET_VALUE.search(words):
        value = market_value(market)
        parts = unit.split()
        if value is not None and len(parts) == 2 and parts[0] == market.currency:
            scale = _SCALES.get(parts[1].lower())
            if scale is not None:
                how = f"price {market.price:g} × {market.shares:g}bn shares"
                in_unit = value / scale
                return in_unit, f"{market.currency} {format_number(in_unit, 1)}{parts[1]}", how
    if comps is not None and comps.subject_row is not None:
        wanted = " ".join(metric.label.lower().split())  # case and spacing aside
        for j, label in enumerate(comps.labels):
            value_j = comps.subject_row.values[j]
            if " ".join(label.lower().split()) == wanted and isinstance(value_j, float):
                shown = format_value(value_j, comps.divisions[j])
                return value_j, shown, f"{comps.subject_row.name}'s {label} in the comparables"
    return None


def _agree(metric: Metric, computed: float, tolerance_pct: float) -> bool:
    """Equal at the metric's own rounding, or within the brief's tolerance."""
    gap, half = abs(metric.value - computed), 0.5 * 10 ** -decimals_for([metric.value])
    return gap <= half + 1e-9 or gap <= abs(computed) * tolerance_pct / 100
