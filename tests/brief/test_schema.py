"""The editor schema says what the validator accepts: checked with the jsonschema package."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import EXAMPLE, MINIMAL
from ruamel.yaml import YAML

from reportgen.brief.models import Brief, brief_schema, schema_text
from reportgen.brief.scaffold import new_brief


def as_json(node: Any) -> Any:
    """YAML as an editor sees it: dates stay text (YAML 1.2 has no date type)."""
    if isinstance(node, dict):
        return {str(k): as_json(v) for k, v in node.items()}
    if isinstance(node, list):
        return [as_json(v) for v in node]
    if isinstance(node, date):
        return node.isoformat()
    return node


def load_yaml(path: Path) -> Any:
    return as_json(YAML(typ="safe").load(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = brief_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_schema_is_draft7_and_documents_keys() -> None:
    schema = brief_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert set(schema["required"]) >= {
        "title",
        "subject",
        "as_of",
        "verdict",
        "sources",
        "sections",
        "risks",
    }
    assert schema["$defs"]["Chart"]["properties"]["kind"]["enum"] == [
        "bar",
        "barh",
        "line",
        "stacked-bar",
    ]


def test_example_brief_validates(validator: jsonschema.protocols.Validator) -> None:
    validator.validate(load_yaml(EXAMPLE / "brief.yaml"))


def test_new_brief_validates(validator: jsonschema.protocols.Validator, tmp_path: Path) -> None:
    made = new_brief("fresh", tmp_path)
    validator.validate(load_yaml(made.folder / "brief.yaml"))


def test_metrics_may_name_a_csv_file(validator: jsonschema.protocols.Validator) -> None:
    validator.validate(as_json({**MINIMAL, "metrics": "metrics.csv"}))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(as_json({**MINIMAL, "metrics": "metrics.txt"}))


def test_numeric_highlight_is_allowed(validator: jsonschema.protocols.Validator) -> None:
    chart = {**MINIMAL["charts"][0], "highlight": 2024}
    validator.validate(as_json({**MINIMAL, "charts": [chart]}))


@pytest.mark.parametrize(
    "change",
    [
        {"titel": "typo"},
        {"verdict": {**MINIMAL["verdict"], "risk": "huge"}},
        {"sources": {}},
        {"metrics": [{**MINIMAL["metrics"][0], "id": "Bad Id"}]},
        {"charts": [{**MINIMAL["charts"][0], "kind": "pie"}]},
        {"risks": []},
    ],
)
def test_schema_and_models_reject_the_same_mistakes(
    validator: jsonschema.protocols.Validator, change: dict[str, Any]
) -> None:
    bad = {**MINIMAL, **change}
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(as_json(bad))
    assert not _models_accept(bad)


def _models_accept(data: dict[str, Any]) -> bool:
    try:
        Brief.model_validate(data)
    except ValueError:
        return False
    return True


def test_minimal_brief_accepted_by_both(validator: jsonschema.protocols.Validator) -> None:
    validator.validate(as_json(MINIMAL))
    assert _models_accept(MINIMAL)


def test_cli_prints_and_writes_the_schema(tmp_path: Path) -> None:
    cmd = [str(Path(sys.executable).parent / "reportgen")]
    printed = subprocess.run([*cmd, "schema"], capture_output=True, text=True, check=True).stdout
    assert json.loads(printed) == json.loads(schema_text())
    target = tmp_path / "brief.schema.json"
    subprocess.run([*cmd, "schema", "--out", str(target)], capture_output=True, check=True)
    assert target.read_text(encoding="utf-8") == schema_text()
