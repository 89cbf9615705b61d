"""Markdown with helpers: static scan, safe rendering, helper placement."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.brief.helpers import (
    HelperCall,
    HelperSyntaxError,
    Prose,
    fill_metrics,
    scan_helpers,
    split_helpers,
)
from reportgen.brief.spec import MarkdownDoc, Place
from reportgen.render.markdown import render_markdown


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


def test_fill_metrics_gives_plain_text_for_email() -> None:
    text = 'Revenue reached {{ metric("rev") }} {{ cite("s") }}, margin {{metric(\'m\')}}{{ chart("c") }}.'
    assert fill_metrics(doc(text), {"rev": "USD 12.5bn", "m": "41%"}) == (
        "Revenue reached USD 12.5bn, margin 41%."
    )
    assert fill_metrics(doc("Broken {{ metric( }}"), {}) == "Broken {{ metric( }}"


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
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    html = render_markdown(
        doc("<i>x</i> ![logo](logo.png) ![far](/etc/x.png)"), lambda n, a: "", tmp_path
    )
    assert "&lt;i&gt;x&lt;/i&gt;" in html
    assert 'src="data:image/png;base64,' in html
    assert "[image not shown: far]" in html
