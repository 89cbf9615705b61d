"""reportgen.toml read as typed (issue 21.1): `true` is never a number, every size and
duration of [limits] and [build] has a range, a byte-order mark is read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reportgen.cli import main
from reportgen.config import ConfigError, load_config


def config_error(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "reportgen.toml"
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value).replace(f"{tmp_path}/", "")


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            "[limits]\nbrief_bytes = true\n",
            "reportgen.toml:2: limits.brief_bytes: must be a whole number, not true",
        ),
        (
            "[limits]\ncsv_rows = 2.0\n",
            "reportgen.toml:2: limits.csv_rows: must be a whole number, not 2.0",
        ),
        ("[build]\nstrict = 1\n", "reportgen.toml:2: build.strict: must be true or false, not 1"),
        (
            "[build]\ntimeout = false\n",
            "reportgen.toml:2: build.timeout: must be a number, not false",
        ),
        (
            "[limits]\nbrief_bytes = 1073741824\n",
            "reportgen.toml:2: limits.brief_bytes: must be at most 16777216, not 1073741824",
        ),
        (
            "[limits]\nmarkdown_bytes = 0\n",
            "reportgen.toml:2: limits.markdown_bytes: must be at least 1, not 0",
        ),
        (
            "[limits]\ncsv_bytes = 99999999999\n",
            "reportgen.toml:2: limits.csv_bytes: must be at most 1073741824, not 99999999999",
        ),
        (
            "[limits]\ncsv_rows = 99999999999\n",
            "reportgen.toml:2: limits.csv_rows: must be at most 10000000, not 99999999999",
        ),
        (
            "[limits]\ncsv_columns = 100000\n",
            "reportgen.toml:2: limits.csv_columns: must be at most 10000, not 100000",
        ),
        (
            "[limits]\nimage_bytes = 2147483648\n",
            "reportgen.toml:2: limits.image_bytes: must be at most 1073741824, not 2147483648",
        ),
        (
            "[limits]\nimage_pixels = 900000000\n",
            "reportgen.toml:2: limits.image_pixels: must be at most 500000000, not 900000000",
        ),
        (
            "[limits]\ntext_chars = 100000000\n",
            "reportgen.toml:2: limits.text_chars: must be at most 1000000, not 100000000",
        ),
        (
            "[limits]\ndepth = 1000\n",
            "reportgen.toml:2: limits.depth: must be at most 200, not 1000",
        ),
        (
            "[limits]\nmax_number = 1e300\n",
            "reportgen.toml:2: limits.max_number: must be at most 1e+30, not 1e+300",
        ),
        (
            "[build]\ntimeout = inf\n",
            "reportgen.toml:2: build.timeout: must be a finite number, not inf",
        ),
        ("[build]\ntimeout = -1\n", "reportgen.toml:2: build.timeout: must be at least 0, not -1"),
        (
            "[build]\ntimeout = 1e9\n",
            "reportgen.toml:2: build.timeout: must be at most 86400, not 1000000000.0",
        ),
        (
            "[build]\nmemory_limit = 99999999999\n",
            "reportgen.toml:2: build.memory_limit: must be at most 1048576, not 99999999999",
        ),
        (  # "" or a line break in the host was a "cannot connect" at send time
            '[smtp]\nhost = ""\n',
            "reportgen.toml:2: smtp.host: not a host name or IP address: ''",
        ),
        (
            '[smtp]\nhost = "127.0.0.1\\r\\nX"\n',
            "reportgen.toml:2: smtp.host: not a host name or IP address: '127.0.0.1\\r\\nX'",
        ),
    ],
)
def test_a_config_value_out_of_its_type_or_range_is_an_error_at_its_key(
    tmp_path: Path, toml: str, expected: str
) -> None:
    assert config_error(tmp_path, toml) == expected


def test_the_cli_prints_the_config_error_as_one_line_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_brief: Any, minimal: dict[str, Any]
) -> None:
    folder = make_brief(minimal)
    (tmp_path / "reportgen.toml").write_text("[limits]\nbrief_bytes = true\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: reportgen.toml:2: limits.brief_bytes: must be a whole number, not true"
    ]


def test_a_config_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "reportgen.toml"
    path.write_bytes(b"\xef\xbb\xbf# saved by Notepad\n[limits]\nbrief_bytes = 300000\n")
    assert load_config(path).limits.brief_bytes == 300_000
    path.write_bytes(b"\xef\xbb\xbf[limits]\nbrief_bytes = true\n")
    with pytest.raises(ConfigError, match=r"reportgen.toml:2: limits.brief_bytes: must be a whole"):
        load_config(path)


def test_the_schedule_time_is_written_in_ascii_digits(tmp_path: Path) -> None:
    assert config_error(tmp_path, '[schedule]\ntime = "\uff10\uff16:\uff10\uff10"\n').startswith(
        "reportgen.toml:2: schedule.time: String should match pattern"
    )


def test_the_retention_of_editions_has_a_range(tmp_path: Path) -> None:
    """`retention_days = 99999999999` ended the nightly run in an OverflowError."""
    assert config_error(tmp_path, "[compliance]\nretention_days = 99999999999\n") == (
        "reportgen.toml:2: compliance.retention_days: must be at most 36500, not 99999999999"
    )


@pytest.mark.parametrize(
    "toml", ["a = " + "[" * 5000 + "]" * 5000, "a = " + "{b = " * 5000 + "1" + "}" * 5000]
)
def test_a_config_nested_past_the_reader_is_one_line(tmp_path: Path, toml: str) -> None:
    """It was a RecursionError traceback from tomllib."""
    path = tmp_path / "reportgen.toml"
    path.write_text(toml + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}: toml: nested too deeply to read"


def test_a_config_with_thousands_of_bad_values_shows_the_first_twenty(tmp_path: Path) -> None:
    """Each problem looks for its line in the whole file: 20,000 took seconds and printed
    20,000 lines."""
    path = tmp_path / "reportgen.toml"
    path.write_text("[mail]\nfrom = 'a@b.example'\nto = [\n" + "0,\n" * 20_000 + "]\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    lines = str(raised.value).splitlines()
    assert len(lines) == 21 and all(line.startswith(f"{path}:") for line in lines)
    assert lines[-1] == f"{path}: toml: and 19,980 more problems (fix these first)"
