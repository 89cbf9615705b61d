"""A metric as the figure a reader sees, for the findings about it (errors.Figure)."""

from __future__ import annotations

from reportgen.brief.models import Metric
from reportgen.errors import Figure


def figure_of(metric: Metric) -> Figure:
    """Value, unit, period, source and range end: what an acceptance of a finding binds to."""
    return Figure(metric.value, metric.unit or "", metric.period or "", metric.source, metric.high)
