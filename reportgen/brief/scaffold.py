"""`reportgen new`: a new brief folder that builds at once and shows every feature.

The files are a working tour of brief-format v1: metrics (with key figures), tables,
one chart of every kind, a section body in a .md file and one inline, all four helpers,
risks, and v1.1's market block (with a price history), comparables and catalysts. Every
text is marked PLACEHOLDER and every number is sample data (placeholders.py finds both),
so it builds at once as a DRAFT that is never emailed. brief.yaml starts with the
yaml-language-server comment pointing editors at the schema, written beside the briefs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from reportgen.brief.models import SCHEMA_FILE, schema_text
from reportgen.brief.placeholders import SAMPLE_CLOSES, SAMPLE_CSV, SAMPLE_MARKET, sample_url
from reportgen.brief.spec import BRIEF_FILE
from reportgen.brief.validate import BRIEF_ID
from reportgen.errors import ScaffoldError
from reportgen.files import write_atomic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scaffold:
    """What `new_brief` wrote: the brief folder, its files and the shared schema."""

    folder: Path
    files: list[Path]
    schema: Path


def brief_place(target: str, parent: Path | None, default: Path) -> tuple[str, Path]:
    """The id and parent folder `reportgen new TARGET [--dir PARENT]` means: a bare id goes
    under PARENT (default: `default`); a path (`/srv/briefs/acme-2026`, `./acme-2026`) is the
    folder itself, its last part the id. Both a path and --dir would be ambiguous."""
    if "/" not in target and "\\" not in target and target not in (".", ".."):
        return target, parent or default
    if parent is not None:
        raise ScaffoldError(
            f"{target}: give either a path or --dir, not both "
            f"(e.g. reportgen new {parent / Path(target).name})"
        )
    folder = Path(target)
    return folder.name, folder.parent


def new_brief(brief_id: str, parent: Path, today: date | None = None) -> Scaffold:
    """Write `parent/<brief_id>/` from the placeholder template; never overwrite a folder."""
    if not BRIEF_ID.match(brief_id):
        raise ScaffoldError(
            f"{parent / brief_id}: the brief id {brief_id!r} (the folder's name) may only use"
            " a-z, 0-9 and '-' (e.g. acme-q3-2026); to make it elsewhere give a path,"
            " reportgen new /some/path/acme-q3-2026, or --dir /some/path"
        )
    folder = parent / brief_id
    if folder.exists():
        raise ScaffoldError(f"{folder}: already exists; choose another id or remove it")
    files = _files(brief_id, today or date.today())
    for name, text in files.items():
        write_atomic(folder / name, text.encode("utf-8"))
    schema = parent / SCHEMA_FILE
    write_atomic(schema, schema_text().encode("utf-8"))  # refreshed: it follows this reportgen
    log.info("created %s (%d files) and %s", folder, len(files), schema)
    return Scaffold(folder, [folder / name for name in files], schema)


def _files(brief_id: str, today: date) -> dict[str, str]:
    """Every file of the new brief, by name."""
    marks = {
        "@NAME@": brief_id.replace("-", " ").title(),
        "@TODAY@": today.isoformat(),
        "@EARLIER@": (today - timedelta(days=182)).isoformat(),
        "@NEXT_QUARTER@": _quarter(today, 1),
        "@LATER_QUARTER@": _quarter(today, 2),
        "@SAMPLE_REPORT@": sample_url("report"),
        "@PRICE@": f"{SAMPLE_MARKET[0]:.2f}",
        "@SHARES@": f"{SAMPLE_MARKET[1]:g}",
        "@TARGET@": f"{SAMPLE_MARKET[2]:g}",
        "@SAMPLE_FILING@": sample_url("filing"),
    }
    brief = BRIEF_YAML
    for mark, value in marks.items():
        brief = brief.replace(mark, value)
    return {
        BRIEF_FILE: f"# yaml-language-server: $schema=../{SCHEMA_FILE}\n" + brief,
        "overview.md": OVERVIEW_MD,
        **SAMPLE_CSV,
        "prices.csv": _prices_csv(today),
    }


def _quarter(today: date, ahead: int) -> str:
    """The quarter `ahead` quarters after today's, as a catalyst date: '2027-Q1'."""
    index = today.year * 4 + (today.month - 1) // 3 + ahead
    return f"{index // 4}-Q{index % 4 + 1}"


def _prices_csv(today: date) -> str:
    """A placeholder price history: one close a month for six months, ending today."""
    last = len(SAMPLE_CLOSES) - 1
    rows = [
        f"{today - timedelta(days=30 * (last - i))},{c:.2f}\n" for i, c in enumerate(SAMPLE_CLOSES)
    ]
    return "date,close\n" + "".join(rows)


BRIEF_YAML = """\
# A new brief. Every value below is a PLACEHOLDER: replace it with real,
# sourced data before this brief goes to anyone. Replace the made-up numbers,
# ticker, dates and CSV rows too, not only the words marked PLACEHOLDER.
# While any PLACEHOLDER, TODO, TBD, XXX or "lorem ipsum" is left, the brief
# builds only as a DRAFT (marked on every page) and is never emailed:
# `reportgen check` lists each one with its file and line. Other findings
# (conflicting or stale figures) are signed off with `reportgen review`.
# The format is described in docs/writing-a-brief.md; `reportgen serve`
# shows the brief live while you edit.

title: "PLACEHOLDER: @NAME@"
subtitle: "PLACEHOLDER subtitle: the one-line thesis"
subject:
  name: "Example Co (PLACEHOLDER)"
  ticker: XMPL
  exchange: NYSE
as_of: @TODAY@                   # the data cut-off date
authors: [Research Desk]
# recipients: [pm@example.com]   # who gets this brief by email

verdict:
  label: "PLACEHOLDER: Medium-Risk, High-Reward"
  risk: medium                  # low | medium | high | very-high
  reward: high                  # low | medium | high | very-high
  summary: |
    PLACEHOLDER verdict. Revenue reached {{ metric("revenue_fy2025") }} and grew
    {{ metric("revenue_growth_fy2025") }}; the market share is
    {{ metric("market_share_2025") }}. Cite a source anywhere with
    {{ cite("placeholder-report") }}.

sources:                        # every figure traces to one of these; a sample.invalid
                                # address marks a sample source: cite real ones instead
  placeholder-report:
    title: "PLACEHOLDER source: replace with the report you quote"
    publisher: Example Publisher
    published: @TODAY@
    url: @SAMPLE_REPORT@
  placeholder-filing:
    title: "PLACEHOLDER source: a company filing"
    publisher: Example Co
    url: @SAMPLE_FILING@

metrics:                        # or a CSV file name, e.g. `metrics: metrics.csv`
  - id: revenue_fy2025
    label: "PLACEHOLDER revenue"
    value: 12.5
    unit: USD bn
    period: FY2025
    source: placeholder-filing
    key: true                   # shown in the key-figures box
  - id: revenue_growth_fy2025
    label: "PLACEHOLDER revenue growth, y/y"
    value: 18
    unit: "%"
    period: FY2025
    source: placeholder-filing
    key: true
  - id: market_share_2025
    label: "PLACEHOLDER market share"
    value: 31
    unit: "%"
    period: "2025"
    source: placeholder-report
    key: true
  - id: margin_fy2025
    label: "PLACEHOLDER operating margin"
    value: 14
    unit: "%"
    period: FY2025
    source: placeholder-filing

market:                         # the price block on page one (v1.1)
  price: @PRICE@                  # PLACEHOLDER price
  currency: USD
  date: @TODAY@                 # the price's date: stale after 7 days (checks.max_age_days: {price: N})
  shares: @SHARES@                   # in billions: market value = price × shares, computed
  target: @TARGET@                    # upside = target / price - 1, computed, never typed
  horizon: 12 months            # required with a target
  method: "PLACEHOLDER: how the target is derived (v1.2, required with a target)"
  target_risks: "PLACEHOLDER: what could stop the price reaching the target"
  rating: Buy                   # one of [compliance].ratings in reportgen.toml
  source: placeholder-report
  history:                      # past calls, marked on the price chart
    - {date: @EARLIER@, rating: Hold, target: 42}
prices: prices.csv              # columns date, close: the price chart

valuation:                      # comparables: reportgen computes every multiple
  data: comps.csv
  subject: Example Co           # the covered company's row (highlighted)
  multiples:                    # one operation: column op column, or column op number
    - {label: "P/E FY2026", of: price / eps_fy2026}
    - {label: "EV/EBITDA FY2026", of: ev / ebitda_fy2026}
  source: placeholder-report

catalysts:                      # dated events: YYYY-MM-DD, YYYY-MM or YYYY-Qn
  - when: @NEXT_QUARTER@
    event: "PLACEHOLDER catalyst: quarterly results"
    watch: "PLACEHOLDER: what to look for"
    sources: [placeholder-filing]
  - when: @LATER_QUARTER@
    event: "PLACEHOLDER catalyst: investor day"
    sources: [placeholder-report]

tables:
  - id: market-share
    title: "PLACEHOLDER: market share, 2025"
    data: market_share.csv
    columns: {company: Company, share_pct: "Share (%)"}   # select and rename, in order
    sort: -share_pct            # '-' sorts descending
    highlight: Example Co       # the row whose first shown column equals this
    source: placeholder-report
  - id: revenue-table
    title: "PLACEHOLDER: revenue by segment (USD bn)"
    data: revenue.csv
    source: placeholder-filing

charts:
  - id: share-bar
    title: "PLACEHOLDER: market share, 2025"
    kind: bar
    data: market_share.csv
    x: company
    y: share_pct
    unit: "%"
    highlight: Example Co       # drawn in the accent colour
    source: placeholder-report
  - id: share-barh
    title: "PLACEHOLDER: market share, ranked"
    kind: barh
    data: market_share.csv
    x: company
    y: share_pct
    unit: "%"
    highlight: Example Co
    source: placeholder-report
  - id: revenue-line
    title: "PLACEHOLDER: revenue by segment"
    kind: line
    data: revenue.csv
    x: year
    y: [cloud, commerce]        # one line per column
    unit: USD bn
    labels: {cloud: Cloud, commerce: Commerce}   # legend names (else guessed, with a warning)
    source: placeholder-filing
  - id: revenue-stacked
    title: "PLACEHOLDER: revenue mix"
    kind: stacked-bar
    data: revenue.csv
    x: year
    y: [cloud, commerce]
    unit: USD bn
    labels: {cloud: Cloud, commerce: Commerce}
    highlight: FY2025
    source: placeholder-filing

sections:                       # rendered in this order
  - title: "PLACEHOLDER: overview"
    body: overview.md           # a .md file in this folder...
    tables: [market-share]      # placed after the body
    charts: [share-bar]
  - title: "PLACEHOLDER: financials"
    body: |
      ...or inline Markdown. Operating margin was {{ metric("margin_fy2025") }}.

      {{ chart("revenue-line") }}

      {{ table("revenue-table") }}

      The section's `charts:` and `tables:` follow the text:
    charts: [revenue-stacked]

risks:                          # likelihood and impact: low | medium | high
  - title: "PLACEHOLDER risk: competition"
    likelihood: high
    impact: medium
    body: Rivals cut prices {{ cite("placeholder-report") }}.
    sources: [placeholder-report]
  - title: "PLACEHOLDER risk: execution"
    likelihood: medium
    impact: high
    body: The plan costs more than the filing says.
    sources: [placeholder-filing]
"""

OVERVIEW_MD = """\
PLACEHOLDER text. Write the section in Markdown: **bold**, *italic*, lists
and links all work.

- A figure with its footnote: {{ metric("market_share_2025") }}
- A footnote mark on its own: {{ cite("placeholder-report") }}

Place a chart or table exactly where you want it:

{{ chart("share-barh") }}

The section's own `tables:` and `charts:` follow the text.
"""
