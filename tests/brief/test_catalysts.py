"""catalysts: dates as a day, a month or a quarter; sorted; one dated before as_of is a warning."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from reportgen.brief.catalysts import parse_when, timeline
from reportgen.brief.models import Catalyst
from reportgen.build import check_brief
from tests.sellside_briefs import FILES, market_spec


@pytest.mark.parametrize(
    ("text", "start", "end", "shown"),
    [
        ("2027-02-15", date(2027, 2, 15), date(2027, 2, 15), "15 Feb 2027"),
        ("2027-02", date(2027, 2, 1), date(2027, 2, 28), "Feb 2027"),
        ("2027-Q1", date(2027, 1, 1), date(2027, 3, 31), "Q1 2027"),
        ("2028-Q4", date(2028, 10, 1), date(2028, 12, 31), "Q4 2028"),
    ],
)
def test_when_parses(text: str, start: date, end: date, shown: str) -> None:
    when = parse_when(text)
    assert (when.start, when.end, when.text) == (start, end, shown)


def test_a_date_in_yaml_stays_the_text_the_author_wrote() -> None:
    catalyst = Catalyst.model_validate({"when": date(2027, 2, 15), "event": "x", "sources": ["a"]})
    assert catalyst.when == "2027-02-15"


@pytest.mark.parametrize("text", ["2027", "Q1 2027", "2027-Q5", "27-02", "next spring"])
def test_other_shapes_are_schema_errors(make_brief: Callable[..., Path], text: str) -> None:
    spec = market_spec()
    spec["catalysts"][0]["when"] = text
    _, problems = check_brief(make_brief(spec, FILES))
    assert [p.key for p in problems] == ["catalysts[0].when"]


def test_timeline_is_sorted_earliest_first() -> None:
    catalysts = [
        Catalyst(when=w, event=e, sources=["a"])
        for w, e in [("2027-Q2", "c"), ("2027-02-10", "b"), ("2026-12", "a"), ("2027-Q1", "b2")]
    ]
    assert [d.catalyst.event for d in timeline(catalysts)] == ["a", "b2", "b", "c"]


def test_catalyst_before_as_of_is_one_warning_at_its_line(make_brief: Callable[..., Path]) -> None:
    spec = market_spec()
    spec["catalysts"][1]["when"] = "2026-10"  # as_of is 2026-11-21
    spec["catalysts"].append({"when": "2026-Q4", "event": "This quarter", "sources": ["alpha"]})
    folder = make_brief(spec, FILES)
    checked, problems = check_brief(folder)
    assert checked is not None  # a warning: the brief builds
    line = next(
        i
        for i, t in enumerate((folder / "brief.yaml").read_text().splitlines(), 1)
        if "2026-10" in t
    )
    past = [str(p) for p in problems if "already happened" in p.message]
    assert past == [
        f"{folder / 'brief.yaml'}:{line}: catalysts[1].when: warning: catalyst 'Investor day' is "
        "dated Oct 2026, before as_of 2026-11-21: already happened?"
    ]


def test_an_impossible_day_is_an_error(make_brief: Callable[..., Path]) -> None:
    spec = market_spec()
    spec["catalysts"][0]["when"] = "2027-02-30"
    checked, problems = check_brief(make_brief(spec, FILES))
    assert checked is None
    assert [(p.key, p.message) for p in problems] == [
        ("catalysts[0].when", "'2027-02-30' is not a real date")
    ]


def test_unknown_catalyst_source_is_an_error(make_brief: Callable[..., Path]) -> None:
    spec = market_spec()
    spec["catalysts"][0]["sources"] = ["gamma"]
    _, problems = check_brief(make_brief(spec, FILES))
    assert [(p.key, p.message) for p in problems] == [
        ("catalysts[0].sources[0]", "unknown source 'gamma' (known: alpha, beta, quote)")
    ]
