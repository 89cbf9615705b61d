"""The build clock: the one place that reads SOURCE_DATE_EPOCH.

A build is stamped with a time (the "generated" date on the page). It is
pinned when SOURCE_DATE_EPOCH is set (byte-reproducible builds) or when the
caller names one (the nightly edition); otherwise it is the current time.
A pinned time is part of every brief's build key, so changing it rebuilds.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime


def source_date_epoch() -> datetime | None:
    """SOURCE_DATE_EPOCH as a UTC time, or None when unset or not a whole number."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return datetime.fromtimestamp(int(epoch), UTC) if epoch.isdigit() else None


def pinned_time(default: datetime | None = None) -> datetime | None:
    """The build time when one is pinned: SOURCE_DATE_EPOCH first, then `default`."""
    return source_date_epoch() or default


def build_time(default: datetime | None = None) -> datetime:
    """The time to stamp a build with: pinned if it is, else now (whole seconds)."""
    return pinned_time(default) or datetime.now(UTC).replace(microsecond=0)
