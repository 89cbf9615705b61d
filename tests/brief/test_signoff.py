"""Sign-off binds to what the reader sees (issue 21.4): an acceptance records the figures it
is about (value, unit, period, source, every side) and lapses when any changes; it is never
dated after today; `--accept` holds --by and --reason to review.yaml's own rules, and
`reportgen review` prints no line the file did not mean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from reportgen.cli import main
from tests.brief.test_review import CONFLICT, STALE, disputed


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def accepted(make_brief: Any, spec: dict[str, Any], *keys: str) -> Path:
    folder = make_brief(spec)
    done = run("review", folder, "--accept", *keys, "--by", "A. Analyst", "--reason", "Checked.")
    assert done.exit_code == 0, done.output
    assert run("check", "--strict", folder).exit_code == 0
    return folder


def entries(folder: Path) -> list[dict[str, Any]]:
    return list(YAML(typ="safe").load((folder / "review.yaml").read_text(encoding="utf-8")))


def test_an_acceptance_records_every_side_of_the_figure(
    make_brief: Any, minimal: dict[str, Any]
) -> None:
    folder = accepted(make_brief, disputed(minimal), CONFLICT, STALE)
    by_key = {e["key"]: e for e in entries(folder)}
    assert by_key[STALE]["values"] == [9.5, "Q1 2025"]  # as before: old readers keep working
    assert by_key[STALE]["figures"] == [
        {"value": 9.5, "unit": "USD bn", "period": "Q1 2025", "source": "alpha"}
    ]
    assert by_key[CONFLICT]["figures"] == [
        {"value": 31, "unit": "%", "period": "2026", "source": "alpha"},
        {"value": 35, "unit": "%", "period": "2026", "source": "beta"},
    ]
    text = (folder / "review.yaml").read_text(encoding="utf-8")
    assert "- {value: 9.5, unit: USD bn, period: Q1 2025, source: alpha}\n" in text


@pytest.mark.parametrize(
    ("change", "key", "now"),
    [
        (  # the figure shown changed a thousandfold: once the acceptance still held
            {"unit": "USD m"},
            STALE,
            "for 9.5 USD bn, Q1 2025, alpha, now 9.5 USD m, Q1 2025, alpha)",
        ),
        ({"period": "Q2 2024"}, STALE, "for [9.5, Q1 2025], now [9.5, Q2 2024])"),
        (
            {"source": "beta"},
            STALE,
            "for 9.5 USD bn, Q1 2025, alpha, now 9.5 USD bn, Q1 2025, beta)",
        ),
    ],
)
def test_a_changed_unit_period_or_source_reopens_the_acceptance(
    make_brief: Any, minimal: dict[str, Any], change: dict[str, str], key: str, now: str
) -> None:
    spec = disputed(minimal)
    folder = accepted(make_brief, spec, CONFLICT, STALE)
    spec["metrics"][-1].update(change)
    make_brief(spec)
    assert run("check", "--strict", folder).exit_code == 1
    listed = run("review", folder).output.splitlines()
    line = next(line for line in listed if line.startswith(f"lapsed   {key}"))
    assert line.endswith(f"(accepted by A. Analyst on {_today()} {now}"), line
    assert any(line.startswith(f"accepted {CONFLICT}") for line in listed)


def test_sources_swapping_values_in_a_conflict_reopen_it(
    make_brief: Any, minimal: dict[str, Any]
) -> None:
    spec = disputed(minimal)
    folder = accepted(make_brief, spec, CONFLICT, STALE)
    spec["metrics"][-3]["source"], spec["metrics"][-2]["source"] = "beta", "alpha"
    make_brief(spec)
    listed = run("review", folder).output
    assert (
        "for 31 %, 2026, alpha; 35 %, 2026, beta, now 31 %, 2026, beta; 35 %, 2026, alpha)"
        in listed
    )


def test_an_old_entry_without_figures_reopens_with_a_clear_message(
    make_brief: Any, minimal: dict[str, Any]
) -> None:
    folder = make_brief(disputed(minimal))
    (folder / "review.yaml").write_text(
        f"- key: {STALE}\n"
        "  accepted: {by: A. Analyst, on: 2026-11-21, reason: Checked.}\n"
        "  values: [9.5, Q1 2025]\n",
        encoding="utf-8",
    )
    checked = run("check", "--strict", folder)
    assert checked.exit_code == 1 and "Traceback" not in checked.output
    listed = run("review", folder).output
    assert (
        "(accepted by A. Analyst on 2026-11-21 for [9.5, Q1 2025], before review.yaml recorded "
        "the unit, period and source: check the figure and accept it again)"
    ) in listed
    assert run("review", folder, "--accept", STALE, "--by", "A", "--reason", "ok").exit_code == 0
    assert "figures" in entries(folder)[0]


def test_an_acceptance_dated_after_today_is_an_error(
    make_brief: Any, minimal: dict[str, Any]
) -> None:
    folder = make_brief(disputed(minimal))
    (folder / "review.yaml").write_text(
        f"- key: {STALE}\n"
        "  accepted: {by: A. Analyst, on: 2099-01-01, reason: Checked.}\n"
        "  values: [9.5, Q1 2025]\n",
        encoding="utf-8",
    )
    result = run("check", folder)
    assert result.exit_code == 1
    assert [line for line in result.output.splitlines() if "warning: " not in line] == [
        f"{folder}/review.yaml:1: [0].accepted.on: 2099-01-01 is after today ({_today()}): "
        "date the review when it is done"
    ]


@pytest.mark.parametrize(
    ("by", "reason", "expected"),
    [
        (
            "A\r\nB",
            "ok\u202ex",
            "--by: contains a line break (U+000D): write it on one line",
        ),
        (
            "A. Analyst",
            "ok\u202ex",
            "--reason: contains U+202E (RIGHT-TO-LEFT OVERRIDE), an invisible character",
        ),
        ("A\nFORGED", "ok", "--by: contains a line break (U+000A): write it on one line"),
        ("A. Analyst", "x" * 2001, "--reason: text is 2,001 characters long, over the limit"),
    ],
)
def test_accept_refuses_what_review_yaml_would_refuse_and_writes_nothing(
    make_brief: Any, minimal: dict[str, Any], by: str, reason: str, expected: str
) -> None:
    folder = make_brief(disputed(minimal))
    result = run("review", folder, "--accept", "all", "--by", by, "--reason", reason)
    assert result.exit_code == 2
    assert expected in result.output
    assert not (folder / "review.yaml").exists()
    assert run("check", folder).exit_code == 0  # the brief still builds


def test_review_prints_no_forged_line(make_brief: Any, minimal: dict[str, Any]) -> None:
    """A key or value of review.yaml holding a line break is refused at its line; no line of
    `reportgen review` ever starts with text the file supplied."""
    folder = make_brief(disputed(minimal))
    (folder / "review.yaml").write_text(
        '- key: "stale:x\\naccepted stale:old_revenue  by Boss"\n'
        "  accepted: {by: A. Analyst, on: 2026-11-21, reason: Checked.}\n"
        "  values: [9.5]\n",
        encoding="utf-8",
    )
    result = run("review", folder)
    assert result.exit_code == 1
    assert not any(line.startswith("accepted") for line in result.output.splitlines())
    assert [line for line in result.output.splitlines() if "warning: " not in line] == [
        f"{folder}/review.yaml:1: [0].key: contains a line break (U+000A): write it on one line"
    ]


def _today() -> str:
    from datetime import date

    return date.today().isoformat()


@pytest.mark.parametrize(
    ("entries_text", "expected"),
    [
        (  # which of the two would count? once the last, silently
            f"- key: {STALE}\n  accepted: {{by: A, on: 2026-11-20, reason: ok}}\n"
            "  values: [9.5, Q1 2025]\n"
            f"- key: {STALE}\n  accepted: {{by: B, on: 2026-11-21, reason: fine}}\n"
            "  values: [9.5, Q1 2025]\n",
            f"review.yaml:4: [1].key: '{STALE}' is accepted twice (first at line 1): "
            "keep one entry",
        ),
        (  # printed by `reportgen review` as a line of its own: a forged sign-off
            f'- key: {STALE}\n  accepted: {{by: "A\\naccepted stale:x  by Boss", '
            "on: 2026-11-21, reason: ok}\n",
            "review.yaml:1: [0].accepted.by: contains a line break (U+000A): write it on one line",
        ),
        (  # Python reads 20261121 and 2026-W47-6 as dates; brief.yaml does not
            f"- key: {STALE}\n  accepted: {{by: A, on: '20261121', reason: ok}}\n",
            "review.yaml:1: [0].accepted.on: must be a real date written YYYY-MM-DD, "
            "not '20261121' (not YYYY-MM-DD)",
        ),
    ],
)
def test_review_yaml_entries_have_one_meaning(
    make_brief: Any, minimal: dict[str, Any], entries_text: str, expected: str
) -> None:
    folder = make_brief(disputed(minimal))
    (folder / "review.yaml").write_text(entries_text, encoding="utf-8")
    result = run("check", folder)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if "warning: " not in line]
    assert errors == [f"{folder}/{expected}"]


def test_accept_reads_back_what_it_would_write(make_brief: Any, minimal: dict[str, Any]) -> None:
    """A finding key built from a CSV cell with a line break would make review.yaml
    unreadable: `--accept` says so and writes nothing, and the brief still builds."""
    peers = 'company,share,period\nAcme,60,"2025\nH1"\nGlobex,45,"2025\nH1"\nInitech,25,2024\n'
    folder = make_brief(minimal, {"peers.csv": peers})
    result = run("review", folder, "--accept", "all", "--by", "A. Analyst", "--reason", "ok")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "Error: review.yaml would not be readable, nothing written: "
        "[0].key: contains a line break (U+000A): write it on one line"
    )
    assert not (folder / "review.yaml").exists()
    assert run("check", folder).exit_code == 0
