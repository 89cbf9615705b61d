"""Each rule of brief-format v1 broken once, in its own small brief: the exact
`file:line: key: message`, exit 1, no traceback, and the previous output intact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from reportgen.cli import main

BRIEF = """\
title: Acme's Big Bet
subject:
  name: Acme Corp
  ticker: ACME
as_of: 2026-11-21
verdict:
  label: High-Risk, High-Reward
  risk: high
  reward: high
  summary: Revenue reached {{ metric("revenue") }}.
sources:
  alpha:
    title: Alpha Report
  beta:
    title: Beta Review
metrics:
  - id: revenue
    label: Revenue
    value: 12.5
    unit: USD bn
    source: alpha
    key: true
tables:
  - id: peers
    title: Peers
    data: peers.csv
    sort: -share
    source: alpha
charts:
  - id: peers-bar
    title: Peer share
    data: peers.csv
    x: company
    y: share
    source: beta
sections:
  - title: Thesis
    body: body.md
    tables: [peers]
    charts: [peers-bar]
risks:
  - title: Competition
    likelihood: high
    impact: medium
    sources: [alpha]
"""
BODY = 'Growth is strong {{ cite("beta") }}.\n\nSee {{ metric("revenue") }}.\n'
PEERS = "company,share\nAcme,40\nGlobex,35\n"


def write(folder: Path, brief: str = BRIEF, body: str = BODY, peers: str = PEERS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "brief.yaml").write_text(brief, encoding="utf-8")
    (folder / "body.md").write_text(body, encoding="utf-8")
    (folder / "peers.csv").write_text(peers, encoding="utf-8")
    return folder


# (name, change to brief.yaml / body.md / peers.csv, expected message suffix after the brief folder)
CASES = [
    (
        "unknown metric source",
        ("brief", "    source: alpha\n    key: true", "    source: alphx\n    key: true"),
        "brief.yaml:21: metrics[0].source: unknown source 'alphx' (known: alpha, beta)",
    ),
    (
        "missing title",
        ("brief", "title: Acme's Big Bet\n", ""),
        "brief.yaml:1: title: required key is missing",
    ),
    (
        "unknown key",
        ("brief", "as_of: 2026-11-21\n", "as_of: 2026-11-21\ncolour: red\n"),
        "brief.yaml:6: colour: unknown key",
    ),
    (
        "bad risk level",
        ("brief", "  risk: high", "  risk: extreme"),
        "brief.yaml:8: verdict.risk: must be one of 'low', 'medium', 'high' or 'very-high', not 'extreme'",
    ),
    (
        "value not a number",
        ("brief", "value: 12.5", "value: lots"),
        "brief.yaml:19: metrics[0].value: must be a number, not 'lots'",
    ),
    (
        "bad metric id",
        ("brief", "id: revenue\n", "id: Revenue-Total\n"),
        "brief.yaml:17: metrics[0].id: 'Revenue-Total' may only use ^[a-z0-9_]+$",
    ),
    (
        "no sources",
        (
            "brief",
            "sources:\n  alpha:\n    title: Alpha Report\n  beta:\n    title: Beta Review\n",
            "sources: {}\n",
        ),
        "brief.yaml:11: sources: needs at least one entry",
    ),
    (
        "missing data file",
        ("brief", "    data: peers.csv\n    sort", "    data: missing.csv\n    sort"),
        "brief.yaml:26: tables[0].data: data file 'missing.csv' does not exist",
    ),
    (
        "data outside folder",
        ("brief", "    data: peers.csv\n    sort", "    data: ../peers.csv\n    sort"),
        "brief.yaml:26: tables[0].data: '../peers.csv' is outside the brief folder",
    ),
    (
        "unknown chart column",
        ("brief", "    y: share", "    y: shares"),
        "brief.yaml:34: charts[0].y: no column 'shares' in peers.csv (columns: company, share)",
    ),
    (
        "unknown sort column",
        ("brief", "sort: -share", "sort: -size"),
        "brief.yaml:27: tables[0].sort: no column 'size' in peers.csv (columns: company, share)",
    ),
    (
        "unknown table in section",
        ("brief", "tables: [peers]", "tables: [peer]"),
        "brief.yaml:39: sections[0].tables[0]: unknown table 'peer' (known: peers)",
    ),
    (
        "unknown chart in section",
        ("brief", "charts: [peers-bar]", "charts: [pie]"),
        "brief.yaml:40: sections[0].charts[0]: unknown chart 'pie' (known: peers-bar)",
    ),
    (
        "unknown metric in markdown",
        ("body", 'See {{ metric("revenue") }}', 'See {{ metric("revenu") }}'),
        "body.md:3: sections[0].body: metric(\"revenu\"): unknown metric id 'revenu' (known: revenue)",
    ),
    (
        "unknown helper",
        ("body", 'See {{ metric("revenue") }}', "See {{ config }}"),
        'body.md:3: sections[0].body: expected a helper call such as metric("id")',
    ),
    (
        "jinja statement",
        ("body", "Growth", "{% for x in range(3) %}x{% endfor %}Growth"),
        'body.md:1: sections[0].body: only {{ helper("id") }} calls are allowed',
    ),
    (
        "unknown cite in inline summary",
        (
            "brief",
            'summary: Revenue reached {{ metric("revenue") }}.',
            'summary: Said {{ cite("gamma") }}.',
        ),
        "brief.yaml:10: verdict.summary: cite(\"gamma\"): unknown cite id 'gamma' (known: alpha, beta)",
    ),
    (
        "chart value not a number",
        ("peers", "Globex,35", "Globex,lots"),
        "peers.csv:3: charts[0].y: column 'share' has a value that is not a number: 'lots'",
    ),
    (
        "chart value infinite",
        ("peers", "Globex,35", "Globex,-inf"),
        "peers.csv:3: data: cell '-inf': must be a finite number, not -inf",
    ),
    (
        "invisible character in markdown",
        ("body", "Growth is", "Growth\u2066 is"),
        "body.md:1: sections[0].body: contains U+2066 (LEFT-TO-RIGHT ISOLATE), an invisible "
        "character that can make the text display differently from what was written: remove it",
    ),
    (
        "control character in a ticker",
        ("brief", "ticker: ACME", 'ticker: "AC\\x1bME"'),
        "brief.yaml:4: subject.ticker: contains U+001B (a control or reserved character), an "
        "invisible character that can make the text display differently from what was written: "
        "remove it",
    ),
    ("yaml syntax", ("brief", "  reward: high\n", "  reward: [high\n"), None),
    (
        "risk without sources",
        ("brief", "    sources: [alpha]\n", "    sources: []\n"),
        "brief.yaml:45: risks[0].sources: needs at least one entry",
    ),
]


@pytest.mark.parametrize(("name", "change", "expected"), CASES, ids=[c[0] for c in CASES])
def test_rule_broken_once(
    tmp_path: Path, name: str, change: tuple[str, str, str], expected: str | None
) -> None:
    folder = tmp_path / "acme"
    texts = {"brief": BRIEF, "body": BODY, "peers": PEERS}
    target, old, new = change
    assert old in texts[target], f"test setup: {old!r} not in {target}"
    texts[target] = texts[target].replace(old, new, 1)
    write(folder, texts["brief"], texts["body"], texts["peers"])
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    if expected is None:  # YAML syntax: file and line of the problem, no traceback
        assert (
            f"{folder}/brief.yaml:9: yaml:" in result.output
            or f"{folder}/brief.yaml:10: yaml:" in result.output
        )
        return
    assert f"{folder}/{expected}" in result.output.splitlines()


def test_duplicate_metric_id_names_first_line(tmp_path: Path) -> None:
    brief = BRIEF.replace(
        "tables:\n",
        "  - id: revenue\n    label: Again\n    value: 1\n    source: beta\ntables:\n",
        1,
    )
    folder = write(tmp_path / "acme", brief)
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 1
    assert (
        f"{folder}/brief.yaml:23: metrics[1].id: duplicate id 'revenue' (first at line 17)"
        in result.output
    )


def test_bad_brief_folder_name(tmp_path: Path) -> None:
    folder = write(tmp_path / "Acme_Brief")
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 1
    assert (
        f"{folder}/brief.yaml: id: brief folder name 'Acme_Brief' must use only a-z, 0-9 and '-'"
        in result.output
    )


def test_unused_source_and_conflict_are_warnings(tmp_path: Path) -> None:
    brief = BRIEF.replace(
        "tables:\n",
        "  - id: revenue_b\n    label: Revenue\n    value: 13\n    unit: USD bn\n    source: alpha\ntables:\n",
        1,
    )
    brief = brief.replace("sources:\n", "sources:\n  unused:\n    title: Never cited\n", 1)
    folder = write(tmp_path / "acme", brief)
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 0, result.output
    assert "warning: source 'unused' is never cited" in result.output
    assert "warning: conflicting figures for 'Revenue'" in result.output


def test_failed_build_keeps_previous_output_and_others_build(tmp_path: Path) -> None:
    good = write(tmp_path / "briefs" / "good")
    other = write(tmp_path / "briefs" / "other")
    out = tmp_path / "out"
    runner = CliRunner()
    first = runner.invoke(main, ["build", str(good), str(other), "--out", str(out), "--html-only"])
    assert first.exit_code == 0, first.output
    before = (out / "good" / "good.html").read_bytes()
    (good / "brief.yaml").write_text(
        BRIEF.replace("source: alpha\n    key", "source: nope\n    key"), encoding="utf-8"
    )
    second = runner.invoke(main, ["build", str(good), str(other), "--out", str(out), "--html-only"])
    assert second.exit_code == 1
    assert "unknown source 'nope'" in second.output
    assert "Traceback" not in second.output
    assert (out / "good" / "good.html").read_bytes() == before
    assert not re.search(r"failed\s+other|other\s+failed", second.output)
    assert (out / "other" / "other.html").is_file()
    assert not [p for p in (out / "good").iterdir() if p.name.endswith(".tmp")]


def test_metrics_from_csv_report_csv_lines(tmp_path: Path) -> None:
    start = BRIEF.index("metrics:\n")
    end = BRIEF.index("tables:\n")
    brief = BRIEF[:start] + "metrics: metrics.csv\n" + BRIEF[end:]
    folder = write(tmp_path / "acme", brief)
    (folder / "metrics.csv").write_text(
        "id,label,value,unit,source,key\nrevenue,Revenue,12.5,USD bn,alpha,true\ngrowth,Growth,abc,%,beta,\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 1
    assert (
        f"{folder}/metrics.csv:3: metrics[1].value: must be a number, not 'abc'"
        in result.output.splitlines()
    )


def test_usage_error_exit_2() -> None:
    result = CliRunner().invoke(main, ["build", "--no-such-option"])
    assert result.exit_code == 2


def test_an_image_not_shown_is_a_warning_at_its_line(tmp_path: Path) -> None:
    body = BODY + "\n![chart](https://example.org/x.png)\n\n![gone](gone.png)\n"
    folder = write(tmp_path / "acme", body=body)
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        f"{folder}/body.md:5: sections[0].body: warning: image at a 'https:' address not "
        "shown: only image files inside the brief folder are shown, never fetched from elsewhere"
    ) in lines
    assert (
        f"{folder}/body.md:7: sections[0].body: warning: image 'gone.png' not shown: "
        "no such image file in the brief folder"
    ) in lines
