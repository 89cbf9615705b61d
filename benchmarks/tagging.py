"""What a tagged (PDF/UA-1) PDF costs: the example brief, untagged and tagged, in turns.

    .venv/bin/python benchmarks/tagging.py             # 7 pairs, about a minute on 2 cores
    .venv/bin/python benchmarks/tagging.py --runs 11

One warm process (a first build is thrown away). Each run times the PDF stage
(layout, box checks, write: `render_pdf`, the only stage tagging touches)
untagged and tagged (each first in every other run), and a whole in-memory build of the example as
`reportgen build` makes it (tagged). Figures are medians; the ratio is the
median of the per-pair ratios, so a change in the machine's load hits both
sides alike. The cost of tagging in a build is the median extra PDF time over
the median build.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from reportgen.build import make_brief
from reportgen.pdf.layout import render_pdf
from reportgen.project import Project

EXAMPLE = Path(__file__).resolve().parent.parent / "seeds" / "alibaba-ai-2026"
CLOCK = datetime(2026, 11, 21, 6, tzinfo=UTC)


def seconds(work: object) -> float:
    """Wall seconds of one call of `work`."""
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="pairs to time (at least 5)")
    runs = max(5, parser.parse_args().runs)
    project = Project(clock=CLOCK)
    built = make_brief(EXAMPLE, project, None)  # warm-up, and the HTML to lay out
    if not built.ok or built.html is None:
        raise SystemExit(f"the example did not build: {[str(p) for p in built.problems]}")
    html, where = built.html, EXAMPLE / "example.pdf"
    plain, tagged, builds = [], [], []
    for run in range(runs):
        for tag in (False, True) if run % 2 == 0 else (True, False):  # neither always goes first
            took = seconds(lambda: render_pdf(html, EXAMPLE, where, tagged=tag))  # noqa: B023
            (tagged if tag else plain).append(took)
        builds.append(seconds(lambda: make_brief(EXAMPLE, project, None)))
    ratio = statistics.median(t / p for p, t in zip(plain, tagged, strict=True))
    extra = statistics.median(t - p for p, t in zip(plain, tagged, strict=True))
    build = statistics.median(builds)
    print(f"load average {os.getloadavg()[0]:.1f}, {runs} pairs, median seconds")
    print(f"PDF stage untagged  {statistics.median(plain):.3f}")
    print(f"PDF stage tagged    {statistics.median(tagged):.3f}   ratio {ratio:.3f}x")
    print(f"whole build, tagged {build:.3f}   tagging adds {extra:+.3f} s = {extra / build:+.1%}")


if __name__ == "__main__":
    main()
