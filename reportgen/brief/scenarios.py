"""The call measured (brief-format v1.2): scenarios, their upsides, and the levels they imply.

Each case's upside is value / `market.price` − 1, and the probability-weighted value's
(Σ probability × value) the same way. The verdict's reward level follows the bull upside
and its risk level the bear downside, at the `[verdict]` thresholds of reportgen.toml.
Warnings (findings a reviewer can accept): a target more than 5% from both the base and
the weighted value, and a verdict.risk or verdict.reward the scenarios do not imply.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.brief.data import decimals_for, format_number
from reportgen.brief.estimates import KnownSource
from reportgen.brief.models import CASES, Brief, Level4, Market, Scenario
from reportgen.brief.spec import Spec
from reportgen.brief.valuation import format_premium
from reportgen.config import DEFAULT_VERDICT, RewardLevels, RiskLevels, VerdictConfig
from reportgen.errors import Problem

PROBABILITY_TOLERANCE = 0.005
TARGET_TOLERANCE = 0.05  # a target this close to the base or the weighted value is argued
LEVELS: tuple[Level4, ...] = ("low", "medium", "high", "very-high")
EPSILON = 1e-12  # a bull upside of exactly +20% is medium reward, whatever the float error


@dataclass(frozen=True)
class Measured:
    """The scenarios against the price: what the page shows and the verdict is checked by."""

    price: float
    cases: dict[str, Scenario]  # bull, base, bear
    weighted: float  # Σ probability × value

    def upside(self, case: str) -> float:
        """value / price − 1 of a case (a fraction; negative is a downside)."""
        return self.cases[case].value / self.price - 1

    @property
    def weighted_upside(self) -> float:
        return self.weighted / self.price - 1


def measure(brief: Brief) -> Measured | None:
    """The measured scenarios of a checked brief; None when it has none."""
    if not brief.scenarios or brief.market is None:
        return None
    cases: dict[str, Scenario] = {s.case: s for s in brief.scenarios}
    weighted = sum(s.probability * s.value for s in brief.scenarios)
    return Measured(brief.market.price, cases, weighted)


def reward_level(bull_upside: float, levels: RewardLevels) -> Level4:
    """The highest reward level whose threshold the bull upside reaches."""
    reached = [bull_upside >= t - EPSILON for t in (levels.medium, levels.high, levels.very_high)]
    return LEVELS[sum(reached)]


def risk_level(bear_downside: float, levels: RiskLevels) -> Level4:
    """The highest risk level whose threshold the bear downside falls to."""
    reached = [bear_downside <= t + EPSILON for t in (levels.medium, levels.high, levels.very_high)]
    return LEVELS[sum(reached)]


def check_scenarios(
    spec: Spec, known_source: KnownSource, verdict: VerdictConfig = DEFAULT_VERDICT
) -> list[Problem]:
    """Every scenario rule; the warnings only once the scenarios themselves are sound."""
    brief = spec.brief
    if not brief.scenarios:
        return []
    for i, scenario in enumerate(brief.scenarios):
        for j, sid in enumerate(scenario.sources):
            known_source(("scenarios", i, "sources", j), sid)
    if brief.market is None:
        message = "scenarios need a market block (the price they are measured against)"
        return [spec.problem(("scenarios",), message)]
    problems = _cases(spec) or _probabilities(spec) + _order(spec)
    if problems:
        return problems
    measured = measure(brief)
    assert measured is not None
    return _target(spec, brief.market, measured) + _verdict(spec, measured, verdict)


def _cases(spec: Spec) -> list[Problem]:
    """Each of bull, base and bear exactly once; past three, one error (not one a row)."""
    scenarios = spec.brief.scenarios
    if len(scenarios) > len(CASES):
        message = f"{len(scenarios):,} cases: give exactly three, bull, base and bear"
        return [spec.problem(("scenarios", len(CASES)), message)]
    problems = []
    first: dict[str, int] = {}
    for i, scenario in enumerate(scenarios):
        if (at := first.setdefault(scenario.case, i)) != i:
            line = spec.place(("scenarios", at)).line
            message = f"case '{scenario.case}' is given twice (first at line {line})"
            problems.append(spec.problem(("scenarios", i, "case"), message))
    missing = [c for c in CASES if c not in first]
    if missing:
        message = f"no {' or '.join(missing)} case: give bull, base and bear"
        problems.append(spec.problem(("scenarios",), message))
    return problems


def _probabilities(spec: Spec) -> list[Problem]:
    total = sum(s.probability for s in spec.brief.scenarios)
    if abs(total - 1) <= PROBABILITY_TOLERANCE + EPSILON:
        return []
    shown = " + ".join(
        format_number(s.probability, decimals_for([s.probability], 6)) for s in spec.brief.scenarios
    )
    total_shown = format_number(total, decimals_for([total], 3))
    message = f"probabilities add up to {total_shown} ({shown}), not 1 (±0.005)"
    return [spec.problem(("scenarios",), message)]


def _order(spec: Spec) -> list[Problem]:
    """bear < base < bull, reported at the value that breaks the order."""
    index: dict[str, int] = {s.case: i for i, s in enumerate(spec.brief.scenarios)}
    value: dict[str, float] = {s.case: s.value for s in spec.brief.scenarios}
    problems = []
    for low, high in (("bear", "base"), ("base", "bull")):
        if not value[low] < value[high]:
            message = (
                f"{low} value {format_number(value[low])} must be below the {high} value "
                f"{format_number(value[high])} (bear < base < bull)"
            )
            problems.append(spec.problem(("scenarios", index[low], "value"), message))
    return problems


def _target(spec: Spec, market: Market, measured: Measured) -> list[Problem]:
    """A target far from both the base and the weighted value is not argued by them."""
    target = market.target
    if target is None:
        return []
    base = measured.cases["base"].value
    gaps = [abs(target / v - 1) for v in (base, measured.weighted)]
    if min(gaps) <= TARGET_TOLERANCE + EPSILON:
        return []
    weighted = format_number(measured.weighted, 2)
    message = (
        f"price target {format_number(target)} is more than 5% from both the base value "
        f"{format_number(base)} ({format_premium(target / base - 1)}) and the probability-weighted "
        f"value {weighted} ({format_premium(target / measured.weighted - 1)}): "
        "set the target from the scenarios, or say in market.method why not"
    )
    return [
        spec.finding(("market", "target"), message, "scenarios:target", (target, base, weighted))
    ]


def _verdict(spec: Spec, measured: Measured, verdict: VerdictConfig) -> list[Problem]:
    """verdict.reward against the bull upside, verdict.risk against the bear downside."""
    stated = spec.brief.verdict
    checks = [
        ("reward", stated.reward, "bull", reward_level(measured.upside("bull"), verdict.reward)),
        ("risk", stated.risk, "bear", risk_level(measured.upside("bear"), verdict.risk)),
    ]
    problems = []
    for what, said, case, implied in checks:
        if said == implied:
            continue
        shown = format_premium(measured.upside(case))
        message = (
            f"verdict.{what} is {said} but the {case} case ({shown} to the price) implies "
            f"{implied} at the [verdict] thresholds: change the level, or accept it with a "
            "reason (reportgen review)"
        )
        values = (said, implied, shown)
        problems.append(spec.finding(("verdict", what), message, f"verdict:{what}", values))
    return problems
