"""`reportgen schedule`: a systemd service + timer, or a crontab line, for the nightly job.

The units run `reportgen nightly --config <absolute path>` from the config's folder at
`[schedule].time` in `[schedule].timezone` (OnCalendar takes the zone, so the job does not move
when the host's zone differs). Persistent=true makes a night missed while the machine was off
run at the next boot. Exit 75 (another run holds the lock) is not a failure. The SMTP password
goes in an environment file the units read, never in reportgen.toml.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from reportgen.config import PASSWORD_ENV, Config
from reportgen.files import write_atomic
from reportgen.publish.ledger import STATE_DIR

UNIT = "reportgen-nightly"
DEFAULT_UNIT_DIR = Path("~/.config/systemd/user")
ENV_FILE = "%h/.config/reportgen/env"


def command_line(config: Config) -> list[str]:
    """How the scheduler starts the job: this install's reportgen, with an absolute config path."""
    script = Path(sys.executable).parent / "reportgen"
    launcher = [str(script)] if script.is_file() else [sys.executable, "-m", "reportgen"]
    config_file = config.path.resolve() if config.path else config.base_dir / "reportgen.toml"
    return [*launcher, "nightly", "--config", str(config_file)]


def _systemd_quote(arg: str) -> str:
    """systemd's ExecStart splits on spaces and expands % and $: quote and escape them."""
    arg = arg.replace("%", "%%").replace("$", "$$")
    return f'"{arg}"' if any(ch in arg for ch in " \t\"'\\") else arg


def systemd_units(config: Config) -> dict[str, str]:
    """The .service and .timer, by file name, for `[schedule]`."""
    exec_start = " ".join(_systemd_quote(a) for a in command_line(config))
    workdir = str(config.base_dir).replace("%", "%%")
    service = f"""\
[Unit]
Description=reportgen nightly: build, verify and email the briefs
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
WorkingDirectory={workdir}
# {PASSWORD_ENV}=... goes in this file (chmod 600), never in reportgen.toml
EnvironmentFile=-{ENV_FILE}
ExecStart={exec_start}
# 75: another run holds the lock, so this one did nothing: not a failure
SuccessExitStatus=75
"""
    schedule = config.schedule
    timer = f"""\
[Unit]
Description=reportgen nightly at {schedule.time} {schedule.timezone}

[Timer]
OnCalendar=*-*-* {schedule.time}:00 {schedule.timezone}
# a night missed while the machine was off runs at the next boot
Persistent=true
Unit={UNIT}.service

[Install]
WantedBy=timers.target
"""
    return {f"{UNIT}.service": service, f"{UNIT}.timer": timer}


def install_units(config: Config, unit_dir: Path | None = None) -> list[Path]:
    """Write the two units; the caller then runs `systemctl --user daemon-reload` and enables the timer."""
    folder = (unit_dir or DEFAULT_UNIT_DIR).expanduser()
    written = {folder / name: text for name, text in systemd_units(config).items()}
    for path, text in written.items():
        write_atomic(path, text.encode())
    return list(written)


def crontab_line(config: Config) -> str:
    """CRON_TZ plus one line wrapped in `flock -n`, so cron never starts an overlapping run."""
    hour, minute = (int(part) for part in config.schedule.time.split(":"))
    out = config.resolve(config.build.out) / STATE_DIR
    lock = shlex.quote(str(out / "cron.lock"))
    log = shlex.quote(str(out / "nightly.log"))
    command = " ".join(shlex.quote(a) for a in command_line(config))
    job = (
        f"cd {shlex.quote(str(config.base_dir))} && mkdir -p {shlex.quote(str(out))}"
        f" && flock -n {lock} {command} >> {log} 2>&1"
    )
    return (
        f"# reportgen nightly; set {PASSWORD_ENV} above this line (cronie reads CRON_TZ)\n"
        f"CRON_TZ={config.schedule.timezone}\n"
        f"{minute} {hour} * * * {job.replace('%', chr(92) + '%')}\n"  # cron turns a bare % into a newline
    )
