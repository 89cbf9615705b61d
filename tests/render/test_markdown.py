"""Markdown with helpers: static scan, safe rendering, helper placement."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from reportgen.brief.helpers import (
    HelperCall,
    Prose,
    image_problem,
    images_in,
    plain_text,
    scan_helpers,
    split_helpers,
)
from reportgen.brief.spec import MarkdownDoc, Place
from reportgen.config import Limits
from reportgen.errors import HelperSyntaxError
from reportgen.render.markdown import FOOTNOTE_MARK, render_markdown


def doc(text: str, line: int = 1) -> MarkdownDoc:
    return MarkdownDoc("sections[0].body", text, Place(Path("b/body.md"), line))


def test_scan_finds_calls_with_lines() -> None:
    calls = scan_helpers(
        doc('One {{ metric("a") }}\n\nTwo {{ cite("s") }}\n{{ chart("c") }}\n', line=10)
    )
    assert [(c.name, c.arg, c.place.line) for c in calls] == [
        ("metric", "a", 10),
        ("cite", "s", 12),
        ("chart", "c", 13),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "{{ metric(x) }}",
        '{{ metric("a") | upper }}',
        "{{ ''.__class__ }}",
        "{% set x = 1 %}",
        '{{ metric("a", "b") }}',
    ],
)
def test_anything_but_a_helper_call_is_refused(text: str) -> None:
    with pytest.raises(HelperSyntaxError):
        scan_helpers(doc(text))


def test_split_gives_prose_and_calls_with_lines() -> None:
    parts = split_helpers(doc('Up {{ metric("a") }}.\n\nSee {{ cite(\n"s") }} and\nmore', line=5))
    assert [(type(p).__name__, p.text if isinstance(p, Prose) else p.arg) for p in parts] == [
        ("Prose", "Up "),
        ("HelperCall", "a"),
        ("Prose", ".\n\nSee "),
        ("HelperCall", "s"),
        ("Prose", " and\nmore"),
    ]
    assert [p.line if isinstance(p, Prose) else p.place.line for p in parts] == [5, 5, 5, 7, 8]
    assert isinstance(parts[1], HelperCall)


def test_plain_text_shows_figures_and_drops_the_rest_with_its_space() -> None:
    text = 'Up {{ metric("a") }} {{ cite("s") }}.\n\nSee\t{{ chart("c") }}{{ metric("b") }}'
    assert plain_text(doc(text), {"a": "USD 5bn", "b": "34%"}) == "Up USD 5bn.\n\nSee34%"


def test_render_places_blocks_and_inlines(tmp_path: Path) -> None:
    seen: list[tuple[str, str]] = []

    def resolve(name: str, arg: str) -> str:
        seen.append((name, arg))
        return "<TABLE/>" if name == "table" else f"<sup>{arg}</sup>"

    html = render_markdown(
        doc('# Head\n\nText {{ cite("s") }} **bold**\n\n{{ table("t") }}\n'), resolve, tmp_path
    )
    assert seen == [("cite", "s"), ("table", "t")]
    assert "<h3>Head</h3>" in html  # Markdown headings sit below the section's <h2>
    assert "<sup>s</sup>" in html and "<strong>bold</strong>" in html
    assert "<TABLE/>" in html and "<p><TABLE/></p>" not in html


def test_raw_html_is_escaped_and_local_images_embedded(tmp_path: Path) -> None:
    Image.new("RGB", (4, 3), "red").save(tmp_path / "logo.png")  # a real image: sizes are read
    html = render_markdown(
        doc("<i>x</i> ![logo](logo.png) ![far](/etc/x.png)"), lambda n, a: "", tmp_path
    )
    assert "&lt;i&gt;x&lt;/i&gt;" in html
    assert 'src="data:image/png;base64,' in html
    assert "[image not shown: far]" in html


def test_the_authors_text_cannot_forge_a_placeholder(tmp_path: Path) -> None:
    """The old RGBLOCK<n>X markers are plain text now; the real ones cannot be typed."""
    text = 'RGBLOCK0X RGINLINE7X \ufdd00\ufdd2 \ufdd17\ufdd2 {{ cite("s") }}\n\n{{ table("t") }}\n'
    html = render_markdown(doc(text), lambda n, a: f"<{n}/>", tmp_path)
    assert "RGBLOCK0X RGINLINE7X" in html
    assert html.count("<cite/>") == 1 and html.count("<table/>") == 1
    assert "\ufdd0" not in html and "\ufdd1" not in html and "\ufdd2" not in html


@pytest.mark.parametrize(
    ("name", "src", "expected"),
    [
        ("a.png", "a.png", None),
        ("a.png", "https://example.org/a.png", "only image files inside the brief folder"),
        ("a.png", "data:image/png;base64,AAAA", "only image files inside the brief folder"),
        ("a.png", "../a.png", "is outside the brief folder (a link leaving it is not followed)"),
        ("a.png", "b.png", "no such image file in the brief folder"),
        ("a.txt", "a.txt", "not an image type reportgen embeds (png, jpeg, gif, svg, webp)"),
        (
            "big.png",
            "big.png",
            "5 x 3 pixels, more than 10 (raise [limits].image_pixels in reportgen.toml)",
        ),
        ("fake.png", "fake.png", "not a readable image file"),
        ("x.svg", "x.svg", "an SVG with entity declarations is not embedded"),
    ],
)
def test_image_problem_names_the_reason(
    tmp_path: Path, name: str, src: str, expected: str | None
) -> None:
    root = tmp_path / "brief"
    root.mkdir()
    Image.new("RGB", (2, 2)).save(root / "a.png")
    Image.new("RGB", (2, 2)).save(tmp_path / "a.png")
    Image.new("RGB", (5, 3)).save(root / "big.png")
    (root / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (root / "a.txt").write_text("x")
    (root / "x.svg").write_text('<!DOCTYPE svg [<!ENTITY a "lol">]><svg>&a;</svg>')
    problem = image_problem(root, src, Limits(image_pixels=10))
    assert problem == expected or (expected is not None and problem.startswith(expected))


def test_images_are_found_with_their_lines() -> None:
    text = "Intro\n\n![one](a.png) and ![two](b.png)\n\n- ![three](c.png)\n"
    assert images_in(doc(text, line=10)) == [("a.png", 12), ("b.png", 12), ("c.png", 14)]


def _marks(name: str, arg: str) -> str:
    """Cites as real footnote marks, metrics as a figure ending in its source's mark."""
    mark = FOOTNOTE_MARK.format(n=1 if arg in ("s", "m") else 2)
    return mark if name == "cite" else f'<span class="metric">12.5%{mark}</span>'


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('the opening {{ cite("s") }}.', "the opening[1]."),  # the space before a mark goes
        ('the opening\n{{ cite("s") }}.', "the opening[1]."),  # so does a line break
        ('up {{ metric("m") }} {{ cite("s") }} a year', "up 12.5%[1] a year"),  # merged
        ('twice {{ cite("s") }}{{ cite("s") }}.', "twice[1]."),
        ('two {{ cite("s") }} {{ cite("t") }}.', "two[1][2]."),  # different sources stay
        ('up {{ metric("m") }} since', "up 12.5%[1] since"),  # a metric keeps its space
    ],
)
def test_footnote_marks_sit_tight_and_never_repeat(text: str, shown: str, tmp_path: Path) -> None:
    html = render_markdown(doc(text), _marks, tmp_path)
    assert re.sub(r"<[^>]+>", "", html).strip() == shown
