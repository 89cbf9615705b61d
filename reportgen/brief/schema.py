"""The JSON Schema of brief.yaml, generated from the pydantic models that validate it.

Editors (VS Code's YAML extension, anything built on yaml-language-server) use
it to autocomplete keys and underline mistakes while an analyst types. The
models describe the *validated* brief; a few keys accept more on input than
the model holds (a metrics CSV file name, a numeric highlight), and the schema
must say what the analyst may write, so those are widened here.
"""

from __future__ import annotations

import json
from typing import Any

from reportgen.brief.models import Brief
from reportgen.brief.spec import METRIC_CSV_COLUMNS

SCHEMA_FILE = "brief.schema.json"
# draft-07: every yaml-language-server release reads it (2020-12 only from 1.20 on).
DIALECT = "http://json-schema.org/draft-07/schema#"


def brief_schema() -> dict[str, Any]:
    """The schema as a dict: the models' schema plus the input forms they accept."""
    schema = Brief.model_json_schema(mode="validation")
    schema = {
        "$schema": DIALECT,
        **schema,
        "title": "reportgen brief.yaml",
        "description": "An investment brief: brief-format v1.2. See docs/writing-a-brief.md.",
    }
    schema["properties"]["metrics"] = _metrics_input(schema["properties"]["metrics"])
    for definition in schema["$defs"].values():
        if "highlight" in definition.get("properties", {}):
            definition["properties"]["highlight"] = _highlight_input(
                definition["properties"]["highlight"]
            )
    return schema


def schema_text() -> str:
    """The schema as stable, pretty JSON (what `reportgen schema` prints and `new` writes)."""
    return json.dumps(brief_schema(), indent=2, ensure_ascii=False) + "\n"


def _metrics_input(as_list: dict[str, Any]) -> dict[str, Any]:
    """`metrics:` is a list of metrics, or the name of a CSV file with one metric a row."""
    items = {key: value for key, value in as_list.items() if key != "title"}
    csv_name = {
        "type": "string",
        "pattern": r"\.csv$",
        "description": "A CSV file in the brief folder with the columns "
        + ", ".join(METRIC_CSV_COLUMNS)
        + ".",
    }
    return {
        "title": "Metrics",
        "description": "The figures the brief quotes: a list, or a CSV file name.",
        "anyOf": [items, csv_name],
    }


def _highlight_input(field: dict[str, Any]) -> dict[str, Any]:
    """`highlight: 2024` is matched as the text '2024', so numbers are allowed too."""
    return {
        **{k: v for k, v in field.items() if k != "anyOf"},
        "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}],
    }
