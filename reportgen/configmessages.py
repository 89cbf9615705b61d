"""reportgen.toml's problems in its own words: `file:line: key: message`, the line found in
the text (tomllib keeps none) and pydantic's messages as a TOML author reads them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from reportgen.errors import Problem


def config_problem(path: Path, text: str, error: Any) -> str:
    """One pydantic error as `file:line: key: message`, the key's line found in the text."""
    loc = tuple(str(p) for p in error["loc"] if not isinstance(p, int))
    kind, message = error["type"], error["msg"].removeprefix("Value error, ")
    given = _as_toml(error.get("input"))
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        message = "must be a table ([" + ".".join(loc) + "])"
    elif kind in _TYPE_WORDS:
        message = f"must be {_TYPE_WORDS[kind]}, not {given}"
    elif kind in _BOUND_WORDS:
        bound = next(iter(error.get("ctx", {}).values()), "")
        shown = f"{bound:g}" if isinstance(bound, float) else bound  # 86400, 1e+30
        message = f"must be {_BOUND_WORDS[kind]} {shown}, not {given}"
    elif "input" in error and kind.endswith(("_type", "_parsing")):
        message = f"{message}, not {given}"
    return str(Problem(path, toml_line(text, loc), ".".join(loc) or "toml", message))


_TYPE_WORDS = {
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "text in quotes",
    "finite_number": "a finite number",
}
_BOUND_WORDS = {
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
