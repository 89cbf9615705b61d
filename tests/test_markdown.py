"""Markdown with helpers: static scan, safe rendering, helper placement."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from reportgen.brief.spec import MarkdownDoc, Place
from reportgen.render.markdown import HelperSyntaxError, render_markdown, scan_helpers


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
