"""One `Project` value per command: what reportgen.toml says, read once, passed explicitly.

Every build path (build, nightly, serve, local and Dask workers) gets the same
value: the config and its [limits], the [compliance] rating scale and back
matter, the template folders, the theme (the look only), the chart cache and
the build clock. A command builds it once with `load_project`; nothing below
reaches for it through a global, a context variable or an attribute lookup.

The build clock stamps the "generated" date on the page. It is pinned when
SOURCE_DATE_EPOCH is set (byte-reproducible builds; this is the one place that
reads it) or when the caller names a time (the nightly edition), else it is the
current time. A pinned time is part of every brief's build key.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from reportgen.brief.market import Rating
from reportgen.cache import tree_digest
from reportgen.config import Config, Limits, VerdictConfig
from reportgen.record import read_record
from reportgen.render.backmatter import BackMatter, Call, current_call, load_back_matter
from reportgen.render.charts import REDRAW, ChartStore
from reportgen.render.environment import Renderer
from reportgen.render.theme import Theme, load_theme, template_dirs


@dataclass(frozen=True)
class Project:
    """Everything a brief is built with besides its own folder (picklable: sent to workers)."""

    config: Config = field(default_factory=Config)
    template_dirs: tuple[Path, ...] = ()  # the project's overrides, before the built-in theme
    theme: Theme = field(default_factory=Theme)
    back_matter: BackMatter | None = None  # [compliance], with the coverage's ratings
    charts: ChartStore = REDRAW  # where drawn charts are kept (cache.ChartCache), or none
    clock: datetime | None = None  # the pinned build time; None: the time of each build

    @property
    def limits(self) -> Limits:
        return self.config.limits

    @property
    def verdict(self) -> VerdictConfig:
        """The [verdict] thresholds a brief's verdict levels are checked against (v1.2)."""
        return self.config.verdict

    @property
    def ratings(self) -> tuple[Rating, ...] | None:
        """The [compliance] rating scale a brief's rating is checked against, if any."""
        return (self.back_matter.ratings or None) if self.back_matter else None

    def renderer(self) -> Renderer:
        """The Jinja environment for this look (one per process: templates compile once)."""
        return _renderer(self.template_dirs, self.theme, self.back_matter)

    def now(self) -> datetime:
        """The time a build is stamped with: pinned (whole seconds) or now."""
        return pinned_time(self.clock) or datetime.now(UTC).replace(microsecond=0)


def pinned_time(default: datetime | None = None) -> datetime | None:
    """SOURCE_DATE_EPOCH as a UTC time when it is a whole number, else `default`."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return datetime.fromtimestamp(int(epoch), UTC) if epoch.isdigit() else default


@lru_cache(maxsize=4)
def _renderer(
    template_dirs: tuple[Path, ...], theme: Theme, back_matter: BackMatter | None
) -> Renderer:
    return Renderer(template_dirs, theme, back_matter)


def load_project(
    config: Config,
    templates: Path | None = None,
    *,
    clock: datetime | None = None,
    charts: ChartStore = REDRAW,
) -> Project:
    """The project of a loaded config (ConfigError when its theme, templates or back matter
    is unusable); `templates`: the --templates override."""
    return Project(
        config,
        template_dirs(config, templates),
        load_theme(config),
        load_back_matter(config, latest_publishable_call),
        charts,
        clock,
    )


def latest_publishable_call(folder: Path, config: Config, scale: Sequence[Rating]) -> Call | None:
    """A brief's latest publishable call for the ratings distribution, None when it never
    had one: its last build's decision when that build was made from its current files,
    else its checks and review (`current_call`); for a draft, the call of its latest
    publishable build, which each build record carries forward."""
    record = read_record(config.resolve(config.build.out), folder.resolve().name)
    earlier = record.last_publishable_call if record else None
    try:
        if record is not None and record.inputs and record.inputs == tree_digest(folder):
            return earlier
    except OSError:  # an unreadable folder: decided by its checks below
        pass
    now = current_call(folder, config, scale)
    return earlier if now is None else now
