"""reportgen.toml: the project configuration (config.md contract).

Every key is optional; `send` and `nightly` need [smtp] and [mail]. The SMTP
password never comes from a file: only from REPORTGEN_SMTP_PASSWORD.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from reportgen.errors import ConfigError, Problem, config_problem, toml_line
from reportgen.mailtext import ATTACHMENT_FIELDS, SUBJECT_FIELDS, parse_mailbox, template_problem

CONFIG_FILE = "reportgen.toml"
KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
DAY = 86_400.0  # seconds
# [build] per-brief ceilings. Generous for the example brief (5-20 s, 180 MiB resident,
# 540 MiB of address space; see docs/limits.md): one that needs more is pathological.
DEFAULT_SECONDS = 180.0
DEFAULT_MEMORY_MIB = 2048
PASSWORD_ENV = "REPORTGEN_SMTP_PASSWORD"


class _Section(BaseModel):
    """Strict: `true` is never the number 1 and `1` never `true`, `"25"` never a port."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class BuildConfig(_Section):
    briefs: list[str] = Field(default_factory=lambda: ["seeds"])
    out: str = "build"
    strict: bool = False  # nightly: a brief with warnings (stale, conflicting ...) is not sent
    # seconds one brief may take (0: no limit), at most a day
    timeout: float = Field(DEFAULT_SECONDS, ge=0, le=DAY, allow_inf_nan=False)
    # MiB of address space a brief may use (0: no limit), at most 1 TiB
    memory_limit: int = Field(DEFAULT_MEMORY_MIB, ge=0, le=MIB)


class SmtpConfig(_Section):
    """[smtp]: every number has a range, so a typo is a config error, never a hung night."""

    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "none"
    username: str = ""
    timeout: float = Field(30, gt=0, le=3600, allow_inf_nan=False)  # seconds, one exchange
    max_attempts: int = Field(5, ge=1, le=20)
    backoff: float = Field(2.0, ge=0, le=3600, allow_inf_nan=False)
    max_retry_time: float = Field(300, gt=0, le=86400, allow_inf_nan=False)  # one message, in all
    allow_plaintext_auth: bool = False  # AUTH over security = "none" to a host that is not loopback

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        """A name or an IP address: "" or a line break was a "cannot connect" at 6 a.m."""
        if not re.fullmatch(r"[A-Za-z0-9._:\[\]-]+", value):
            raise ValueError(f"not a host name or IP address: {value!r}")
        return value


class MailConfig(_Section):
    """[mail]: addresses parsed as mailboxes and templates checked here, at their key."""

    from_: str = Field("", alias="from")
    to: list[str] = Field(default_factory=list)
    subject: str | None = None  # None: the default for the brief (mailtext, config.md v1.2)
    attachment: str = "{ticker}-{as_of}.pdf"
    failures_to: str = ""
    only_changed: bool = False  # kept for old files: every edition goes to a mailbox once

    @field_validator("from_", "to", "failures_to")
    @classmethod
    def _mailboxes(cls, value: str | list[str]) -> str | list[str]:
        texts = value if isinstance(value, list) else [value] if value else []
        for i, text in enumerate(texts):
            try:
                parse_mailbox(text)
            except ValueError as exc:
                raise ValueError(f"[{i}]: {exc}" if texts is value else str(exc)) from None
        return value

    @field_validator("subject", "attachment")
    @classmethod
    def _template(cls, value: str | None, info: ValidationInfo) -> str | None:
        fields = SUBJECT_FIELDS if info.field_name == "subject" else ATTACHMENT_FIELDS
        problem = None if value is None else template_problem(value, fields)
        if problem:
            raise ValueError(problem)
        return value


class ScheduleConfig(_Section):
    time: str = Field("06:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")  # ASCII digits
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """A typo in the zone would silently shift the nightly run: refuse it up front."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name, e.g. Europe/London)"
            ) from exc
        return value


DATE_FORMAT = "%-d %B %Y"
DATE_DIRECTIVES = {
    **dict.fromkeys(("%d", "%-d", "%e"), "day"),
    **dict.fromkeys(("%B", "%b", "%m", "%-m"), "month"),
    **dict.fromkeys(("%Y", "%y"), "year"),
    **dict.fromkeys(("%A", "%a"), "weekday"),
    "%%": "percent",
}


class ThemeConfig(_Section):
    """A firm's look (reportgen.theme applies it); paths are relative to reportgen.toml."""

    firm: str = ""  # shown beside the logo at the top of every brief
    logo: str = ""  # an image file inside the project, embedded in the HTML
    accent: str = ""  # a hex colour, e.g. "#0b6e4f"
    fonts: list[str] = Field(default_factory=list)  # font family names, tried in order
    disclaimer: str = ""  # replaces the default "Not investment advice" paragraph
    templates: str = ""  # a folder of template overrides (default: ./templates when present)
    date_format: str = DATE_FORMAT  # every date of the brief, as strftime: "21 November 2026"

    @field_validator("accent")
    @classmethod
    def _hex_colour(cls, value: str) -> str:
        """The colour is written into CSS: accept nothing but #rgb or #rrggbb."""
        if value and not re.fullmatch(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value):
            raise ValueError(f"must be a hex colour like #0b6e4f, not {value!r}")
        return value.lower()

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, value: str) -> str:
        """One date style for the whole brief: day, month and year, from known directives."""
        directives = re.findall(r"%-?.", value)
        unknown = [d for d in directives if d not in DATE_DIRECTIVES]
        if unknown:
            raise ValueError(
                f"{unknown[0]!r} is not a date directive ({' '.join(DATE_DIRECTIVES)})"
            )
        parts = {DATE_DIRECTIVES[d] for d in directives}
        if not {"day", "month", "year"} <= parts:
            raise ValueError(f"{value!r} must show a day, a month and a year, e.g. {DATE_FORMAT!r}")
        return value

    @field_validator("fonts")
    @classmethod
    def _font_names(cls, value: list[str]) -> list[str]:
        """Font names are written into CSS too: letters, digits, spaces, '-' and '_' only."""
        for name in value:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,63}", name):
                raise ValueError(
                    f"{name!r} is not a plain font family name (letters, digits, spaces, - _)"
                )
        return value


class Limits(_Section):
    """[limits]: generous for real briefs (the example's brief.yaml is 9 KB), small enough that a
    hostile one fails in seconds; past each ceiling a limit no longer protects (docs/limits.md)."""

    brief_bytes: int = Field(256 * KIB, ge=1, le=16 * MIB)  # brief.yaml, checked before reading
    markdown_bytes: int = Field(256 * KIB, ge=1, le=16 * MIB)  # each .md file and inline body
    csv_bytes: int = Field(10 * MIB, ge=1, le=GIB)  # each CSV file
    csv_rows: int = Field(100_000, ge=1, le=10_000_000)  # data rows of each CSV
    csv_columns: int = Field(200, ge=1, le=10_000)  # cells in any row of a CSV
    image_bytes: int = Field(10 * MIB, ge=1, le=GIB)  # each image a Markdown text embeds
    image_pixels: int = Field(50_000_000, ge=1, le=500_000_000)  # refuses decompression bombs
    text_chars: int = Field(2_000, ge=1, le=1_000_000)  # a title, label, URL or CSV cell
    depth: int = Field(50, ge=2, le=200)  # YAML nesting; past ~300 the parser itself overflows
    max_number: float = Field(1e15, gt=0, le=1e30, allow_inf_nan=False)  # largest figure


DEFAULT_LIMITS = Limits()


class RatingConfig(_Section):
    """One rating of the scale; its upside bounds (fractions: 0.15 is 15%) make it checkable."""

    name: str = Field(min_length=1)
    definition: str = ""
    upside_min: float | None = Field(None, allow_inf_nan=False)  # inclusive; nan fits nothing
    upside_max: float | None = Field(None, allow_inf_nan=False)  # exclusive

    @model_validator(mode="after")
    def _ordered_bounds(self) -> RatingConfig:
        """A rating no upside can earn would flag every brief that uses it."""
        low, high = self.upside_min, self.upside_max
        if low is not None and high is not None and low >= high:
            raise ValueError(f"{self.name}: upside_min {low:g} must be below upside_max {high:g}")
        return self


class ComplianceConfig(_Section):
    """The back matter of every brief (config.md, v1.1)."""

    ratings: list[RatingConfig] = Field(default_factory=list)  # best first

    @field_validator("ratings")
    @classmethod
    def _unique_names(cls, value: list[RatingConfig]) -> list[RatingConfig]:
        """A brief's rating must name exactly one rule."""
        names = [r.name for r in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"rating {twice[0]!r} is defined twice")
        return value

    certification: str = ""
    disclosures: str = ""  # a Markdown file relative to reportgen.toml, or inline text
    # editions are kept at least this long, at most a century (a timedelta overflows past ~1e9)
    retention_days: int = Field(1095, ge=1, le=36_500)


class _Levels(_Section):
    """Each level asks for more than the one below, or a level could never apply."""

    model_config = ConfigDict(populate_by_name=True)
    rising: ClassVar[bool]
    medium: float
    high: float
    very_high: float

    @model_validator(mode="after")
    def _ordered(self) -> _Levels:
        low, mid, top = self.medium, self.high, self.very_high
        if not (low < mid < top if self.rising else low > mid > top):
            word, sign = ("rise", "<") if self.rising else ("fall", ">")
            raise ValueError(
                f"must {word}: medium {low:g} {sign} high {mid:g} {sign} very-high {top:g}"
            )
        return self


class RewardLevels(_Levels):
    """The bull upside (a fraction: 0.5 is +50%) at which reward is at least each level."""

    rising = True
    medium: float = Field(0.20, gt=0, le=100, allow_inf_nan=False)
    high: float = Field(0.50, gt=0, le=100, allow_inf_nan=False)
    very_high: float = Field(1.00, gt=0, le=100, alias="very-high", allow_inf_nan=False)


class RiskLevels(_Levels):
    """The bear downside (−0.3 is −30%; at most −100%) at which risk is at least each level."""

    rising = False
    medium: float = Field(-0.15, lt=0, ge=-1, allow_inf_nan=False)
    high: float = Field(-0.30, lt=0, ge=-1, allow_inf_nan=False)
    very_high: float = Field(-0.50, lt=0, ge=-1, alias="very-high", allow_inf_nan=False)


class VerdictConfig(_Section):
    """[verdict] (config.md v1.2): the levels a brief's scenarios imply for its verdict."""

    reward: RewardLevels = Field(default_factory=RewardLevels)
    risk: RiskLevels = Field(default_factory=RiskLevels)


DEFAULT_VERDICT = VerdictConfig()


class Config(_Section):
    path: Path | None = None
    build: BuildConfig = Field(default_factory=BuildConfig)
    smtp: SmtpConfig | None = None
    mail: MailConfig | None = None
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    theme: ThemeConfig = Field(default_factory=ThemeConfig)
    limits: Limits = Field(default_factory=Limits)
    compliance: ComplianceConfig | None = None
    verdict: VerdictConfig = Field(default_factory=VerdictConfig)

    @property
    def base_dir(self) -> Path:
        """Relative paths in the file are relative to the file, so cron and systemd find them."""
        return self.path.resolve().parent if self.path else Path.cwd()

    def resolve(self, value: str | Path) -> Path:
        """A path from the config, anchored at `base_dir` unless absolute."""
        return self.base_dir / Path(value).expanduser()


SHOWN_PROBLEMS = 20  # of a file with more


def load_config(path: Path | None = None) -> Config:
    """Read reportgen.toml (or `path`); defaults when no file exists and none was named."""
    explicit = path is not None
    path = path or Path(CONFIG_FILE)
    if not path.is_file():
        if explicit:
            raise ConfigError(f"{path}: config file not found")
        return Config()
    text = _read_text(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)$", str(exc))
        line = int(found.group(1)) if found else None
        message = str(exc)[: found.start()].strip() if found else str(exc)
        raise _error(path, line, "toml", message) from exc
    except RecursionError as exc:  # tomllib recurses per level: [[[[...]]]] of a few KiB
        raise _error(path, None, "toml", "nested too deeply to read") from exc
    smtp = raw.get("smtp")
    if isinstance(smtp, dict) and "password" in smtp:
        message = f"a password must not be stored in a file; set {PASSWORD_ENV} instead"
        raise _error(path, toml_line(text, ("smtp", "password")), "smtp.password", message)
    try:
        return Config.model_validate({**raw, "path": path})
    except ValidationError as exc:
        errors = exc.errors()  # the first ones: each looks for its line in the whole file
        problems = [config_problem(path, text, error) for error in errors[:SHOWN_PROBLEMS]]
        if len(errors) > SHOWN_PROBLEMS:
            more = f"and {len(errors) - SHOWN_PROBLEMS:,} more problems (fix these first)"
            problems.append(str(Problem(path, None, "toml", more)))
        raise ConfigError("\n".join(problems)) from exc


def _error(path: Path, line: int | None, key: str, message: str) -> ConfigError:
    return ConfigError(str(Problem(path, line, key, message)))


def _read_text(path: Path) -> str:
    """The file as text; a one-line error when it is not UTF-8 or not readable."""
    try:
        if path.stat().st_size > MIB:  # no real configuration comes near this
            raise _error(path, None, "toml", "larger than 1 MiB")
        return path.read_text(encoding="utf-8-sig")  # a byte-order mark, as Notepad saves it
    except UnicodeDecodeError as exc:
        raise _error(path, None, "toml", f"not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise _error(path, None, "toml", exc.strerror or str(exc)) from exc
