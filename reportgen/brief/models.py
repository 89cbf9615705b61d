"""Typed model of brief.yaml (brief-format v1). Unknown keys are errors.

The same models validate a brief and describe it as a JSON Schema (`reportgen schema`),
so every field carries its documentation here and nowhere else.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PositiveInt, StrictBool
from pydantic_core import PydanticCustomError

Level = Literal["low", "medium", "high"]
Level4 = Literal["low", "medium", "high", "very-high"]
ChartKind = Literal["bar", "barh", "line", "stacked-bar"]


def _scalar_to_text(value: object) -> object:
    """Let `highlight: 2024` match a CSV cell that reads '2024'."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return format(value, "g") if number else value


Text = Annotated[str, Field(min_length=1)]
MatchText = Annotated[str, BeforeValidator(_scalar_to_text)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
MetricId = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
ItemId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
MaxAge = Annotated[PositiveInt | None, Field(description="Stale after this many days (extension).")]


def _no_number(value: object) -> object:
    """pydantic reads a number as seconds since 1970: `as_of: 1728000000` was 2024-10-04."""
    if isinstance(value, int | float):
        raise PydanticCustomError("date_type", "Input should be a valid date")
    return value


# Dates are the one lax type: brief.yaml keeps them as the text typed, pydantic parses it.
Day = Annotated[date, Field(strict=False), BeforeValidator(_no_number)]


class Model(BaseModel):
    """Strict: `true` is never the number 1, nor `1` the flag true (issue 21)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _name_to_author(value: object) -> object:
    """`authors: [Research Desk]` (v1) still works: a plain string is the author's name."""
    if isinstance(value, str):
        return {"name": value}
    if not isinstance(value, dict):
        raise PydanticCustomError("author", "must be a name, or {name, role, email}")
    return value


class Author(Model):
    """A named analyst (v1.2): shown in the header and in the certification."""

    name: Text = Field(description="The analyst's name, e.g. 'Mei Chen'.")
    role: str | None = Field(None, description="e.g. 'Senior Analyst'.")
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = Field(
        None, description="Where readers reach the analyst."
    )

    def __str__(self) -> str:
        """The name: templates that join authors as text (v1) keep working."""
        return self.name


AuthorEntry = Annotated[
    Author, BeforeValidator(_name_to_author, json_schema_input_type=str | Author)
]


class Subject(Model):
    name: Text = Field(description="Company name as shown in the title block and running header.")
    ticker: str | None = Field(None, description="Exchange ticker, e.g. BABA.")
    exchange: str | None = Field(None, description="Listing exchange, e.g. NYSE.")


class Verdict(Model):
    label: Text = Field(description="The headline call, e.g. 'High-Risk, High-Reward'.")
    risk: Level4
    reward: Level4
    summary: str = Field("", description="Markdown; helpers allowed.")


class Source(Model):
    title: Text
    publisher: str | None = None
    url: str | None = None
    published: Day | None = None
    short: str | None = Field(
        None, description="Short name for chart legends and source lines (extension)."
    )
    max_age_days: MaxAge = None


class Metric(Model):
    id: MetricId
    label: Text
    value: Number
    high: Number | None = Field(None, description="Upper end of a range (extension): 20–30%.")
    unit: str | None = Field(None, description="Free text: %, USD bn, RMB bn, x, pp ...")
    period: str | None = None
    source: Text
    key: StrictBool = Field(False, description="Show in the key-figures box.")
    max_age_days: MaxAge = None


class Table(Model):
    id: ItemId
    title: Text
    data: Text = Field(description="CSV file in the brief folder.")
    columns: dict[str, str] | None = Field(None, description="Select and rename, in order.")
    sort: str | None = Field(None, description="Column to sort by; '-' prefix for descending.")
    highlight: MatchText | None = Field(
        None, description="Row whose first shown column equals this."
    )
    source: str | None = Field(None, description="Source id; optional if the CSV has `source`.")
    format: dict[str, Text] | None = Field(
        None,
        description=(
            "Per column, how its numbers read: a unit as for metrics (%, x, pp, USD bn) shows "
            "each value as the prose shows that figure ('36%'); 'plain' gives one number of "
            "decimals per column. Default: the unit in the column's label or name "
            "('Share (%)', share_pct), else plain."
        ),
    )


class Chart(Model):
    id: ItemId
    title: Text
    kind: ChartKind = "bar"
    data: Text
    x: Text
    y: Text | list[Text]
    unit: str | None = None
    highlight: MatchText | None = None
    source: str | None = None
    group: str | None = Field(None, description="Column whose values become series (extension).")
    labels: dict[str, str] | None = Field(
        None, description="Legend label per y column (extension)."
    )

    @property
    def y_columns(self) -> list[str]:
        return [self.y] if isinstance(self.y, str) else list(self.y)


class Section(Model):
    title: Text
    body: str = Field("", description="A path ending in .md, or inline Markdown.")
    tables: list[str] = Field(default_factory=list)
    charts: list[str] = Field(default_factory=list)


class Risk(Model):
    title: Text
    likelihood: Level
    impact: Level
    body: str = ""
    sources: list[str] = Field(min_length=1)


AgeKind = Literal["month", "quarter", "half", "year", "source", "price"]


class Checks(Model):
    """Limits of the integrity and PDF checks (extension); every key optional."""

    tolerance_pct: Annotated[float, Field(ge=0, le=100)] = Field(
        0.5, description="Relative gap, in percent, within which two reported figures agree."
    )
    max_age_days: PositiveInt | dict[AgeKind, PositiveInt] | None = Field(
        None,
        description="Days after which a figure is stale: one limit, or one per kind "
        "(month, quarter, half, year, source, price).",
    )
    max_pages: PositiveInt = Field(30, description="The PDF may not run longer than this.")


# ---------------------------------------------------------------- v1.1: market, valuation


def _date_to_text(value: object) -> object:
    """YAML reads `when: 2027-02-15` as a date; the catalyst keeps the text the author wrote."""
    return value.isoformat() if isinstance(value, date) else value


WhenText = Annotated[
    str,
    BeforeValidator(_date_to_text),
    Field(pattern=r"^[0-9]{4}-(?:[0-9]{2}(?:-[0-9]{2})?|Q[1-4])$"),  # ASCII: \d is any digit
]


class Call(Model):
    """A past rating and target, for the price chart when no delivered edition holds it."""

    date: Day
    rating: str | None = None
    target: Positive | None = None


class Market(Model):
    price: Positive = Field(description="Last share price.")
    currency: Text = Field(description="Currency of price and target, e.g. USD.")
    date: Day = Field(description="Date of the price; stale like any figure.")
    shares: Positive | None = Field(
        None, description="Shares outstanding, in billions: market value = price × shares."
    )
    target: Positive | None = Field(
        None, description="Price target; upside = target / price − 1 is computed."
    )
    horizon: str | None = Field(None, description="Required with target, e.g. '12 months'.")
    method: str | None = Field(
        None,
        description="Markdown: how the target is derived (v1.2; required with target).",
    )
    target_risks: str | None = Field(
        None,
        description="Markdown: what could stop the price reaching the target (v1.2; "
        "required with target).",
    )
    rating: str | None = Field(None, description="One of [compliance].ratings in reportgen.toml.")
    source: Text = Field(description="Source id of the price (and target, shares).")
    history: list[Call] = Field(default_factory=list, description="Past calls, oldest first.")
    max_age_days: PositiveInt | None = Field(
        None, description="The price is stale after this many days (extension; default 7)."
    )


class Multiple(Model):
    label: Text = Field(description="Column heading, e.g. 'P/E FY2026'.")
    of: Text = Field(
        description="One operation: column op column, or column op number (op: + - * /)."
    )


class Valuation(Model):
    data: Text = Field(description="CSV, one row per company: the inputs the multiples need.")
    subject: MatchText = Field(description="The covered company's value in the first column.")
    multiples: list[Multiple] = Field(min_length=1)
    source: str | None = Field(None, description="Source id; optional if the CSV has `source`.")


class Catalyst(Model):
    when: WhenText = Field(description="YYYY-MM-DD, YYYY-MM or YYYY-Qn.")
    event: Text
    watch: str | None = Field(None, description="What to look for.")
    sources: list[str] = Field(min_length=1)


# ---------------------------------------------------------------- v1.2: the call, argued

Case = Literal["bull", "base", "bear"]
CASES: tuple[Case, ...] = ("bull", "base", "bear")


class Scenario(Model):
    """One case of the call: a value per share, how likely it is and what drives it."""

    case: Case
    value: Positive = Field(description="Value per share in market.currency.")
    probability: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = Field(
        description="A fraction: the three add up to 1 (±0.005)."
    )
    drivers: Text = Field(description="What has to happen for this value.")
    sources: list[str] = Field(min_length=1, description="Source ids of the value's inputs.")


Scale = Literal["bn", "m", "tn"]


class Estimates(Model):
    """The financial summary: one row per fiscal year of a CSV."""

    data: Text = Field(
        description="CSV with columns year, basis (A = actual, E = estimate), revenue, "
        "ebitda, eps, fcf (an optional source column)."
    )
    currency: Text = Field(description="Currency of every figure; eps is per share.")
    unit: Scale = Field(description="Scale of revenue, ebitda and fcf: bn, m or tn.")
    source: str | None = Field(None, description="Source id; optional if the CSV has `source`.")


class Brief(Model):
    title: Text
    subtitle: str | None = None
    subject: Subject
    as_of: Day = Field(description="The data cut-off date.")
    authors: list[AuthorEntry] = Field(
        default_factory=list,
        description="Named analysts: a name, or {name, role, email} (v1.2).",
    )
    recipients: list[str] = Field(default_factory=list)
    verdict: Verdict
    sources: dict[str, Source] = Field(min_length=1)
    metrics: list[Metric] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    charts: list[Chart] = Field(default_factory=list)
    sections: list[Section] = Field(min_length=1)
    risks: list[Risk] = Field(min_length=1)
    checks: Checks = Field(
        default_factory=Checks, description="Limits of the figure checks (extension)."
    )
    market: Market | None = Field(None, description="The price block on page one (v1.1).")
    prices: Text | None = Field(
        None, description="CSV of the share price: columns date, close (in market.currency)."
    )
    valuation: Valuation | None = Field(
        None, description="Comparables; reportgen computes the multiples (v1.1)."
    )
    catalysts: list[Catalyst] = Field(
        default_factory=list, description="Dated events that could move the thesis (v1.1)."
    )
    scenarios: list[Scenario] = Field(
        default_factory=list,
        description="Bull, base and bear values with probabilities (v1.2); needs market.",
    )
    estimates: Estimates | None = Field(
        None, description="The financial summary: actual and estimate years (v1.2)."
    )


# ---------------------------------------------------------------- the JSON Schema

METRIC_CSV_COLUMNS = ("id", "label", "value", "unit", "period", "source", "key", "high")
SCHEMA_FILE = "brief.schema.json"
# draft-07: every yaml-language-server release reads it (2020-12 only from 1.20 on).
DIALECT = "http://json-schema.org/draft-07/schema#"


def brief_schema() -> dict[str, Any]:
    """The JSON Schema editors (yaml-language-server) complete and underline brief.yaml with:
    the models' schema, widened to what an analyst may write where a key accepts more on
    input than the model holds (a metrics CSV file name, a numeric highlight)."""
    schema = {
        "$schema": DIALECT,
        **Brief.model_json_schema(mode="validation"),
        "title": "reportgen brief.yaml",
        "description": "An investment brief: brief-format v1.2. See docs/writing-a-brief.md.",
    }
    schema["properties"]["metrics"] = _metrics_input(schema["properties"]["metrics"])
    for definition in schema["$defs"].values():
        if "highlight" in (fields := definition.get("properties", {})):
            fields["highlight"] = _highlight_input(fields["highlight"])
    return schema


def schema_text() -> str:
    """The schema as stable, pretty JSON (what `reportgen schema` prints and `new` writes)."""
    return json.dumps(brief_schema(), indent=2, ensure_ascii=False) + "\n"


def _metrics_input(as_list: dict[str, Any]) -> dict[str, Any]:
    """`metrics:` is a list of metrics, or the name of a CSV file with one metric a row."""
    items = {key: value for key, value in as_list.items() if key != "title"}
    columns = ", ".join(METRIC_CSV_COLUMNS)
    csv_name = {
        "type": "string",
        "pattern": r"\.csv$",
        "description": f"A CSV file in the brief folder with the columns {columns}.",
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
