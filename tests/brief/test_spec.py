"""Stage 1, loading: every input bounded by [limits], every refusal one `file:line: key:`
problem, never an exception from the YAML library, the date parser or the stack."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from reportgen.brief.spec import load_spec
from reportgen.build import check_brief
from reportgen.config import DEFAULT_LIMITS, Limits
from reportgen.errors import BriefError
from tests.conftest import write_brief

HEAD = """\
title: Acme
subject: {name: Acme Corp}
as_of: 2026-11-21
verdict: {label: Buy, risk: low, reward: high}
sources:
  alpha: {title: Alpha, published: 2026-11-01}
sections:
  - title: Thesis
    body: Text.
risks:
  - {title: Rivals, likelihood: low, impact: low, sources: [alpha]}
"""


def problems(folder: Path, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    with pytest.raises(BriefError) as caught:
        load_spec(folder, limits)
    return [str(p).removeprefix(f"{folder}/") for p in caught.value.problems]


def test_dates_are_real_dates_and_parse(tmp_path: Path) -> None:
    spec = load_spec(write_brief(tmp_path / "a", HEAD))
    assert spec.brief.as_of == date(2026, 11, 21)
    assert spec.brief.sources["alpha"].published == date(2026, 11, 1)
    bad = write_brief(tmp_path / "b", HEAD.replace("2026-11-21", "2026-02-29"))
    assert problems(bad) == [
        "brief.yaml:3: as_of: must be a real date written YYYY-MM-DD, not '2026-02-29' "
        "(day value is outside expected range)"
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("x: !!set {a, b}\n", "12: yaml: YAML tag '!!set' is not allowed in a brief: remove it"),
        (
            "x: !!binary aGk=\n",
            "12: yaml: YAML tag '!!binary' is not allowed in a brief: remove it",
        ),
        ("x: !custom 1\n", "12: yaml: YAML tag '!custom' is not allowed in a brief: remove it"),
        (
            "x: &a 1\ny: *a\n",
            "13: yaml: YAML aliases (*a) are not allowed in a brief: write the value out",
        ),
        (
            "z: &b {a: 1}\nw:\n  <<: *b\n",
            "14: yaml: YAML aliases (*b) are not allowed in a brief: write the value out",
        ),
    ],
)
def test_tags_and_aliases_are_refused(tmp_path: Path, extra: str, message: str) -> None:
    folder = write_brief(tmp_path / "a", HEAD + extra)
    assert problems(folder) == [f"brief.yaml:{message}"]


def test_plain_tags_only_restate_the_type(tmp_path: Path) -> None:
    folder = write_brief(tmp_path / "a", HEAD.replace("title: Acme", "title: !!str 2024"))
    assert load_spec(folder).brief.title == "2024"


def test_depth_is_bounded_before_the_parser_recurses(tmp_path: Path) -> None:
    limits = Limits(depth=5)
    ok = write_brief(tmp_path / "a", HEAD + "authors: [[[x]]]\n")
    assert problems(ok, limits) == [
        "brief.yaml:12: authors[0]: must be a name, or {name, role, email}"
    ]
    deep = write_brief(tmp_path / "b", HEAD + "authors: " + "[" * 5000 + "]" * 5000 + "\n")
    assert problems(deep) == [
        "brief.yaml:12: yaml: nested deeper than 50 levels (raise [limits].depth in reportgen.toml)"
    ]


def test_sizes_are_read_with_stat_before_the_file(tmp_path: Path) -> None:
    """A 4 GiB (sparse) brief.yaml is refused without reading a byte of it."""
    folder = tmp_path / "a"
    folder.mkdir()
    with (folder / "brief.yaml").open("wb") as handle:
        handle.truncate(4 << 30)
    assert problems(folder) == [
        "brief.yaml: brief.yaml: 'brief.yaml' is 4 GiB, over the limit of 256 KiB "
        "(raise [limits].brief_bytes in reportgen.toml)"
    ]


def test_brief_yaml_linked_from_outside_is_refused(tmp_path: Path) -> None:
    outside = write_brief(tmp_path / "elsewhere", HEAD)
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "brief.yaml").symlink_to(outside / "brief.yaml")
    assert problems(folder) == ["brief.yaml: brief.yaml: links outside the brief folder"]


NAME = "Acme Corporation International"  # the longest text of HEAD: 30 characters


@pytest.mark.parametrize(("limit", "ok"), [(len(NAME), True), (len(NAME) - 1, False)])
def test_text_limit_is_inclusive(tmp_path: Path, limit: int, ok: bool) -> None:
    folder = write_brief(tmp_path / "a", HEAD.replace("Acme Corp", NAME))
    limits = Limits(text_chars=limit)
    if ok:
        load_spec(folder, limits)
    else:
        assert problems(folder, limits) == [
            "brief.yaml:2: subject.name: text is 30 characters long, over the limit of 29 "
            "(raise [limits].text_chars in reportgen.toml)"
        ]


def test_keys_and_list_items_are_texts_too(tmp_path: Path) -> None:
    folder = write_brief(
        tmp_path / "a", HEAD + 'authors: ["A\\u2067B"]\n' + 'recipients: ["x@y.z"]\n'
    )
    assert problems(folder) == [
        "brief.yaml:12: authors[0]: contains U+2067 (RIGHT-TO-LEFT ISOLATE), an invisible "
        "character that can make the text display differently from what was written: remove it"
    ]
    keyed = write_brief(tmp_path / "b", HEAD.replace("  alpha:", '  "al\\u200dpha":'))
    assert problems(keyed)[0].startswith(
        "brief.yaml:6: sources.al\\u200dpha: contains U+200D (ZERO WIDTH JOINER)"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e15", None),
        (
            "-1e16",
            "-1e+16 is larger than 1e+15 in size (raise [limits].max_number in reportgen.toml)",
        ),
        (".nan", "must be a finite number, not nan"),
        (
            "1" + "0" * 30,
            "1e+30 is larger than 1e+15 in size (raise [limits].max_number in reportgen.toml)",
        ),
    ],
)
def test_numbers_are_finite_and_sane(tmp_path: Path, value: str, message: str | None) -> None:
    text = HEAD + f"metrics:\n  - {{id: m, label: M, value: {value}, source: alpha}}\n"
    folder = write_brief(tmp_path / "a", text)
    if message is None:
        assert load_spec(folder).brief.metrics[0].value == float(value)
    else:
        assert problems(folder) == [f"brief.yaml:13: metrics[0].value: {message}"]


def test_markdown_is_bounded_in_bytes_not_characters(tmp_path: Path) -> None:
    body = "word " * 1000  # 5,000 bytes: over text_chars, under markdown_bytes
    folder = write_brief(tmp_path / "a", HEAD.replace("body: Text.", f"body: {body}"))
    load_spec(folder, Limits(text_chars=100))
    assert problems(folder, Limits(markdown_bytes=4000)) == [
        "brief.yaml:9: sections[0].body: Markdown text is over the limit of 4,000 bytes "
        "(raise [limits].markdown_bytes in reportgen.toml)"
    ]
    filed = write_brief(
        tmp_path / "b", HEAD.replace("body: Text.", "body: long.md"), {"long.md": body}
    )
    assert problems(filed, Limits(markdown_bytes=4000)) == [
        "brief.yaml:9: sections[0].body: 'long.md' is 4.88 KiB, over the limit of 3.91 KiB "
        "(raise [limits].markdown_bytes in reportgen.toml)"
    ]


def test_metrics_csv_is_scanned_and_its_numbers_bounded(tmp_path: Path) -> None:
    def brief(rows: str) -> Path:
        files: dict[str, Any] = {"metrics.csv": "id,label,value,source\n" + rows}
        return write_brief(tmp_path / f"b{len(rows)}", HEAD + "metrics: metrics.csv\n", files)

    assert problems(brief("m,M,inf,alpha\n")) == [
        "metrics.csv:2: data: cell 'inf': must be a finite number, not inf"
    ]
    checked, found = check_brief(brief("m,M,2000000000000000,alpha\n"))
    assert checked is None
    assert [str(p).split("/")[-1] for p in found if p.severity == "error"] == [
        "metrics.csv:2: data: cell '2000000000000000': 2e+15 is larger than 1e+15 in size "
        "(raise [limits].max_number in reportgen.toml)"
    ]
    checked, found = check_brief(brief('m,M,"1,234",alpha\n'))  # as in any CSV: text
    assert [str(p).split("/")[-1] for p in found] == [
        "metrics.csv:2: metrics[0].value: must be a number, not '1,234'"
    ]
