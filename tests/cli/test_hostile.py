"""Hostile input at the real CLI: each class of bad brief or config that once ended in a
traceback, a stall or a page the source did not say, run through `reportgen check` and
`reportgen build -j 2` beside a good brief. Each must end in exit 1 with its exact one-line
`file:line: key: message`, no traceback, the good brief built, within an address-space
limit (a regression that reads a huge input whole fails here instead of eating the machine).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

MEMORY = 3 << 29  # 1.5 GiB of address space per process
BRIEF = """\
title: Acme's Big Bet
subject:
  name: Acme Corp
as_of: 2026-11-21
verdict:
  label: High-Risk, High-Reward
  risk: high
  reward: high
  summary: Revenue reached {{ metric("revenue") }}.
sources:
  alpha:
    title: Alpha Report
    published: 2026-11-01
metrics:
  - id: revenue
    label: Revenue
    value: 12.5
    unit: USD bn
    source: alpha
tables:
  - id: peers
    title: Peers
    data: peers.csv
    source: alpha
sections:
  - title: Thesis
    body: body.md
    tables: [peers]
risks:
  - title: Competition
    likelihood: high
    impact: medium
    sources: [alpha]
"""
BODY = (
    'Growth was strong {{ cite("alpha") }}.\n\nMarkers RGBLOCK0X and RGINLINE99X are just text.\n'
)
PEERS = "company,share\nAcme,40\nGlobex,35\n"
LINES = len(BRIEF.splitlines())
COMPLIANCE = """\
[build]
briefs = ["briefs"]

[compliance]
ratings = [{name = "Buy", definition = "Expected to rise"}]
"""


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def replaced(old: str, new: str) -> Callable[[Path], str]:
    """A brief with one line of brief.yaml rewritten; the expected message starts at it."""

    def setup(folder: Path) -> str:
        (folder / "brief.yaml").write_text(BRIEF.replace(old, new), encoding="utf-8")
        return f"brief.yaml:{line_of(BRIEF, old)}: "

    return setup


def appended(text: str, line: int = LINES + 1) -> Callable[[Path], str]:
    def setup(folder: Path) -> str:
        (folder / "brief.yaml").write_text(BRIEF + text, encoding="utf-8")
        return f"brief.yaml:{line}: "

    return setup


def csv_file(text: str, line: int | None) -> Callable[[Path], str]:
    def setup(folder: Path) -> str:
        (folder / "peers.csv").write_text(text, encoding="utf-8")
        return f"peers.csv:{line}: " if line else "peers.csv: "

    return setup


def markdown(text: str, line: int) -> Callable[[Path], str]:
    def setup(folder: Path) -> str:
        (folder / "body.md").write_text(text, encoding="utf-8")
        return f"body.md:{line}: "

    return setup


def huge_yaml(folder: Path) -> str:
    (folder / "brief.yaml").write_text(BRIEF + "# " + "x" * (2 << 20) + "\n", encoding="utf-8")
    return "brief.yaml: "


def linked_outside(folder: Path) -> str:
    """A data file that is a link to a 1.5 GB (sparse) file outside the brief."""
    big = folder.parent.parent / "outside-big.csv"
    with big.open("wb") as handle:
        handle.truncate(3 << 29)
    (folder / "peers.csv").unlink()
    (folder / "peers.csv").symlink_to(big)
    return f"brief.yaml:{line_of(BRIEF, 'data: peers.csv')}: "


def _laughs(level: int) -> str:
    items = ", ".join([f"*l{level - 1}" if level else '"lol"'] * 9)
    return f"l{level}: &l{level} [{items}]\n"


BILLION_LAUGHS = "".join(_laughs(level) for level in range(9))  # 9**8 strings once expanded


@dataclass(frozen=True)
class Case:
    name: str
    setup: Callable[[Path], str]  # writes the bad input, returns where the message points
    message: str  # what follows `folder/<where>`


CASES = [
    Case(
        "date-as-of",
        replaced("as_of: 2026-11-21", "as_of: 2026-02-30"),
        "as_of: must be a real date written YYYY-MM-DD, not '2026-02-30' "
        "(day value is outside expected range)",
    ),
    Case(
        "date-published",
        replaced("published: 2026-11-01", "published: 2026-13-01"),
        "sources.alpha.published: must be a real date written YYYY-MM-DD, not '2026-13-01' "
        "(month value is outside expected range of 1-12)",
    ),
    Case(
        "tag-omap",
        appended("extra: !!omap [{a: 1}]\n"),
        "yaml: YAML tag '!!omap' is not allowed in a brief: remove it",
    ),
    Case(
        "tag-python",
        appended("extra: !!python/object/apply:os.system [echo hi]\n"),
        "yaml: YAML tag '!!python/object/apply:os.system' is not allowed in a brief: remove it",
    ),
    Case(
        "alias-bomb",
        appended(BILLION_LAUGHS, LINES + 2),
        "yaml: YAML aliases (*l0) are not allowed in a brief: write the value out",
    ),
    Case(
        "deep-nesting",
        appended("deep: " + "[" * 400 + "]" * 400 + "\n"),
        "yaml: nested deeper than 50 levels (raise [limits].depth in reportgen.toml)",
    ),
    Case(
        "huge-yaml",
        huge_yaml,
        "brief.yaml: 'brief.yaml' is 2 MiB, over the limit of 256 KiB "
        "(raise [limits].brief_bytes in reportgen.toml)",
    ),
    Case(
        "long-title",
        replaced("title: Acme's Big Bet", "title: " + "x" * 100_000),
        "title: text is 100,000 characters long, over the limit of 2,000 "
        "(raise [limits].text_chars in reportgen.toml)",
    ),
    Case(
        "bidi-title",
        replaced("title: Acme's Big Bet", 'title: "Acme\\u202Egnp.exe"'),
        "title: contains U+202E (RIGHT-TO-LEFT OVERRIDE), an invisible character that can "
        "make the text display differently from what was written: remove it",
    ),
    Case(
        "zero-width-name",
        replaced("name: Acme Corp", "name: Acme\u200bCorp"),
        "subject.name: contains U+200B (ZERO WIDTH SPACE), an invisible character that can "
        "make the text display differently from what was written: remove it",
    ),
    Case(
        "marker-in-markdown",
        markdown("Fine.\n\nForged \ufdd00\ufdd2 marker.\n", 3),
        "sections[0].body: contains U+FDD0 (a control or reserved character), an invisible "
        "character that can make the text display differently from what was written: remove it",
    ),
    Case(
        "bidi-reference-in-markdown",
        markdown("Fine.\n\nThe firm &#x202E;does not&#x202C; hold a position.\n", 3),
        "sections[0].body: contains &#x202E; (U+202E RIGHT-TO-LEFT OVERRIDE), an invisible "
        "character that can make the text display differently from what was written: remove it",
    ),
    Case(
        "huge-metric",
        replaced("value: 12.5", "value: 1e308"),
        "metrics[0].value: 1e+308 is larger than 1e+15 in size "
        "(raise [limits].max_number in reportgen.toml)",
    ),
    Case(
        "inf-metric",
        replaced("value: 12.5", "value: .inf"),
        "metrics[0].value: must be a finite number, not inf",
    ),
    Case(
        "inf-cell",
        csv_file("company,share\nAcme,40\nGlobex,inf\n", 3),
        "data: cell 'inf': must be a finite number, not inf",
    ),
    Case(
        "nan-cell",
        csv_file("company,share\nAcme,nan\n", 2),
        "data: cell 'nan': 'nan' is not a figure: leave the cell empty for a missing value",
    ),
    Case(
        "huge-cell",
        csv_file("company,share\nAcme,1e308\n", 2),
        "data: cell '1e308': 1e+308 is larger than 1e+15 in size "
        "(raise [limits].max_number in reportgen.toml)",
    ),
    Case(
        "many-rows",
        csv_file("company,share\n" + "Acme,1\n" * 150_000, 100_002),
        "data: more than 100,000 rows (raise [limits].csv_rows in reportgen.toml)",
    ),
    Case(
        "huge-csv",
        csv_file("company,share\n" + ("A" * 99 + ",1\n") * 110_000, None),
        "data: 'peers.csv' is 10.7 MiB, over the limit of 10 MiB "
        "(raise [limits].csv_bytes in reportgen.toml)",
    ),
    Case(
        "link-outside",
        linked_outside,
        "tables[0].data: 'peers.csv' is outside the brief folder",
    ),
]


def write(folder: Path, body: str = BODY) -> Path:
    folder.mkdir(parents=True)
    (folder / "brief.yaml").write_text(BRIEF, encoding="utf-8")
    (folder / "body.md").write_text(body, encoding="utf-8")
    (folder / "peers.csv").write_text(PEERS, encoding="utf-8")
    return folder


def bounded() -> None:
    """In the child: a ceiling on memory, so a regression fails instead of swapping."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def reportgen(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1795000000"}
    return subprocess.run(
        [sys.executable, "-m", "reportgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=bounded,
        env=env,
        check=False,
    )


@dataclass(frozen=True)
class Runs:
    expected: dict[str, str]  # case name -> its full expected line
    check: subprocess.CompletedProcess[str]
    build: subprocess.CompletedProcess[str]
    root: Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Every hostile brief beside a good one: one `check` and one `build -j 2` of them all."""
    root = tmp_path_factory.mktemp("hostile")
    # [compliance] makes every command read every brief's rating for the back matter first:
    # that read must fail only its own brief too (a bad date there once stopped them all).
    (root / "reportgen.toml").write_text(COMPLIANCE, encoding="utf-8")
    write(root / "briefs" / "good")
    expected = {}
    for case in CASES:
        folder = write(root / "briefs" / case.name)
        expected[case.name] = f"briefs/{case.name}/{case.setup(folder)}{case.message}"
    names = ["briefs/good", *(f"briefs/{case.name}" for case in CASES)]
    check = reportgen(root, "check", *names)
    build = reportgen(root, "build", *names, "--out", "out", "-j", "2")
    return Runs(expected, check, build, root)


@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_check_reports_each_class_in_one_line(runs: Runs, case: str) -> None:
    assert runs.check.returncode == 1
    assert runs.expected[case] in runs.check.stdout.splitlines(), runs.check.stdout[-3000:]


@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_build_fails_only_that_brief(runs: Runs, case: str) -> None:
    assert runs.build.returncode == 1
    assert runs.expected[case] in runs.build.stderr.splitlines(), runs.build.stderr[-3000:]
    assert not (runs.root / "out" / case).exists()


def test_no_traceback_and_the_good_brief_is_built(runs: Runs) -> None:
    for run in (runs.check, runs.build):
        assert "Traceback" not in run.stdout + run.stderr
        assert all(len(line) < 400 for line in (run.stdout + run.stderr).splitlines())
    html = (runs.root / "out" / "good" / "good.html").read_text(encoding="utf-8")
    assert (runs.root / "out" / "good" / "good.pdf").read_bytes().startswith(b"%PDF")
    assert "RGBLOCK0X" in html and "RGINLINE99X" in html  # text, not a forged placeholder


def test_images_refused_with_a_reason_and_left_out(tmp_path: Path) -> None:
    """A decompression bomb and a link out of the brief: one warning each, not in the HTML."""
    folder = write(
        tmp_path / "briefs" / "pictures",
        BODY + "\n![bomb](bomb.png)\n\n![secret](secret.png)\n\n![ok](ok.png)\n",
    )
    Image.new("1", (30_000, 30_000)).save(folder / "bomb.png")  # ~100 KB, 900 megapixels
    Image.new("RGB", (8, 8), "blue").save(tmp_path / "secret.png")
    (folder / "secret.png").symlink_to(tmp_path / "secret.png")
    Image.new("RGB", (8, 8), "green").save(folder / "ok.png")
    result = reportgen(tmp_path, "build", "briefs/pictures", "--out", "out")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert (
        "briefs/pictures/body.md:5: sections[0].body: warning: image 'bomb.png' not shown: "
        "900,000,000 pixels, more than 50,000,000 (raise [limits].image_pixels in "
        "reportgen.toml)"
    ) in lines, result.stderr
    assert (
        "briefs/pictures/body.md:7: sections[0].body: warning: image 'secret.png' not shown: "
        "is outside the brief folder (a link leaving it is not followed)"
    ) in lines, result.stderr
    assert all(len(line) < 400 for line in lines)
    html = (tmp_path / "out" / "pictures" / "pictures.html").read_text(encoding="utf-8")
    assert html.count('src="data:image/png') == 1  # only ok.png
    assert "[image not shown: bomb]" in html and "[image not shown: secret]" in html


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("smtp = 5\n", "reportgen.toml:1: smtp: must be a table ([smtp])"),
        ("[smtp]\nport = 'x'\n", "reportgen.toml:2: smtp.port: "),
        ("[limits]\ncsv_rows = -1\n", "reportgen.toml:2: limits.csv_rows: "),
        ("[build\n", "reportgen.toml:1: toml: "),
        (  # once 'the scale defines Buy as upside ≥ nan%' on every brief rated Buy
            "[compliance]\nratings = [{name = 'Buy', upside_min = nan}]\n",
            "reportgen.toml:2: compliance.ratings.upside_min: must be a finite number, not nan",
        ),
    ],
)
def test_a_bad_config_is_one_line(tmp_path: Path, toml: str, expected: str) -> None:
    write(tmp_path / "briefs" / "good")
    (tmp_path / "reportgen.toml").write_text(toml, encoding="utf-8")
    for args in (["check", "briefs/good"], ["build", "briefs/good", "-j", "2"]):
        result = reportgen(tmp_path, *args)
        assert result.returncode == 1
        assert "Traceback" not in result.stdout + result.stderr
        assert result.stderr.startswith(f"error: {expected}"), result.stderr
        assert len(result.stderr.splitlines()) == 1


def test_limits_are_raised_and_lowered_in_the_config(tmp_path: Path) -> None:
    write(tmp_path / "briefs" / "good")
    (tmp_path / "reportgen.toml").write_text("[limits]\ncsv_rows = 1\n", encoding="utf-8")
    lowered = reportgen(tmp_path, "check", "briefs/good")
    assert lowered.returncode == 1
    assert lowered.stdout.startswith(
        "briefs/good/peers.csv:3: data: more than 1 rows (raise [limits].csv_rows in reportgen.toml)"
    ), lowered.stdout
    (tmp_path / "reportgen.toml").write_text("[limits]\ntext_chars = 200000\n", encoding="utf-8")
    (tmp_path / "briefs" / "good" / "brief.yaml").write_text(
        BRIEF.replace("title: Acme's Big Bet", "title: " + "x" * 100_000), encoding="utf-8"
    )
    raised = reportgen(tmp_path, "check", "briefs/good")
    assert raised.returncode == 0, raised.stdout


REVIEW = """\
- key: stale:revenue
  accepted: {by: A. Analyst, on: 2026-11-21, reason: Checked.}
  values: [12.5]
"""
REVIEW_CASES = {
    "bad-date": (
        REVIEW.replace("2026-11-21", "2026-02-30"),
        "review.yaml:1: [0].accepted.on: must be a real date written YYYY-MM-DD, "
        "not '2026-02-30' (day is out of range for month)",
    ),
    "alias": (
        REVIEW.replace("[12.5]", "&v [12.5]") + REVIEW.replace("[12.5]", "*v"),
        "review.yaml:6: review: YAML aliases (*v) are not allowed in a brief: write the value out",
    ),
    "tag": (
        REVIEW.replace("[12.5]", "!!python/object/apply:os.system [echo]"),
        "review.yaml:3: review: YAML tag '!!python/object/apply:os.system' is not allowed "
        "in a brief: remove it",
    ),
    "deep": (
        REVIEW + "- key: " + "[" * 400 + "]" * 400 + "\n",
        "review.yaml:4: review: nested deeper than 50 levels "
        "(raise [limits].depth in reportgen.toml)",
    ),
    "huge": (
        REVIEW + "# " + "x" * (1 << 20) + "\n",
        "review.yaml: review: 'review.yaml' is 1 MiB, over the limit of 256 KiB "
        "(raise [limits].brief_bytes in reportgen.toml)",
    ),
    "bidi": (
        REVIEW.replace("A. Analyst", '"A.\\u202EAnalyst"'),
        "review.yaml:1: [0].accepted.by: contains U+202E (RIGHT-TO-LEFT OVERRIDE), an invisible "
        "character that can make the text display differently from what was written: remove it",
    ),
}


def test_a_hostile_review_yaml_is_its_own_one_line_error(tmp_path: Path) -> None:
    """review.yaml is read like brief.yaml: a bad date there once blamed brief.yaml with a
    bare ValueError, deep nesting a RecursionError; aliases, tags, a huge file and a bidi
    override in the reviewer's name (shown to readers) were taken as they came."""
    (tmp_path / "reportgen.toml").write_text(COMPLIANCE, encoding="utf-8")
    write(tmp_path / "briefs" / "good")
    for name, (text, _) in REVIEW_CASES.items():
        (write(tmp_path / "briefs" / name) / "review.yaml").write_text(text, encoding="utf-8")
    result = reportgen(tmp_path, "check", "briefs/good", *(f"briefs/{n}" for n in REVIEW_CASES))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for name, (_, message) in REVIEW_CASES.items():
        assert f"briefs/{name}/{message}" in lines, result.stdout
    assert not any(line.startswith("briefs/good/") for line in lines), result.stdout


def test_text_in_a_multiples_input_is_an_error_at_its_cell(tmp_path: Path) -> None:
    """'abc' in an EPS column (or `of: price / company`) once showed "n.a." with nothing
    said: a typo in an input hid a multiple. Empty stays "n.a."."""
    example = Path(__file__).resolve().parents[2] / "seeds" / "alibaba-ai-2026"
    typo, text_column = tmp_path / "briefs" / "typo", tmp_path / "briefs" / "text-column"
    for folder in (typo, text_column):
        shutil.copytree(example, folder)
    comps = (typo / "comps.csv").read_text(encoding="utf-8")
    (typo / "comps.csv").write_text(comps.replace(",10.20,", ",1O.20,"), encoding="utf-8")
    brief = (text_column / "brief.yaml").read_text(encoding="utf-8")
    (text_column / "brief.yaml").write_text(
        brief.replace("of: price / eps_2026e", "of: price / company"), encoding="utf-8"
    )
    result = reportgen(tmp_path, "check", "briefs/typo", "briefs/text-column")
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    line = next(i for i, row in enumerate(comps.splitlines(), 1) if ",10.20," in row)
    assert (
        f"briefs/typo/comps.csv:{line}: valuation.data: cell '1O.20' in column 'eps_2026e' "
        "is not a number (empty is n.a.)"
    ) in lines, result.stdout
    assert (
        "briefs/text-column/comps.csv:2: valuation.data: cell 'Alibaba Group' in column "
        "'company' is not a number (empty is n.a.)"
    ) in lines, result.stdout


@pytest.mark.parametrize("kind", ["device", "huge"])
def test_disclosures_are_bounded_like_any_markdown(tmp_path: Path, kind: str) -> None:
    """[compliance].disclosures once read whatever it named whole: a link to /dev/zero ended
    in a MemoryError traceback (or ate the machine), a huge file went into every PDF."""
    write(tmp_path / "briefs" / "good")
    (tmp_path / "reportgen.toml").write_text(
        COMPLIANCE + 'disclosures = "disclosures.md"\n', encoding="utf-8"
    )
    if kind == "device":
        (tmp_path / "disclosures.md").symlink_to("/dev/zero")
        expected = f"'disclosures.md' is not a regular file ({tmp_path / 'disclosures.md'})"
    else:
        (tmp_path / "disclosures.md").write_text("x" * (300 << 10), encoding="utf-8")
        expected = (
            "'disclosures.md' is 300 KiB, over the limit of 256 KiB "
            "(raise [limits].markdown_bytes in reportgen.toml)"
        )
    result = reportgen(tmp_path, "check", "briefs/good")
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr == f"error: reportgen.toml: compliance.disclosures: {expected}\n"


def test_review_judges_a_brief_by_the_projects_config(tmp_path: Path) -> None:
    """`review` once ignored reportgen.toml: a title the project's raised [limits] allows
    was an error there (nothing to review, exit 1) though `check` and `build` passed."""
    folder = write(tmp_path / "briefs" / "long")
    (folder / "brief.yaml").write_text(
        BRIEF.replace("title: Acme's Big Bet", "title: " + "x" * 3000), encoding="utf-8"
    )
    (tmp_path / "reportgen.toml").write_text("[limits]\ntext_chars = 5000\n", encoding="utf-8")
    for args in (["check"], ["review"]):
        result = reportgen(tmp_path, *args, "briefs/long")
        assert result.returncode == 0, result.stdout + result.stderr
    (tmp_path / "reportgen.toml").write_text("[limits]\ntext_chars = 2000\n", encoding="utf-8")
    result = reportgen(tmp_path, "review", "briefs/long")
    assert result.returncode == 1
    assert result.stderr.startswith("briefs/long/brief.yaml:1: title: text is 3,000 characters")
