"""One `Project` value per command: what reportgen.toml says, read once, passed explicitly
to every build path (build, nightly, serve, local and Dask workers), never a global. Its
clock is pinned by SOURCE_DATE_EPOCH (read only here) or the caller (the nightly edition),
else it is the time of each build; a pinned time is part of the build key.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from reportgen.brief.market import Rating
from reportgen.cache import tree_digest
from reportgen.config import Config
from reportgen.record import read_record
from reportgen.render.backmatter import BackMatter, Call, current_call, load_back_matter
from reportgen.render.charts import REDRAW, ChartStore
from reportgen.render.environment import Renderer, template_dirs
from reportgen.render.theme import Theme, load_theme


@dataclass(frozen=True)
class Project:
    """Everything a brief is built with besides its own folder (picklable: sent to workers)."""

    config: Config = field(default_factory=Config)
    template_dirs: tuple[Path, ...] = ()  # the project's overrides, before the built-in theme
    theme: Theme = field(default_factory=Theme)
    back_matter: BackMatter | None = None  # [compliance], with the coverage's ratings
    charts: ChartStore = REDRAW  # where drawn charts are kept (cache.ChartCache), or none
    clock: datetime | None = None  # the pinned build time; None: the time of each build

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


_renderer = lru_cache(maxsize=4)(Renderer)  # one per look and process


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
    with contextlib.suppress(OSError):  # an unreadable folder: decided by its checks below
        if record is not None and record.inputs and record.inputs == tree_digest(folder):
            return earlier
    now = current_call(folder, config, scale)
    return earlier if now is None else now
