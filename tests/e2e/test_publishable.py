"""Publishable is decided once, by the build, and every reader uses that one value (#18.1):
the PDF's DRAFT mark, findings.json, the build record, `build --json` (built or cached),
`send` and `nightly`. Every warning is a finding with a key."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import EXAMPLE, REPO
from pypdf import PdfReader
from smtp_server import smtp_server, write_config

from reportgen.cli import main
from reportgen.config import load_config
from reportgen.publish.nightly import run_nightly

UPSIDE = "computed:price_target_upside"
NIGHT = datetime(2026, 11, 22, 22, 5, tzinfo=UTC)  # 06:05 in Shanghai, the example's next day


def example_project(root: Path, port: int = 25) -> Path:
    """The example brief as briefs/<id> of a project with its [compliance], sending to `port`."""
    shutil.copytree(EXAMPLE, root / "briefs" / EXAMPLE.name)
    shutil.copy(REPO / "disclosures.md", root / "disclosures.md")
    configure(root, port)
    return root / "briefs" / EXAMPLE.name


def configure(root: Path, port: int) -> None:
    """reportgen.toml: the test server on `port`, and the example project's [compliance]."""
    config = write_config(root, port)
    compliance = (REPO / "reportgen.toml").read_text(encoding="utf-8")
    config.write_text(config.read_text(encoding="utf-8") + "\n" + compliance, encoding="utf-8")


def edit(brief: Path, old: str, new: str) -> None:
    path = brief / "brief.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def retarget(brief: Path, target: int) -> None:
    """A new price target, with the base case moved to it: the scenarios still argue the
    target (no `scenarios:target` finding), so the stated upside is the one finding."""
    edit(brief, "  target: 150", f"  target: {target}")
    edit(brief, "  - case: base\n    value: 150", f"  - case: base\n    value: {target}")


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def build_json(*args: str) -> dict[str, object]:
    result = cli("build", "--json", *args)
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    report: dict[str, object] = json.loads(line)
    return report


def pages(pdf: Path) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(pdf).pages]


@pytest.fixture
def repriced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The issue's case: price 121 and target 160, so the stated 27% upside is now 32.2%."""
    brief = example_project(tmp_path)
    edit(brief, "  price: 118.40", "  price: 121.00")
    prices = brief / "prices.csv"  # the close of the price's day with it (finding market:close)
    prices.write_text(prices.read_text().replace("2026-11-20,118.40", "2026-11-20,121.00"))
    retarget(brief, 160)
    monkeypatch.chdir(tmp_path)
    return brief


def test_a_draft_is_a_draft_for_every_reader_and_is_never_sent(repriced: Path) -> None:
    built = build_json()
    cached = build_json()
    assert (built["status"], cached["status"]) == ("built", "skipped")
    for report in (built, cached):
        assert report["publishable"] is False
        assert [w["finding"] for w in report["warnings"]] == [UPSIDE]  # type: ignore[attr-defined, index]
        assert [f["finding"] for f in report["open_findings"]] == [UPSIDE]  # type: ignore[attr-defined, index]
    said = cli("build").output.splitlines()[-1]
    assert said.startswith("skipped alibaba-ai-2026: unchanged") and said.endswith(
        f"; DRAFT, never emailed: open {UPSIDE} (see reportgen review)"
    )
    out = repriced.parent.parent / "out" / repriced.name
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert findings["publishable"] is False
    assert [f["finding"] for f in findings["open"]] == [UPSIDE]
    record = json.loads((out / ".reportgen-build.json").read_text(encoding="utf-8"))
    assert record["publishable"] is False
    assert all("DRAFT" in page for page in pages(out / f"{repriced.name}.pdf"))
    with smtp_server() as (recorder, port):
        configure(repriced.parent.parent, port)
        sent = cli("send", str(repriced))
        assert [r.rcpt_tos for r in recorder.received] == [["ops@example.com"]]  # the notice
    assert sent.exit_code == 1
    assert "draft, not sent" in sent.output and UPSIDE in sent.output


def test_nightly_builds_the_draft_and_sends_it_to_no_reader(repriced: Path) -> None:
    root = repriced.parent.parent
    with smtp_server() as (recorder, port):
        configure(root, port)
        report = run_nightly(load_config(root / "reportgen.toml"), now=NIGHT)
        assert [r.rcpt_tos for r in recorder.received] == [["ops@example.com"]]  # the notice
    assert report.exit_code == 1
    assert UPSIDE in recorder.received[0].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_the_finding_accepted_makes_it_publishable_everywhere_and_it_is_sent(
    repriced: Path,
) -> None:
    build_json()
    accepted = cli(
        "review", str(repriced), "--accept", UPSIDE, "--by", "A. Analyst",
        "--reason", "The article's 27% was at the older price; the page shows both.",
    )  # fmt: skip
    assert accepted.exit_code == 0, accepted.output
    built, cached = build_json(), build_json()
    assert (built["status"], cached["status"]) == ("built", "skipped")
    assert built["publishable"] is True and cached["publishable"] is True
    out = repriced.parent.parent / "out" / repriced.name
    assert json.loads((out / "findings.json").read_text(encoding="utf-8"))["publishable"] is True
    assert not any("DRAFT" in page for page in pages(out / f"{repriced.name}.pdf"))
    with smtp_server() as (recorder, port):
        configure(repriced.parent.parent, port)
        sent = cli("send", str(repriced))
        assert sent.exit_code == 0, sent.output
        readers = sorted(r for m in recorder.received for r in m.rcpt_tos)
        assert readers == ["cio@example.com", "pm@example.com"]


# ---------------------------------------------------------------- every warning has a key


def test_every_warning_the_checks_make_has_a_key_and_can_be_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warnings that had no key (so no review could accept them, and readers disagreed
    on them): a stale price, a rating the upside does not fit, a catalyst already past, an
    image not shown, a stated upside unlike the computed one."""
    brief = example_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    edit(brief, "  date: 2026-11-20", "  date: 2026-06-01")
    edit(brief, "  rating: Buy", "  rating: Sell")
    edit(brief, "when: 2027-Q1\n    event: December", "when: 2026-05\n    event: December")
    retarget(brief, 160)
    with (brief / "thesis.md").open("a", encoding="utf-8") as handle:
        handle.write("\n![A chart](missing.png)\n")
    assert cli("check", str(brief)).output.count("warning:") == 5
    result = cli("review", str(brief))
    keys = sorted(line.split()[1] for line in result.output.splitlines() if line.startswith("open"))
    assert keys == [
        "computed:price_target_upside",
        "image:thesis.md:missing.png",
        "past-catalyst:2026-05:december-quarter-results",
        "rating-fit",
        "stale-price",
    ], result.output
    accepted = cli(
        "review", str(brief), "--accept", "all", "--by", "A. Analyst", "--reason", "Seen."
    )
    assert accepted.exit_code == 0, accepted.output
    assert "publishable" in cli("review", str(brief)).output


def test_a_finding_of_the_laid_out_pdf_makes_every_page_a_draft(
    make_brief: Callable[..., Path], minimal: dict[str, Any], tmp_path: Path
) -> None:
    """A warning found only once the PDF is laid out (an image without alt text) is put
    through the same review: the PDF is made again with its DRAFT mark, so the mark, the
    record and --json say the same."""
    minimal["sections"][0]["body"] += "\n\n![](dot.svg)\n"
    folder = make_brief(minimal, {"dot.svg": DOT})
    out = tmp_path / "out"
    report = build_json(str(folder), "--out", str(out))
    assert report["publishable"] is False
    assert [f["finding"] for f in report["open_findings"]] == ["pdf:alt-text"]  # type: ignore[attr-defined, index]
    assert all("DRAFT" in page for page in pages(out / "acme" / "acme.pdf"))
    findings = json.loads((out / "acme" / "findings.json").read_text(encoding="utf-8"))
    assert [f["finding"] for f in findings["open"]] == ["pdf:alt-text"]
    (folder / "review.yaml").write_text(  # by hand: `review` lists only the brief's own checks
        "- key: pdf:alt-text\n  accepted: {by: A. Analyst, on: 2026-11-21, reason: A dot.}\n"
        f"  values: [{json.dumps(findings['open'][0]['values'][0])}]\n",
        encoding="utf-8",
    )
    report = build_json(str(folder), "--out", str(out))
    assert report["publishable"] is True and report["warnings"] == []
    assert not any("DRAFT" in page for page in pages(out / "acme" / "acme.pdf"))


DOT = '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><rect width="9" height="9"/></svg>'


# ---------------------------------------------------------------- drafts do not count (#18.7)


def back_page(pdf: Path) -> str:
    text = pages(pdf)[-1]
    return " ".join(text[text.index("Distribution of ratings") :].split()[:30])


def test_a_scaffold_in_the_project_is_no_call_in_the_ratings_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    brief = example_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cli("new", "acme-2026", "--dir", "briefs").exit_code == 0
    result = cli("build", "-q")
    assert result.exit_code == 0, result.output
    shown = back_page(tmp_path / "out" / brief.name / f"{brief.name}.pdf")
    assert "Buy 1 100% Hold 0 0% Sell 0 0%" in shown, shown
    assert "Of the 1 brief in coverage on" in shown and ", 1 carries a rating." in shown


def test_a_brief_turned_draft_counts_with_its_latest_publishable_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Buy, publishable; then a Hold with a stated upside nobody accepted (a draft): the
    distribution still counts the Buy readers could have, not the Hold."""
    brief = example_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert build_json()["publishable"] is True
    edit(brief, "  rating: Buy", "  rating: Hold")
    edit(brief, "  target: 150", "  target: 125")  # 5.6% upside: a Hold, but the 27% stated
    report = build_json()
    assert report["publishable"] is False
    shown = back_page(tmp_path / "out" / brief.name / f"{brief.name}.pdf")
    assert "Buy 1 100% Hold 0 0% Sell 0 0%" in shown, shown


# ---------------------------------------------------------------- sample data (#18.8)


def test_a_scaffold_with_every_placeholder_word_deleted_is_still_a_draft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path
    example_project(root)
    monkeypatch.chdir(root)
    assert cli("new", "acme-2026", "--dir", "briefs").exit_code == 0
    scaffold = root / "briefs" / "acme-2026"
    for path in scaffold.iterdir():
        text = re.sub(r" ?\(PLACEHOLDER\)|PLACEHOLDER:? ?", "", path.read_text(encoding="utf-8"))
        path.write_text(text, encoding="utf-8")
    assert "placeholder text" not in cli("check", str(scaffold)).output
    report = build_json(str(scaffold))
    assert report["publishable"] is False
    open_ = {f["finding"]: f for f in report["open_findings"]}  # type: ignore[attr-defined]
    assert all(key.startswith("sample:") for key in open_), sorted(open_)
    said = " ".join(f["message"] for f in open_.values())
    for value in ("the market block (price 45, target 56)", "source 'placeholder-report'",
                  "comps.csv lines 2, 3, 4, 5", "the sample price history"):  # fmt: skip
        assert value in said, said
    pdf = root / "out" / "acme-2026" / "acme-2026.pdf"
    assert all("DRAFT" in page for page in pages(pdf))
    market = next(k for k, f in open_.items() if "market block" in f["message"])
    refused = cli("review", str(scaffold), "--accept", market, "--by", "A", "--reason", "Fine.")
    assert refused.exit_code != 0 and "cannot be accepted" in refused.output
    with smtp_server() as (recorder, port):
        configure(root, port)
        sent = cli("send", str(scaffold))
        assert [r.rcpt_tos for r in recorder.received] == [["ops@example.com"]]  # the notice
    assert sent.exit_code == 1 and "draft, not sent" in sent.output


def test_real_sources_and_values_leave_no_sample_finding(example_copy: Path) -> None:
    """The example brief shares no sample mark: not one sample finding."""
    result = cli("review", str(example_copy))
    assert "sample:" not in result.output


# ---------------------------------------------------------------- the call's history (#18.6)


def test_a_new_target_is_in_changes_json_the_box_the_email_and_the_history_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    brief = example_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out" / brief.name
    with smtp_server() as (recorder, port):
        configure(tmp_path, port)
        assert build_json()["publishable"] is True
        first = cli("send", str(brief))
        assert first.exit_code == 0, first.output
        retarget(brief, 160)  # 150 -> 160: the stated 27% is now off
        reason = ["--by", "A. Analyst", "--reason", "The article's 27% predates the new target."]
        assert cli("review", str(brief), "--accept", UPSIDE, *reason).exit_code == 0
        assert build_json()["publishable"] is True
        second = cli("send", str(brief))
        assert second.exit_code == 0, second.output
        mails = [r.message for r in recorder.received]
    changes = json.loads((out / "changes.json").read_text(encoding="utf-8"))
    assert changes["since_edition"] is True
    assert changes["call"] == [
        {"id": "target", "label": "Price target", "old": "USD 150.00", "new": "USD 160.00"}
    ]
    text = pages(out / f"{brief.name}.pdf")
    first_page = " ".join(text[0].split())
    assert "Price target: USD 150.00 → USD 160.00" in first_page, first_page
    body = mails[-1].get_body(("plain",))
    assert body is not None and "Price target: USD 150.00 → USD 160.00" in body.get_content()
    back = " ".join(" ".join(text).split())
    assert "Rating and price-target history" in back, back[-1500:]
    history = back[back.index("Rating and price-target history") :]
    assert history.startswith(
        "Rating and price-target history DATE RATING PRICE TARGET"
        " 20 May 2026 Hold USD 110.00"
        " 21 November 2026 Buy USD 150.00"  # the delivered edition
        " 21 November 2026 Buy USD 160.00"  # this brief
    ), history
