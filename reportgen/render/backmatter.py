"""The compliance back matter: [compliance] of reportgen.toml plus a project-level pass.

The rating distribution is the share of the project's coverage under each
rating: every brief under `[build].briefs` (the project's coverage, whatever
subset one command builds) is read for its `market.rating` before any brief is
built, once per command. The result is part of the `Project` (reportgen.project),
so every build path gets it, and of every brief's build key: a rating changed
in one brief rebuilds the others' back matter.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

from reportgen.brief.bounds import bad_character, human_bytes, raise_hint, size_problem
from reportgen.brief.market import Rating
from reportgen.brief.spec import find_briefs
from reportgen.brief.yamlfile import scalar_at
from reportgen.config import ComplianceConfig, Config, ConfigError, Limits
from reportgen.errors import Problem


@dataclass(frozen=True)
class Share:
    """One rating's share of the rated coverage."""

    rating: str
    count: int
    percent: str  # '67%'


@dataclass(frozen=True)
class BackMatter:
    """Render-ready compliance values; `disclosures_html` is trusted (raw HTML escaped)."""

    ratings: tuple[Rating, ...]
    certification: str
    disclosures_html: str
    distribution: tuple[Share, ...]
    covered: int  # briefs in the project
    rated: int  # of which carry a rating of the scale


def load_back_matter(config: Config) -> BackMatter | None:
    """The back matter of a project, None when reportgen.toml has no [compliance]."""
    compliance = config.compliance
    if compliance is None:
        return None
    _refuse_invisible(config, compliance)
    ratings = tuple(Rating.of(r) for r in compliance.ratings)
    found = project_ratings(config)
    counts = Counter(r for r in found if r in {x.name for x in ratings})
    return BackMatter(
        ratings,
        compliance.certification,
        _disclosures(config, compliance),
        distribution([r.name for r in ratings], counts),
        len(found),
        sum(counts.values()),
    )


def distribution(names: list[str], counts: Counter[str]) -> tuple[Share, ...]:
    """Each rating of the scale, in the scale's order, with its share of the rated briefs."""
    total = sum(counts[n] for n in names)
    return tuple(
        Share(n, counts[n], f"{round(100 * counts[n] / total)}%" if total else "—") for n in names
    )


def project_ratings(config: Config) -> list[str | None]:
    """The `market.rating` of every brief of the project (None for a brief without one)."""
    folders = find_briefs([config.resolve(p) for p in config.build.briefs])
    return [_rating_of(folder / "brief.yaml", config.limits) for folder in folders]


def _rating_of(path: Path, limits: Limits) -> str | None:
    """A brief's rating, read within the [limits] but not validated: a brief that cannot be
    read (a bad date, an alias bomb, a huge file) has no rating here and fails its own build,
    so one hostile brief never stops the others' back matter."""
    return scalar_at(path, limits, ("market", "rating"))


def _disclosures(config: Config, compliance: ComplianceConfig) -> str:
    """The disclosures as HTML: a Markdown file beside reportgen.toml, or the text itself."""
    text = compliance.disclosures
    where, in_file = config.path or Path("reportgen.toml"), False
    if text.strip().lower().endswith(".md") and "\n" not in text.strip():
        path = config.resolve(text.strip())
        if wrong := _unreadable(path, config.limits):  # a device or a huge file: never read
            raise ConfigError(str(Problem(where, None, "compliance.disclosures", wrong)))
        limit = config.limits.markdown_bytes
        try:
            with path.open("rb") as handle:  # bounded: /proc files stat as 0 bytes
                data = handle.read(limit + 1)
            text = data.decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            message = f"'{text.strip()}' cannot be read ({exc.__class__.__name__}: {path})"
            raise ConfigError(str(Problem(where, None, "compliance.disclosures", message))) from exc
        if len(data) > limit:
            message = (
                f"'{path.name}' is over the limit of {human_bytes(limit)} "
                f"({raise_hint('markdown_bytes')})"
            )
            raise ConfigError(str(Problem(where, None, "compliance.disclosures", message)))
        where, in_file = path, True
    if found := bad_character(text):
        line = text.count("\n", 0, found[0]) + 1 if in_file else None
        raise ConfigError(str(Problem(where, line, "compliance.disclosures", found[1])))
    return MarkdownIt("commonmark", {"html": False}).render(text)


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


def _unreadable(path: Path, limits: Limits) -> str | None:
    """Why the disclosures file is not read: not a regular file, or over [limits].markdown_bytes."""
    if path.exists() and not path.is_file():
        return f"'{path.name}' is not a regular file ({path})"
    return size_problem(path, limits.markdown_bytes, "markdown_bytes") if path.is_file() else None
