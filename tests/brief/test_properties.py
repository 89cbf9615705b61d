"""Property tests: whatever brief.yaml, CSV and Markdown an analyst writes, reportgen
either builds the brief or says file:line what is wrong and exits 1: never a traceback,
never a partial output file."""

from __future__ import annotations

import copy
import io
import re
import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from reportgen.build import check_brief
from reportgen.cli import main
from reportgen.config import Limits
from tests.conftest import EXAMPLE, MINIMAL, write_brief

TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)
NUMBER = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.none(),
    st.booleans(),
)
MARKDOWN = st.lists(
    st.one_of(
        TEXT,
        st.sampled_from(
            [
                '{{ metric("revenue") }}',
                '{{ cite("alpha") }}',
                '{{ table("peers") }}',
                '{{ chart("peers-bar") }}',
                '{{ metric("nope") }}',
                "{% if x %}",
                "{{",
                "}}",
                "{#",
                "34%",
                "$5.6 billion",
                "[3]",
                "\n",
                "\n\n# Head\n",
                "\n- item ",
                "2025",
                "<b>x</b>",
                "| a | b |\n|---|---|\n| 1 | 2 |\n",
                "![img](../secret.png)",
            ]
        ),
    ),
    max_size=10,
).map("".join)
CELL = st.one_of(
    st.sampled_from(
        [
            "Acme",
            "Globex",
            "alpha",
            "beta",
            "H1 2025",
            "2025 (period not stated)",
            "",
            "inf",
            "nan",
            "1e308",
            "-0",
        ]
    ),
    st.integers(-50, 150).map(str),
    st.floats(0, 100).map(lambda f: f"{f:.1f}"),
    TEXT.filter(lambda t: not re.search(r'[,"\r\n]', t)),
)
HEADER = st.lists(
    st.sampled_from(["company", "share", "period", "source", "x"]),
    min_size=0,
    max_size=4,
    unique=True,
)
CSV = st.tuples(HEADER, st.lists(st.lists(CELL, max_size=4), max_size=5)).map(
    lambda hr: "\n".join([",".join(hr[0]), *(",".join(row) for row in hr[1])]) + "\n"
)
EDITS: dict[tuple[str | int, ...], Any] = {
    ("metrics", 0, "value"): NUMBER,
    ("metrics", 0, "period"): st.one_of(
        st.none(), st.sampled_from(["Q1 2025", "2025", "H1 2026", "FY2019"]), TEXT
    ),
    ("metrics", 0, "unit"): st.one_of(st.none(), st.sampled_from(["%", "USD bn", "x"]), TEXT),
    ("metrics", 1, "value"): NUMBER,
    ("sources", "alpha", "published"): st.one_of(
        st.none(), st.sampled_from(["2020-01-01", "2026-11-20", "soon"])
    ),
    ("as_of",): st.sampled_from(["2026-11-21", "2030-01-01", "yesterday", "2026-02-30"]),
    ("sections", 0, "body"): MARKDOWN,
    ("risks", 0, "body"): MARKDOWN,
    ("verdict", "summary"): MARKDOWN,
    ("metrics", 0, "label"): TEXT,
    ("sources", "alpha", "title"): TEXT,
    ("sections", 0, "title"): TEXT,
    ("checks",): st.one_of(
        st.none(),
        st.fixed_dictionaries({"tolerance_pct": NUMBER}),
        st.fixed_dictionaries({"max_age_days": st.one_of(NUMBER, st.just({"quarter": 1}))}),
    ),
}
VALUE = st.one_of(st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6, allow_nan=False))
PLAUSIBLE = {  # edits that mostly still build, so that the PDF stage sees odd content
    **{path: EDITS[path] for path in EDITS if path[-1] in ("period", "unit", "body", "summary")},
    ("metrics", 0, "value"): VALUE,
    ("metrics", 1, "value"): VALUE,
}
DROP = st.sampled_from(
    [None, "title", "sources", "metrics", "tables", "charts", "sections", "risks", "verdict"]
)
PROBLEM = re.compile(r"^\S[^:]*(:\d+)?: [\w.\[\]-]+: ")


@st.composite
def briefs(
    draw: st.DrawFn, edits: dict[tuple[str | int, ...], Any] = EDITS, wild: bool = True
) -> tuple[dict[str, Any], dict[str, str]]:
    """A brief spec close to a valid one, with some fields replaced by anything at all,
    maybe another CSV (`wild`: maybe drop a top-level key too)."""
    spec = copy.deepcopy(MINIMAL)
    for path in draw(st.lists(st.sampled_from(list(edits)), max_size=4, unique=True)):
        _set(spec, path, draw(edits[path]))
    drop = draw(DROP) if wild else None
    if drop:
        spec.pop(drop)
    files = {"peers.csv": draw(CSV)} if draw(st.integers(0, 2)) == 0 else {}
    return spec, files


def _set(spec: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    node: Any = spec
    for key in path[:-1]:
        node = node[key]
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def assert_reported(result: Result) -> None:
    """Exit 0, or exit 1 with every problem as `file[:line]: key: message`; never a traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        lines = result.output.rstrip("\n").split("\n")  # a terminal breaks lines at \n only
        problems = [ln for ln in lines if not ln.startswith(("failed ", "error: "))]
        assert problems, result.output
        assert all(PROBLEM.match(ln) for ln in problems), result.output


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(briefs())
def test_check_reports_or_passes(brief: tuple[dict[str, Any], dict[str, str]]) -> None:
    spec, files = brief
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_brief(Path(tmp) / "acme", spec, files)
        assert_reported(CliRunner().invoke(main, ["check", str(folder)]))


@settings(max_examples=40, deadline=None)
@given(TEXT.map(lambda t: f"title: x\n{t}"), st.text(max_size=200))
def test_any_yaml_text_is_reported_not_raised(head: str, tail: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_brief(Path(tmp) / "acme", head + tail)
        assert_reported(CliRunner().invoke(main, ["check", str(folder)]))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(briefs(PLAUSIBLE, wild=False))
def test_build_is_whole_or_absent(brief: tuple[dict[str, Any], dict[str, str]]) -> None:
    spec, files = brief
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_brief(Path(tmp) / "briefs" / "acme", spec, files)
        out = Path(tmp) / "out"
        result = CliRunner().invoke(main, ["build", str(folder), "--out", str(out), "-j", "1"])
        assert_reported(result)
        event(f"exit {result.exit_code}")
        written = (
            sorted(p.name for p in (out / "acme").glob("*")) if (out / "acme").is_dir() else []
        )
        if result.exit_code == 0:
            assert {"acme.html", "acme.pdf", "snapshot.json", "changes.json"} <= set(written), (
                written
            )
            assert not [n for n in written if n.endswith(".tmp")]
        else:
            assert written == [], written


# The example brief, mutated byte-wise and structurally: every run of `check` ends in a
# verdict (exit 0 or 1, each problem one `file[:line]: key: message` line), never an exception.
EXAMPLE_FILES = {p.name: p.read_bytes() for p in sorted(EXAMPLE.iterdir()) if p.is_file()}
SMALL = Limits(csv_rows=300, depth=20, text_chars=500)  # small, so the limits are reached
ODD = st.sampled_from(
    [
        "2026-02-30",
        "2026-13-01",
        "\u202eevil",
        "zero\u200bwidth",
        "\ufdd00\ufdd2",
        "x" * 600,
        "RGBLOCK0X",
        "{{ metric('nope') }}",
        "![x](../../etc/passwd.png)",
        "nan",
        "-inf",
    ]
)
YAML_VALUE = st.one_of(
    st.integers(-(10**30), 10**30),
    st.floats(),
    TEXT,
    ODD,
    st.booleans(),
    st.none(),
    st.lists(st.integers(0, 9), max_size=3),
    st.dictionaries(st.sampled_from(["a", "id", "title"]), st.integers(), max_size=2),
)
YAML_SNIPPET = st.sampled_from(
    [
        "alias: &x [1, 2]\nagain: *x\n",
        "deep: " + "[" * 300 + "]" * 300 + "\n",
        "odd: !!omap [{a: 1}]\n",
        "odd: !!python/object/apply:os.system [true]\n",
        "as_of: 2026-02-30\n",
        "---\nsecond: document\n",
        "title: [unclosed\n",
        "\tindent: tab\n",
    ]
)
CSV_TAIL = st.lists(
    st.one_of(CELL, st.sampled_from(["inf", "nan", "1e308", "\u202e", '"', ",,,,,,"])), max_size=8
).map(lambda cells: ",".join(cells) + "\n")


def _yaml_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key and item of the example's brief.yaml, to replace or delete one."""
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    found = [path] if path else []
    for key, value in children:
        found += _yaml_paths(value, (*path, key))
    return found


def _plain(text: bytes) -> Any:
    return YAML(typ="safe").load(text.decode("utf-8"))


EXAMPLE_DATA = _plain(EXAMPLE_FILES["brief.yaml"])
EXAMPLE_PATHS = _yaml_paths(EXAMPLE_DATA)


DELETE = object()


@st.composite
def mutated_example(draw: st.DrawFn) -> dict[str, bytes]:
    """The example's files with one kind of damage: bytes, YAML structure, YAML text, or a CSV."""
    files = dict(EXAMPLE_FILES)
    kind = draw(st.sampled_from(["bytes", "structure", "snippet", "csv"]))
    event(f"mutation: {kind}")
    if kind == "bytes":
        name = draw(st.sampled_from(sorted(files)))
        data = bytearray(files[name])
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(data)))
            cut = draw(st.integers(0, 16))
            data[at : at + cut] = draw(st.binary(max_size=8))
        files[name] = bytes(data)
    elif kind == "structure":
        data = copy.deepcopy(EXAMPLE_DATA)
        for path in draw(st.lists(st.sampled_from(EXAMPLE_PATHS), min_size=1, max_size=3)):
            _replace(data, path, draw(st.one_of(st.just(DELETE), YAML_VALUE)))
        stream = io.StringIO()
        YAML(typ="safe").dump(data, stream)
        files["brief.yaml"] = stream.getvalue().encode("utf-8")
    elif kind == "snippet":
        files["brief.yaml"] += draw(YAML_SNIPPET).encode("utf-8")
    else:
        name = draw(st.sampled_from([n for n in sorted(files) if n.endswith(".csv")]))
        rows = draw(st.sampled_from([1, 1, 2, 400]))
        files[name] += draw(CSV_TAIL).encode("utf-8") * rows
    return files


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> None:
    """Set or delete one key or item; a path an earlier edit took away is left alone."""
    *parents, last = path
    node = data
    try:
        for key in parents:
            node = node[key]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    except (KeyError, IndexError, TypeError):
        return


def _write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_example())
def test_mutated_example_is_checked_never_raised(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = _write(Path(tmp) / "example", files)
        checked, problems = check_brief(folder, limits=SMALL)
        event("passed" if checked else "refused")
        assert checked is not None or any(p.severity == "error" for p in problems)
        for problem in problems:
            assert PROBLEM.match(str(problem)), str(problem)
            assert "\n" not in str(problem)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_example())
def test_mutated_example_at_the_cli(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = _write(Path(tmp) / "example", files)
        assert_reported(CliRunner().invoke(main, ["check", str(folder)]))
