"""The output folder: a brief's HTML and PDF are replaced together or not at all.

Faults are injected at output.py's one seam for writing a file (`write`): the
disk fills at each write in turn, or the process is killed (SIGKILL, in a real
subprocess) at each write in turn. Afterwards a reader must find the whole
previous build or the whole new one, and the message must be true.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reportgen.build import make_brief
from reportgen.output import EDITIONS_LINK, FINDINGS_FILE, Inputs, write_built
from reportgen.project import Project
from reportgen.record import RECORD_FILE, last_good
from reportgen.render.changes import load_snapshot
from tests.conftest import MINIMAL, REPO, build_brief, write_brief

FIRST = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
SECOND = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
NAMES = ("acme.html", "acme.pdf", "snapshot.json", "changes.json", FINDINGS_FILE, RECORD_FILE)


def _pair(out: Path) -> tuple[str, str]:
    """sha256 of the HTML and the PDF a reader finds in out/acme/."""
    folder = out / "acme"
    return tuple(  # type: ignore[return-value]
        hashlib.sha256((folder / f"acme.{ext}").read_bytes()).hexdigest() for ext in ("html", "pdf")
    )


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A brief built once (on disk), and its next build made in memory, not yet written."""
    root = tmp_path_factory.mktemp("output")
    brief = write_brief(root / "briefs" / "acme", MINIMAL)
    out = root / "out"
    assert build_brief(brief, out, now=FIRST).ok
    spec = {**MINIMAL, "title": "Acme's Bigger Bet"}
    write_brief(brief, spec)
    second = make_brief(brief, Project(clock=SECOND), load_snapshot(out / "acme"))
    assert second.ok and second.pdf is not None
    return {"brief": brief, "out": out, "old": _pair(out), "second": second}


def _fresh_out(two_builds: dict[str, Any], tmp_path: Path) -> Path:
    """A private copy of the first build's output folder (links kept as links)."""
    out = tmp_path / "out"
    subprocess.run(["cp", "-a", str(two_builds["out"]), str(out)], check=True)
    return out


def _fails_at(n: int) -> Callable[[Path, bytes], None]:
    calls = iter(range(1, 100))

    def write(path: Path, data: bytes) -> None:
        if next(calls) == n:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        with open(path, "xb") as handle:
            handle.write(data)

    return write


@pytest.mark.parametrize("n", range(1, len(NAMES) + 1))
def test_disk_full_at_any_write_leaves_the_previous_pair_whole(
    two_builds: dict[str, Any], tmp_path: Path, n: int
) -> None:
    out = _fresh_out(two_builds, tmp_path)
    with pytest.raises(OSError, match="No space left"):
        write_built(two_builds["second"], out, Inputs(), write=_fails_at(n))
    assert _pair(out) == two_builds["old"]
    assert last_good(out, "acme").pdf == (out / "acme" / "acme.pdf").read_bytes()
    write_built(two_builds["second"], out)  # the next good build cleans up after the failed one
    assert _pair(out) != two_builds["old"]
    assert len(list((out / ".reportgen" / "versions" / "acme").iterdir())) == 1


def test_a_failed_write_is_reported_truthfully_at_the_cli(
    two_builds: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch says the brief failed and the previous output stayed, and it did."""
    from click.testing import CliRunner

    from reportgen import output
    from reportgen.cli import main

    out = _fresh_out(two_builds, tmp_path)
    monkeypatch.setattr(output, "write_file", _fails_at(2))
    result = CliRunner().invoke(main, ["build", str(two_builds["brief"]), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "write: cannot write" in result.stderr and "No space left" in result.stderr
    assert "failed acme: not built, previous output left in place" in result.stderr
    assert _pair(out) == two_builds["old"]


KILLER = """
import sys
from pathlib import Path
from tests.test_output import killed_build
killed_build(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
"""


def killed_build(brief: Path, out: Path, n: int) -> None:
    """In a subprocess: make the next build and die (SIGKILL) at its n-th write, or at the
    switch when n is past the last write."""
    import signal

    from reportgen import output

    calls = iter(range(1, 100))
    real = output.write_file

    def write(path: Path, data: bytes) -> None:
        if next(calls) == n:
            os.kill(os.getpid(), signal.SIGKILL)
        real(path, data)

    def switch(*args: Any) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if n > len(NAMES):
        output._switch = switch  # type: ignore[assignment]
    built = make_brief(brief, Project(clock=SECOND), load_snapshot(out / "acme"))
    write_built(built, out, write=write)


@pytest.mark.parametrize("n", range(1, len(NAMES) + 2))
def test_a_kill_at_any_point_leaves_one_whole_build(
    two_builds: dict[str, Any], tmp_path: Path, n: int
) -> None:
    out = _fresh_out(two_builds, tmp_path)
    run = subprocess.run(
        [sys.executable, "-c", KILLER, str(two_builds["brief"]), str(out), str(n)],
        cwd=REPO,
        capture_output=True,
        timeout=300,
    )
    assert run.returncode == -9, run.stderr.decode()
    assert _pair(out) == two_builds["old"]
    write_built(two_builds["second"], out)  # recovery: the next build replaces it whole
    assert _pair(out) != two_builds["old"]
    assert sorted(p.name for p in out.iterdir()) == [".reportgen", "acme"]  # no staged link left
    assert len(list((out / ".reportgen" / "versions" / "acme").iterdir())) == 1


def test_an_output_folder_from_before_versions_is_taken_over(
    two_builds: dict[str, Any], tmp_path: Path
) -> None:
    """An <out>/<id> that is a plain folder (an older reportgen) is replaced by the link."""
    out = tmp_path / "out"
    subprocess.run(["cp", "-rL", str(two_builds["out"]), str(out)], check=True)
    assert not (out / "acme").is_symlink()
    write_built(two_builds["second"], out)
    assert (out / "acme").is_symlink()
    assert sorted(p.name for p in (out / "acme").iterdir()) == sorted(NAMES)


def test_delivered_editions_outlive_every_build_version(
    two_builds: dict[str, Any], tmp_path: Path
) -> None:
    """`<out>/<id>/editions/` is the same folder before and after a rebuild (a link in each
    version to <out>/.reportgen/editions/<id>/), so a new build never hides an edition."""
    out = _fresh_out(two_builds, tmp_path)
    assert not (out / "acme" / EDITIONS_LINK).exists()  # nothing delivered yet: no folder
    kept = out / ".reportgen" / "editions" / "acme" / "2026-11-21-0123abcd.pdf"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"%PDF- an edition")
    write_built(two_builds["second"], out)
    assert (out / "acme" / EDITIONS_LINK / kept.name).read_bytes() == b"%PDF- an edition"
    assert (out / ".reportgen" / "editions" / "acme" / kept.name).is_file()
