"""What changed since the last build: a snapshot of each build, compared with the next.

Every promoted build writes `<out>/<id>/snapshot.json` (the resolved figures, verdict and
risks, and what verification needs later) and `changes.json` (against the previous snapshot,
for the nightly job and the email; docs/build-output.md). The "Changes since <date>" box
shows only when something changed, so identical input gives identical bytes. changes.json
always describes the PDF beside it: an HTML-only preview writes neither file.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen.brief.data import format_with_unit
from reportgen.brief.market import target_text

if TYPE_CHECKING:
    from reportgen.brief.models import Brief

log = logging.getLogger(__name__)

SNAPSHOT_FILE = "snapshot.json"
CHANGES_FILE = "changes.json"


@dataclass(frozen=True)
class Snapshot:
    """One build of a brief, as later builds and `reportgen verify` need to see it."""

    brief: str
    generated: str  # ISO date-time of the build
    as_of: str
    metrics: dict[str, dict[str, str]]  # id -> {"label", "value", "source"}
    verdict: str
    risks: list[str]
    sections: list[str] = field(default_factory=list)  # every h2 title the PDF must show
    sources: list[list[Any]] = field(default_factory=list)  # [number, title] in footnote order
    max_pages: int = 30
    figures: list[list[str]] = field(default_factory=list)  # [kind, title]: attributed in the PDF
    delivered: bool = False  # the snapshot of a delivered edition; `generated`: when it was sent
    # The call as the reader sees it (`call_of`): id -> {"label", "value"}; None: a snapshot
    # from before calls. Then the calls readers received before this build, oldest first:
    # {"date" (the edition's as_of), "rating", "target"} (the back matter's history table).
    call: dict[str, dict[str, str]] | None = None
    delivered_calls: list[dict[str, str]] = field(default_factory=list)

    def calls_delivered(self) -> list[dict[str, str]]:
        """The delivered calls a build compared with this snapshot knows of: its own
        call too when it is a delivered edition's (dated by its as_of, as the brief is)."""
        if not self.delivered:
            return list(self.delivered_calls)
        return [*self.delivered_calls, {"date": self.as_of, **call_values(self.call or {})}]

    def to_json(self) -> bytes:
        return _json(asdict(self))


@dataclass(frozen=True)
class CallChange:
    """A part of the call that moved: rating 'Hold' -> 'Buy', target 'USD 150.00' -> ..."""

    id: str
    label: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class MetricChange(CallChange):
    source: str


@dataclass(frozen=True)
class Changes:
    """The difference between the previous build and this one."""

    brief: str
    since: str | None
    metrics: list[MetricChange] = field(default_factory=list)
    verdict: dict[str, str] | None = None
    risks_added: list[str] = field(default_factory=list)
    risks_removed: list[str] = field(default_factory=list)
    since_edition: bool = False  # compared with the edition readers last received
    call: list[CallChange] = field(default_factory=list)  # rating, target: before the metrics

    @property
    def since_words(self) -> str:
        """ "the edition sent 26 November 2026", or the date of the previous build."""
        if self.since is None:
            return "the last edition"
        when = date.fromisoformat(self.since)
        day = f"{when.day} {when:%B %Y}"
        return f"the edition sent {day}" if self.since_edition else day

    @property
    def moved(self) -> list[CallChange]:
        """The call's parts, then the metrics, that changed: each a label, old and new."""
        return [*self.call, *self.metrics]

    @property
    def any(self) -> bool:
        return any((self.call, self.metrics, self.verdict, self.risks_added, self.risks_removed))

    def to_json(self) -> bytes:
        return _json(asdict(self))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Changes:
        """The inverse of asdict: changes as a build record keeps them."""
        metrics = [MetricChange(**m) for m in raw.get("metrics") or []]
        call = [CallChange(**c) for c in raw.get("call") or []]
        return cls(**{**raw, "metrics": metrics, "call": call})


def _json(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def call_of(brief: Brief) -> dict[str, dict[str, str]]:
    """The call as page one shows it, id -> {"label", "value"}: the one place a new part of
    the call (a scenario value) is added to what changes.json and the history compare."""
    market = brief.market
    if market is None:
        return {}
    call = {}
    if market.rating is not None:
        call["rating"] = {"label": "Rating", "value": market.rating}
    if market.target is not None:
        call["target"] = {"label": "Price target", "value": target_text(market)}
    return call


def call_values(call: dict[str, dict[str, str]]) -> dict[str, str]:
    """The rating and the target of a call as shown ('' for a part it lacks)."""
    return {key: call.get(key, {}).get("value", "") for key in ("rating", "target")}


def take_snapshot(
    brief_id: str,
    brief: Brief,
    generated: str,
    sections: list[str],
    sources: list[tuple[int, str]],
    figures: list[list[str]] | None = None,
    delivered_calls: list[dict[str, str]] | None = None,
) -> Snapshot:
    """The snapshot of a composed brief: formatted figures, so a unit change counts as a change."""
    metrics = {
        m.id: dict(label=m.label, value=format_with_unit(m.value, m.unit, m.high), source=m.source)
        for m in brief.metrics
    }
    currency = brief.market.currency if brief.market else None
    for s in brief.scenarios:  # the v1.2 case values, compared like metrics: readers see them move
        label, value = f"{s.case.capitalize()} case value", format_with_unit(s.value, currency)
        metrics[f"scenario_{s.case}"] = dict(label=label, value=value, source=s.sources[0])
    return Snapshot(
        brief=brief_id,
        generated=generated,
        as_of=brief.as_of.isoformat(),
        metrics=metrics,
        verdict=f"{brief.verdict.label} (risk {brief.verdict.risk}, reward {brief.verdict.reward})",
        risks=[r.title for r in brief.risks],
        sections=sections,
        sources=[[n, title] for n, title in sources],
        max_pages=brief.checks.max_pages,
        figures=figures or [],
        call=call_of(brief),
        delivered_calls=delivered_calls or [],
    )


def load_snapshot(folder: Path) -> Snapshot | None:
    """The previous build's snapshot, or None when there is none or it cannot be read."""
    path = folder / SNAPSHOT_FILE
    if not path.is_file():
        return None
    try:
        return Snapshot(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError, OSError) as exc:
        log.warning("%s: ignored an unreadable snapshot (%s); no changes box this time", path, exc)
        return None


def compare(previous: Snapshot | None, current: Snapshot) -> Changes:
    """Metrics that moved, verdict and risks that changed; nothing on a first build."""
    if previous is None:
        return Changes(current.brief, None)
    metrics = [
        MetricChange(key, entry.get("label", key), old, new, entry.get("source", ""))
        for key, entry, old, new in _moved(previous.metrics, current.metrics)
    ]
    # no call changes against a snapshot that kept no call
    moved = _moved(previous.call, current.call or {}) if previous.call is not None else []
    verdict = {"old": previous.verdict, "new": current.verdict}
    return Changes(
        brief=current.brief,
        since=previous.generated[:10],
        metrics=metrics,
        verdict=None if previous.verdict == current.verdict else verdict,
        risks_added=[r for r in current.risks if r not in previous.risks],
        risks_removed=[r for r in previous.risks if r not in current.risks],
        since_edition=previous.delivered,
        call=[CallChange(key, entry.get("label", key), old, new) for key, entry, old, new in moved],
    )


def _moved(
    before: dict[str, dict[str, str]], now: dict[str, dict[str, str]]
) -> list[tuple[str, dict[str, str], str | None, str | None]]:
    """Each entry (a metric, a part of the call) whose value changed, this build's first,
    then the removed ones: (id, the entry, old value, new value)."""
    moved = []
    for key in [*now, *(k for k in before if k not in now)]:
        old, new = before.get(key), now.get(key)
        was, now_is = (None if e is None else e.get("value") for e in (old, new))
        if was != now_is:
            moved.append((key, new or old or {}, was, now_is))
    return moved
