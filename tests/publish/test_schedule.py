"""`reportgen schedule`: systemd units and a crontab line an operator can install as is."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from reportgen.cli import main
from reportgen.config import load_config
from reportgen.publish.schedule import crontab_line, systemd_units

CONFIG = """\
[build]
briefs = ["briefs"]
out = "out dir"

[schedule]
time = "06:30"
timezone = "Asia/Shanghai"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    folder = tmp_path / "my project"  # a space, to prove the quoting
    folder.mkdir()
    path = folder / "reportgen.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_systemd_timer_runs_at_the_configured_time_and_zone_and_catches_up(
    config_file: Path,
) -> None:
    service, timer = systemd_units(load_config(config_file)).values()
    assert "OnCalendar=*-*-* 06:30:00 Asia/Shanghai" in timer
    assert "Persistent=true" in timer
    assert "WantedBy=timers.target" in timer
    assert f'--config "{config_file.resolve()}"' in service
    assert f"WorkingDirectory={config_file.parent.resolve()}" in service
    assert "SuccessExitStatus=75" in service
    assert "Type=oneshot" in service


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_accepts_the_units(config_file: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "schedule",
            "--install",
            "--unit-dir",
            str(tmp_path / "units"),
            "--config",
            str(config_file),
        ],
    )
    assert result.exit_code == 0, result.output
    written = sorted((tmp_path / "units").iterdir())
    assert [p.name for p in written] == ["reportgen-nightly.service", "reportgen-nightly.timer"]
    check = subprocess.run(
        ["systemd-analyze", "verify", *map(str, written)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
    calendar = subprocess.run(
        ["systemd-analyze", "calendar", "*-*-* 06:30:00 Asia/Shanghai"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert calendar.returncode == 0, calendar.stderr


def test_schedule_prints_both_units_by_default(config_file: Path) -> None:
    result = CliRunner().invoke(main, ["schedule", "--config", str(config_file)])
    assert result.exit_code == 0
    assert (
        "# reportgen-nightly.service" in result.output
        and "# reportgen-nightly.timer" in result.output
    )


def test_crontab_line_is_wrapped_in_flock_with_the_zone(config_file: Path) -> None:
    text = crontab_line(load_config(config_file))
    assert "CRON_TZ=Asia/Shanghai\n" in text
    [job] = [line for line in text.splitlines() if line.startswith("30 6 * * * ")]
    assert "flock -n " in job and " nightly --config " in job


def test_the_cron_job_runs_as_written(config_file: Path) -> None:
    """Run the job part of the line with a shell, as cron would: it reaches reportgen and logs."""
    job = crontab_line(load_config(config_file)).splitlines()[-1].split(" ", 5)[5]
    result = subprocess.run(["sh", "-c", job], capture_output=True, text=True, timeout=120)
    assert (
        result.returncode == 1
    )  # no [mail] section in this config: reportgen refused, and said why
    log = (config_file.parent / "out dir" / ".reportgen" / "nightly.log").read_text()
    assert "[mail] is required" in log


def test_cron_cannot_be_installed_and_a_bad_zone_is_refused(config_file: Path) -> None:
    result = CliRunner().invoke(
        main, ["schedule", "--cron", "--install", "--config", str(config_file)]
    )
    assert result.exit_code == 2 and "crontab -e" in result.output
    config_file.write_text(CONFIG.replace("Asia/Shanghai", "Asia/Shangai"))
    result = CliRunner().invoke(main, ["schedule", "--config", str(config_file)])
    assert result.exit_code == 1
    assert "schedule.timezone" in result.output and "unknown time zone" in result.output


def test_schedule_needs_a_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["schedule"])
    assert result.exit_code == 1 and "no reportgen.toml" in result.output
