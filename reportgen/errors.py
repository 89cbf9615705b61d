"""Error types shared by every stage. No click here: the CLI maps these to exit codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning"]


Value = float | str
"""A value a finding concerns (a reported figure, a period): what a review accepted."""


@dataclass(frozen=True)
class Figure:
    """One figure as the reader sees it: everything that shapes what is shown (a review
    of a finding about it binds to all of it: 12.5 USD bn is not 12.5 USD m)."""

    value: float
    unit: str = ""
    period: str = ""
    source: str = ""
    high: float | None = None  # the end of a range: 20-30%


@dataclass(frozen=True)
class Problem:
    """One finding about a brief, printed as `file:line: key: message`.

    A warning a reviewer can sign off carries `finding`, a key stable across edits
    (`conflict:china_share_alibaba`, `stale:global_share_aws`), and the `values` it is
    about: an acceptance in review.yaml lapses when they change (see brief/review.py),
    or when anything else about the `figures` it concerns changes (unit, period, source).
    """

    path: Path
    line: int | None
    key: str
    message: str
    severity: Severity = "error"
    finding: str | None = None
    values: tuple[Value, ...] = ()
    figures: tuple[Figure, ...] = ()

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        label = "warning: " if self.severity == "warning" else ""
        return one_line(f"{where}: {self.key}: {label}{self.message}")


def one_line(text: str) -> str:
    """Control characters (a newline in a YAML label, say) as escapes: one problem, one line."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text).strip()


class ReportgenError(Exception):
    """Base of every error reportgen reports to a user without a traceback."""


class BriefError(ReportgenError):
    """A brief broke one or more rules; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class BuildError(ReportgenError):
    """A stage after validation failed (layout, PDF, writing output)."""


class DeliveryError(ReportgenError):
    """Sending a brief by email failed."""


class ConfigError(ReportgenError):
    """reportgen.toml is unreadable or breaks the contract."""


class OutputError(ReportgenError):
    """The last good build of a brief is missing, incomplete or unreadable."""


class TemplatesNotFound(ReportgenError):
    """reportgen's own templates are missing: the installation is broken."""


class ReviewError(ReportgenError):
    """`review --accept` was asked for something it cannot do (unknown or placeholder key)."""


class ScaffoldError(ReportgenError):
    """The new brief cannot be created (bad id, folder already there)."""


class ServeError(ReportgenError):
    """The preview server cannot start (port taken, no brief)."""


class LedgerError(ReportgenError):
    """The ledger cannot be trusted or reached: damaged, not a database, or locked too long."""


class LockHeld(ReportgenError):
    """Another nightly or send run holds the lock of this output folder."""


class EditionError(ReportgenError):
    """An edition could not be kept (disk full, an existing edition file differs ...)."""


class HelperSyntaxError(Exception):
    """Brief Markdown used Jinja beyond helper calls; validation makes it a Problem."""

    def __init__(self, path: Path, line: int | None, message: str):
        self.path = path
        self.line = line
        self.message = message
        super().__init__(message)


class FormulaError(ValueError):
    """`of` is not one operation between two columns, or a column and a number."""


# reportgen.toml's problems in its own words: `file:line: key: message`, the line found in
# the text (tomllib keeps none) and pydantic's messages as a TOML author reads them.


def config_problem(path: Path, text: str, error: Any) -> str:
    """One pydantic error as `file:line: key: message`, the key's line found in the text."""
    loc = tuple(str(p) for p in error["loc"] if not isinstance(p, int))
    kind, message = error["type"], error["msg"].removeprefix("Value error, ")
    given = _as_toml(error.get("input"))
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        message = "must be a table ([" + ".".join(loc) + "])"
    elif kind in _WORDS:  # a bound (in ctx) follows its word: "at most 86400", "at most 1e+30"
        bound = next(iter(error.get("ctx", {}).values()), None)
        shown = "" if bound is None else f" {bound:g}" if isinstance(bound, float) else f" {bound}"
        message = f"must be {_WORDS[kind]}{shown}, not {given}"
    elif "input" in error and kind.endswith(("_type", "_parsing")):
        message = f"{message}, not {given}"
    return str(Problem(path, toml_line(text, loc), ".".join(loc) or "toml", message))


_WORDS = {
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "text in quotes",
    "finite_number": "a finite number",
    "greater_than": "more than",
    "greater_than_equal": "at least",
    "less_than": "less than",
    "less_than_equal": "at most",
}


def _as_toml(value: object) -> str:
    """A value as it reads in reportgen.toml: `true`, `2.0`, `1e+30`, `'text'`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str | float) else str(value)


def toml_line(text: str, loc: tuple[str, ...]) -> int | None:
    """The line where `key = ...` is written under its [table] (tomllib keeps no lines)."""
    table, key = loc[:-1], loc[-1] if loc else ""
    current: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.fullmatch(r"\[\[?\s*([^\]]+?)\s*\]\]?(\s*#.*)?", stripped)
        if header:
            current = tuple(part.strip().strip("\"'") for part in header.group(1).split("."))
            if current == loc:
                return number
            continue
        assigned = re.match(r"([A-Za-z0-9_.\"' -]+?)\s*=", stripped)
        if assigned and loc[: len(current)] == current:
            name = tuple(p.strip().strip("\"'") for p in assigned.group(1).split("."))
            whole = (*current, *name)
            if current == table and (name[-1] == key or name == loc):
                return number
            if len(whole) < len(loc) and loc[: len(whole)] == whole:  # an inline table
                return number
    return None
