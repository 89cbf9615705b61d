"""The compliance back matter: [compliance] of reportgen.toml plus a project-level pass.

The rating distribution is the share of the project's coverage (every brief under
`[build].briefs`, whatever one command builds) under each rating, read once per command. A
draft is no call anyone published: it counts with its latest publishable call, if any
(reportgen.project.latest_publishable_call). It is part of every brief's build key: a
rating changed in one brief rebuilds the others' back matter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path

from markdown_it import MarkdownIt
from markupsafe import Markup

from reportgen.brief.bounds import bad_character, human_bytes, raise_hint, size_problem
from reportgen.brief.market import Rating, target_text
from reportgen.brief.models import Brief
from reportgen.brief.spec import find_briefs
from reportgen.config import ComplianceConfig, Config, ConfigError
from reportgen.errors import Problem
from reportgen.render.changes import call_of, call_values


@dataclass(frozen=True)
class Share:
    """One rating's share of the rated coverage."""

    rating: str
    count: int
    percent: str  # '67%'


@dataclass(frozen=True)
class BackMatter:
    """Render-ready compliance values."""

    ratings: tuple[Rating, ...]
    certification: str
    disclosures_html: Markup  # Markdown with raw HTML escaped
    distribution: tuple[Share, ...]
    covered: int  # publishable briefs in the project (drafts are no call)
    rated: int  # of which carry a rating of the scale


@dataclass(frozen=True)
class CallRow:
    """A row of the rating and price-target history: a call as readers received it."""

    date: date
    rating: str  # '' when the call had none
    target: str  # as page one shows it, 'USD 160.00'; '' when none


def call_history(brief: Brief, delivered: Sequence[dict[str, str]]) -> list[CallRow]:
    """The history table: `market.history` for calls made before the first delivered
    edition, every delivered edition's call, then this brief's (each dated by its as_of).
    A row that repeats the call above it is left out: a row is a change of call."""
    market = brief.market
    if market is None:
        return []
    first = date.fromisoformat(delivered[0]["date"]) if delivered else None
    rows = [
        CallRow(c.date, c.rating or "", target_text(market, c.target) if c.target else "")
        for c in market.history
        if first is None or c.date < first
    ]
    rows += [CallRow(date.fromisoformat(c["date"]), c["rating"], c["target"]) for c in delivered]
    rows.append(CallRow(brief.as_of, **call_values(call_of(brief))))
    changed = [b for a, b in pairwise(rows) if (a.rating, a.target) != (b.rating, b.target)]
    return [rows[0], *changed]


Call = dict[str, str]  # {"rating": ...}: a brief's call as the distribution counts it
PublishedCall = Callable[[Path, Config, Sequence[Rating]], Call | None]
"""(brief folder, config, scale) -> the brief's latest publishable call, None: never any."""


def load_back_matter(config: Config, published: PublishedCall | None = None) -> BackMatter | None:
    """The back matter of a project, None when reportgen.toml has no [compliance].
    `published`: each brief's latest publishable call (default: `current_call`)."""
    compliance = config.compliance
    if compliance is None:
        return None
    _refuse_invisible(config, compliance)
    ratings = tuple(compliance.ratings)
    found = project_ratings(config, ratings, published or current_call)
    counts = Counter(r for r in found if r in {x.name for x in ratings})
    disclosures = _disclosures(config, compliance)
    shares, rated = distribution([r.name for r in ratings], counts), sum(counts.values())
    return BackMatter(ratings, compliance.certification, disclosures, shares, len(found), rated)


def distribution(names: list[str], counts: Counter[str]) -> tuple[Share, ...]:
    """Each rating of the scale, in the scale's order, with its share of the rated briefs."""
    total = sum(counts[n] for n in names)
    return tuple(
        Share(n, counts[n], f"{round(100 * counts[n] / total)}%" if total else "—") for n in names
    )


def project_ratings(
    config: Config, scale: Sequence[Rating], published: PublishedCall
) -> list[str | None]:
    """The rating of each brief of the project with a publishable call (None for one
    without a rating); a brief that never had one is left out."""
    folders = find_briefs([config.resolve(p) for p in config.build.briefs])
    calls = [published(folder, config, scale) for folder in folders]
    return [call.get("rating") for call in calls if call is not None]


def current_call(folder: Path, config: Config, scale: Sequence[Rating]) -> Call | None:
    """The brief's current call when its checks and review.yaml make it publishable (as
    its build will decide), else None: a draft or a brief with errors is no call."""
    from reportgen.brief.spec import load_spec  # lazy: read only to decide the distribution
    from reportgen.brief.validate import validate

    try:
        checked = validate(load_spec(folder, config.limits), scale or None, config.verdict)
    except Exception:  # a brief that cannot be read or has errors: no call of it counts
        return None
    if not checked.publishable:
        return None
    market = checked.spec.brief.market
    return {"rating": market.rating} if market and market.rating is not None else {}


def _disclosures(config: Config, compliance: ComplianceConfig) -> Markup:
    """The disclosures as HTML: a Markdown file beside reportgen.toml, or the text itself."""
    text, name = compliance.disclosures, compliance.disclosures.strip()
    where, in_file = config.path or Path("reportgen.toml"), False

    def refused(message: str, line: int | None = None) -> ConfigError:
        return ConfigError(str(Problem(where, line, "compliance.disclosures", message)))

    if name.lower().endswith(".md") and "\n" not in name:
        path, limit = config.resolve(name), config.limits.markdown_bytes
        if path.exists() and not path.is_file():  # a device: never read
            raise refused(f"'{path.name}' is not a regular file ({path})")
        if path.is_file() and (wrong := size_problem(path, limit, "markdown_bytes")):
            raise refused(wrong)
        try:
            with path.open("rb") as handle:  # bounded: /proc files stat as 0 bytes
                data = handle.read(limit + 1)
            text = data.decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise refused(f"'{name}' cannot be read ({exc.__class__.__name__}: {path})") from exc
        if len(data) > limit:
            hint = raise_hint("markdown_bytes")
            raise refused(f"'{path.name}' is over the limit of {human_bytes(limit)} ({hint})")
        where, in_file = path, True
    if found := bad_character(text):
        raise refused(found[1], text.count("\n", 0, found[0]) + 1 if in_file else None)
    return Markup(MarkdownIt("commonmark", {"html": False}).render(text))  # raw HTML escaped


def _refuse_invisible(config: Config, compliance: ComplianceConfig) -> None:
    """The back matter's words, like a brief's, hold no invisible character (a bidi
    override can make a disclosure read differently from what was written)."""
    where = config.path or Path("reportgen.toml")
    texts = [("compliance.certification", compliance.certification)]
    for i, rating in enumerate(compliance.ratings):
        texts += [(f"compliance.ratings[{i}].name", rating.name)]
        texts += [(f"compliance.ratings[{i}].definition", rating.definition)]
    for key, text in texts:
        if found := bad_character(text):
            raise ConfigError(str(Problem(where, None, key, found[1])))
