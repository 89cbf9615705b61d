"""The market block's arithmetic: market value, upside, the rating an upside earns, a stale price.

Market value is price × shares (in billions, as shares are); upside is target / price − 1;
both computed, never typed. The price is stale after `market.max_age_days`, else the
brief's `checks.max_age_days` (one number, or its `price` entry), else 7 days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportgen.brief.bounds import canonical
from reportgen.brief.data import format_number
from reportgen.brief.integrity.freshness import max_age
from reportgen.brief.models import Brief, Market
from reportgen.brief.review import finding
from reportgen.brief.spec import Spec
from reportgen.config import RatingConfig
from reportgen.errors import Problem


@dataclass(frozen=True)
class Rating:
    """One rating of the [compliance] scale, as checks and the back matter use it."""

    name: str
    definition: str = ""
    upside_min: float | None = None  # inclusive, a fraction: 0.15 is 15%
    upside_max: float | None = None  # exclusive

    @classmethod
    def of(cls, config: RatingConfig) -> Rating:
        return cls(config.name, config.definition, config.upside_min, config.upside_max)


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
    return [finding(spec, ("market", "date"), message, "stale-price", values)]


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
            problems.append(finding(spec, loc, message, f"target:{key}", (market.target,)))
    return problems


def target_text(market: Market, target: float | None = None) -> str:
    """A price target as every reader sees it (page, history, email): 'USD 160.00'."""
    value = market.target if target is None else target
    return f"{market.currency} {format_number(value or 0.0, 2)}"
