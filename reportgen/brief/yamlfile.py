"""Read brief.yaml into plain data with the line of every key, within the [limits].

ruamel's round-trip loader keeps the lines; its composer, before it builds a
node, refuses what a brief never needs and a hostile one uses: aliases (the
"billion laughs"), tags (`!!omap`, `!!python/...`) and nesting deep enough to
exhaust the stack. Dates stay text until the model parses them, so `2026-02-30`
is an error at its key, not a ValueError.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from reportgen.brief.bounds import (
    DECIMAL,
    line_problem,
    number_problem,
    raise_hint,
    size_problem,
    text_problem,
)
from reportgen.config import Limits
from reportgen.errors import BriefError, Problem

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Place:
    """Where a value was written: a file and a 1-based line."""

    path: Path
    line: int | None


Places = dict[Loc, Place]
# Explicit tags that only restate what YAML infers; anything else is refused.
PLAIN = ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
PLAIN_TAGS = {f"tag:yaml.org,2002:{name}" for name in PLAIN}


class _Constructor(RoundTripConstructor):
    """Round-trip constructor that leaves timestamps as the text the author typed, and
    numbers not written the one way a brief writes them (bounds.DECIMAL: `0x10`, `1_000`,
    `0b101`) as text too, so that a number field refuses them at their line as it refuses
    the same text in a CSV cell, and a text field keeps what was typed."""

    def construct_yaml_int(self, node: Any) -> Any:
        if not _decimal(node):
            return str(node.value)
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # Python's 4300-digit limit, with advice about sys for the author
            digits = sum(ch.isdigit() for ch in str(node.value))
            message = f"a whole number of {digits:,} digits: too long to be a figure"
            raise ConstructorError(None, None, message, node.start_mark) from None

    def construct_yaml_float(self, node: Any) -> Any:
        return super().construct_yaml_float(node) if _decimal(node) else str(node.value)


def _decimal(node: Any) -> bool:
    """Digits, sign, point, exponent; or YAML's .inf and .nan (refused by number_problem)."""
    text = str(node.value)
    return bool(DECIMAL.fullmatch(text)) or text.lstrip("+-").lower() in (".inf", ".nan")


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_str)
_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)


def read_yaml(path: Path, limits: Limits) -> tuple[dict[str, Any], Places, list[Problem]]:
    """(plain data, places by location, problems with texts and numbers) of one YAML file.

    Raises BriefError when the file cannot be read at all."""
    data, refused = load_text(_read_text(path, limits), limits)
    if refused is not None:
        raise BriefError([Problem(path, refused[0], "yaml", refused[1])])
    if not isinstance(data, CommentedMap):
        why = "must be a mapping of keys (title:, ...)"
        raise BriefError([Problem(path, 1, "brief.yaml", why)])
    walk = _Walk(path, limits)
    walk.places[()] = Place(path, 1)
    return walk.plain(data, ()), walk.places, walk.problems


def load_text(
    text: str, limits: Limits, joined: bool = False
) -> tuple[Any, tuple[int | None, str] | None]:
    """(data, None), or (None, (line, why)) when the text is not YAML a brief may hold.
    A reader's error message is cut to its first line, or with `joined` kept whole on one."""
    try:
        return hardened(limits).load(text), None
    except MaxDepthExceededError as exc:
        mark = exc.problem_mark
        why = f"nested deeper than {limits.depth} levels ({raise_hint('depth')})"
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        why = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
    except (YAMLError, ValueError, TypeError, RecursionError) as exc:
        said, name, mark = str(exc), type(exc).__name__, None
        why = (" ".join(said.split()) or name) if joined else (said.splitlines() or [name])[0]
    return None, (mark.line + 1 if mark else None, why)


def hardened(limits: Limits) -> YAML:
    """A round-trip loader for the files an author writes (brief.yaml, review.yaml): no
    aliases, no tags, no nesting past [limits].depth, dates left as the text typed."""
    yaml = YAML(typ="rt")
    yaml.Constructor, yaml.Composer = _Constructor, _Composer
    yaml.max_depth = limits.depth + 1  # ruamel counts the scalars inside the deepest list too
    return yaml


def _read_text(path: Path, limits: Limits) -> str:
    """The text of brief.yaml, its size known before it is read."""
    if not path.is_file():
        why: str | None = "no brief.yaml in this folder"
    else:
        why = size_problem(path, limits.brief_bytes, "brief_bytes")
    try:
        if why is None:
            return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        why = f"not UTF-8 text ({exc.reason})"
    except OSError as exc:
        why = exc.strerror or str(exc)
    raise BriefError([Problem(path, None, "brief.yaml", why)])


class _Composer(Composer):
    """Refuses aliases and unusual tags as it meets them: one pass, before any node is built."""

    def compose_document(self) -> Any:
        """A brief is YAML 1.2: under a `%YAML 1.1` directive `010` would be 8 and `yes` true."""
        event = self.parser.peek_event()
        version = getattr(event, "version", None)
        if version not in (None, (1, 2)):
            shown = ".".join(map(str, version))
            message = f"%YAML {shown} is not allowed: a brief is YAML 1.2, remove the directive"
            raise MarkedYAMLError(problem=message, problem_mark=event.start_mark)
        return super().compose_document()

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            why = f"YAML aliases (*{event.anchor}) are not allowed in a brief: write the value out"
            raise MarkedYAMLError(problem=why, problem_mark=event.start_mark)
        tag = str(getattr(event, "tag", None) or "")  # only scalars and collections have one
        if tag and tag != "!" and tag not in PLAIN_TAGS:
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            message = f"YAML tag '{shown}' is not allowed in a brief: remove it"
            raise MarkedYAMLError(problem=message, problem_mark=event.start_mark)
        return super().compose_node(parent, index)


MARKDOWN_KEYS = {
    ("verdict", "summary"),
    ("sections", "body"),
    ("risks", "body"),
    ("market", "method"),
    ("market", "target_risks"),
}


def is_markdown(loc: Loc) -> bool:
    """Markdown bodies are bounded by [limits].markdown_bytes, not by text_chars."""
    names = tuple(part for part in loc if isinstance(part, str))
    return names in MARKDOWN_KEYS


class _Walk:
    """Round-trip nodes -> plain dicts and lists, with each key's line and every bad value."""

    def __init__(self, path: Path, limits: Limits):
        self.path, self.limits = path, limits
        self.places: Places = {}
        self.problems: list[Problem] = []

    def plain(self, node: Any, loc: Loc) -> Any:
        if isinstance(node, TaggedScalar):  # `!!str 2024`, `!!timestamp ...`: the text
            node = str(node.value)
        if isinstance(node, CommentedMap):
            return self.mapping(node, loc)
        if isinstance(node, CommentedSeq):
            items = []
            for index, value in enumerate(node):
                self.places[(*loc, index)] = Place(self.path, node.lc.item(index)[0] + 1)
                items.append(self.plain(value, (*loc, index)))
            return items
        if isinstance(node, str):
            self.check_text(loc, str(node))
            return str(node)
        if isinstance(node, int | float):
            self.check(loc, number_problem(node, self.limits))
        return node

    def mapping(self, node: CommentedMap, loc: Loc) -> dict[str, Any]:
        out = {}
        for key in node:
            child = (*loc, str(key))
            self.places[child] = Place(self.path, node.lc.key(key)[0] + 1)
            self.check(child, line_problem(str(key), self.limits))  # ids: one line
            value = node[key]
            block = isinstance(value, LiteralScalarString | FoldedScalarString)
            line = node.lc.value(key)[0] + (2 if block else 1)
            self.places[(*child, "#text")] = Place(self.path, line)
            out[str(key)] = self.plain(value, child)
        return out

    def check_text(self, loc: Loc, text: str) -> None:
        """Markdown (its characters checked with the Markdown files) only for its size."""
        limit = self.limits.markdown_bytes
        if not is_markdown(loc):
            self.check(loc, text_problem(text, self.limits))
        elif len(text.encode("utf-8")) > limit:
            hint = raise_hint("markdown_bytes")
            self.check(loc, f"Markdown text is over the limit of {limit:,} bytes ({hint})")

    def check(self, loc: Loc, message: str | None) -> None:
        if message is None:
            return
        where = self.places.get((*loc, "#text")) or self.places.get(loc) or Place(self.path, None)
        self.problems.append(Problem(where.path, where.line, format_loc(loc), message))


def format_loc(loc: Loc) -> str:
    """('metrics', 2, 'source') -> 'metrics[2].source'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
