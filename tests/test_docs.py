"""The documentation: every link in README.md, docs/ and benchmarks/README.md works
inside the repository (issue 14: the README linked outside it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO

PAGES = [
    REPO / "README.md",
    REPO / "benchmarks" / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"^```.*?^```|`[^`\n]*`", re.M | re.S)  # code blocks and spans


def _targets(page: Path) -> list[str]:
    """Every link target of a Markdown page outside code, without its #fragment."""
    text = CODE.sub("", page.read_text(encoding="utf-8"))
    return [t.split("#")[0] for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_points_at_a_file_in_the_repository(page: Path) -> None:
    for target in _targets(page):
        if not target:  # a link to a heading of the same page
            continue
        path = (page.parent / target).resolve()
        assert path.is_relative_to(REPO.resolve()), (
            f"{page.name}: {target} is outside the repository"
        )
        assert path.exists(), f"{page.name}: {target} does not exist"


def test_the_contracts_are_in_docs() -> None:
    for name, heading in (
        ("brief-format.md", "# Brief format v1"),
        ("config.md", "# reportgen.toml"),
    ):
        text = (REPO / "docs" / name).read_text(encoding="utf-8")
        assert text.startswith("> Copied verbatim from") and f"\n{heading}" in text
