"""The market block's arithmetic: market value, upside, the rating an upside earns, a stale price.

Market value is price × shares (in billions, as shares are); upside is target / price − 1;
both computed, never typed. The price is stale after `market.max_age_days`, else the
brief's `checks.max_age_days` (one number, or its `price` entry), else 7 days.

A metric stating a computed figure differently is a warning, `computed:<metric id>`: an
upside (its id or label says "upside", unit %), a market value ("market value", "market
cap(italisation)", "mkt cap"; unit the market's currency with bn, m or tn), or a multiple
(the label of one) against the subject's. They agree when equal at the metric's own
decimals (27% states 26.7%) or within `checks.tolerance_pct`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reportgen.brief.bounds import canonical
from reportgen.brief.data import decimals_for, format_number, format_with_unit
from reportgen.brief.integrity.freshness import max_age
from reportgen.brief.models import Brief, Market, Metric
from reportgen.brief.spec import Spec
from reportgen.brief.valuation import Comps, format_value
from reportgen.config import RatingConfig
from reportgen.errors import Problem

Rating = RatingConfig  # one rating of the [compliance] scale, as checks and the back matter use it


def market_value(market: Market) -> float | None:
    """Price × shares, in billions of the market's currency; None without shares."""
    return market.price * market.shares if market.shares is not None else None


def upside(market: Market) -> float | None:
    """target / price − 1 as a fraction (0.27 is 27%); None without a target."""
    return market.target / market.price - 1 if market.target is not None else None


def ratings_for(scale: Sequence[Rating], value: float) -> list[str]:
    """The ratings of the scale whose upside rule admits this upside: upside_min is
    inclusive, upside_max exclusive, so adjacent ratings never overlap."""
    return [
        r.name
        for r in scale
        if (r.upside_min is None or value >= r.upside_min - 1e-12)
        and (r.upside_max is None or value < r.upside_max - 1e-12)
    ]


def stale_price(spec: Spec) -> list[Problem]:
    """A warning when the price is older than its limit on `as_of`."""
    market = spec.brief.market
    if market is None:
        return []
    age = (spec.brief.as_of - market.date).days
    limit = max_age(spec.brief, "price", market.max_age_days)
    if age <= limit:
        return []
    message = (
        f"stale price {market.currency} {market.price:g} ({market.date.isoformat()}): "
        f"{age} days old on {spec.brief.as_of.isoformat()}, limit {limit} days for prices "
        "(max_age_days)"
    )
    values = (market.price, market.date.isoformat())
    return [spec.finding(("market", "date"), message, "stale-price", values)]


def is_v12(brief: Brief) -> bool:
    """Does the brief use a v1.2 key? Then it is held to every v1.2 rule."""
    market = brief.market
    argued = market is not None and (market.method is not None or market.target_risks is not None)
    named = any(a.role or a.email for a in brief.authors)
    return bool(brief.scenarios or brief.estimates or argued or named)


def target_argued(spec: Spec) -> list[Problem]:
    """A target needs its method and the risks to it (FINRA Rule 2241 asks for both).

    An error for a v1.2 brief; for a v1.1 brief, written before the rule, a warning a
    reviewer can accept (its findings `target:method`, `target:target_risks`), so it
    still builds, as a draft until someone has looked."""
    market = spec.brief.market
    if market is None:
        return []
    if market.target is None:
        return [
            spec.problem(("market", key), f"`{key}:` argues a price target: add `target:`")
            for key in ("method", "target_risks")
            if getattr(market, key) is not None
        ]
    problems = []
    for key, what in (("method", "how it is derived"), ("target_risks", "what could stop it")):
        if canonical(getattr(market, key) or "").strip():  # a soft hyphen alone prints nothing
            continue
        message = f"price target {format_number(market.target)} needs `{key}:` ({what}, Markdown)"
        loc = ("market", "target")
        if is_v12(spec.brief):
            problems.append(spec.problem(loc, message))
        else:
            problems.append(spec.finding(loc, message, f"target:{key}", (market.target,)))
    return problems


def target_text(market: Market, target: float | None = None) -> str:
    """A price target as every reader sees it (page, history, email): 'USD 160.00'."""
    value = market.target if target is None else target
    return f"{market.currency} {format_number(value or 0.0, 2)}"


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
        values = (metric.value, round(computed, 6))  # a new price or target reopens it
        problems.append(
            spec.finding(("metrics", i, "value"), message, f"computed:{metric.id}", values)
        )
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
