"""RuleSpec: the schema every rule file is validated against when it loads."""

from __future__ import annotations

import contextvars
import datetime as dt
import re
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scrubber.facts import FACTS
from scrubber.facts.model_facts import QUANTITY_SCALE
from scrubber.rules.conditions import (
    AllOf,
    AnyOf,
    Compare,
    Condition,
    ConditionError,
    Lines,
    Measure,
    Not,
    ParseContext,
    Test,
    CONDITION_NODES,
    facts_used,
    parse_condition,
)

CONDITION_TYPES = CONDITION_NODES
# The code sets rules may name while they load: the bundled ones (None) or the loader's (bundled + the user's).
CODE_SETS: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("code_sets", default=None)
from scrubber.x12map import ElementRow, UnknownElement, element_map

Severity = Literal["error", "warning", "info"]
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
_RULE_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"
_DENIAL = r"^(CO|OA|PI|PR|CR)-[A-Z0-9]{1,4}$"


class RuleCase(BaseModel):
    """An inline test case: a claim (overrides of the base claim in ``rules.testing``) and the verdict.

    ``expect``: ``flag`` (the rule must flag), ``pass`` / ``near-miss`` (it must not; a near miss is a claim
    that almost fits), or a known gap: ``todo-flag`` (it should flag but does not yet) and ``todo-pass`` (it
    should not flag but does today). A todo case is reported, not failed, while the gap is there, and
    fails once the rule does what it says ("fixed: turn it into a flag case"), as semgrep's todoruleid.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_RULE_ID)
    expect: Literal["flag", "pass", "near-miss", "todo-flag", "todo-pass"]
    claim: dict[str, Any] = Field(default_factory=dict)
    lines: list[int] | None = None  # for line rules that flag: exactly these line numbers
    segment: str | None = None  # for flag cases: every finding points at a segment with this tag (NM1*82)
    element: str | None = None  # ... names this element (NM109)
    message_contains: str | None = None  # ... and its message holds this text
    note: str | None = None
    # reference tables the case runs with, by name: rows in the table's neutral CSV layout
    # (``ncci-ptp: [{column1: "99213", column2: "36415", effective: "20200101", modifier_indicator: 1}]``)
    tables: dict[str, list[dict[str, str | int]]] = Field(default_factory=dict)
    # claims written before this one in the same transaction set (overrides of the base claim, as `claim`):
    # for edits across the claims of a batch (a repeated CLM01); only the case's own claim is judged
    batch: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def todo(self) -> bool:
        """A known gap: the rule does not yet give this case's verdict."""
        return self.expect.startswith("todo-")

    @property
    def should_flag(self) -> bool:
        """The verdict the rule should give: flag (``flag``, ``todo-flag``) or not (``pass``, ``near-miss``, ``todo-pass``)."""
        return self.expect in ("flag", "todo-flag")


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    id: str = Field(pattern=_RULE_ID)
    name: str
    carc: str = Field(pattern=_DENIAL, description="denial signature: group + CARC, e.g. CO-111")
    rarc: list[str] = Field(default_factory=list)
    remit_codes: list[str] = Field(
        default_factory=list, description="codes seen on real remittances where they differ from carc"
    )
    severity: Severity
    status: Literal["active", "experimental", "deprecated"] = "active"
    default_enabled: bool = Field(
        default=True, description="false: an opt-in rule, run only when selected by id or enabled by a payer profile"
    )
    derived_from: list[str] = Field(
        default_factory=list, description="seed denial codes the rule was derived from, when carc differs (e.g. CO-121)"
    )
    scope: Literal["claim", "line"]
    element: str = Field(
        description="the X12 element a finding points at, as the element map names it: CLM07, "
        "'NM1*85 NM109' or '2010AA NM109' where the name alone is ambiguous"
    )
    when: Any
    message: str
    fix: str
    explanation: str
    sources: list[str] = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    cases: list[RuleCase]
    file: str | None = None
    warnings: list[str] = Field(default_factory=list, description="load warnings (filled by the loader)")

    @field_validator("sources")
    @classmethod
    def _sources_not_blank(cls, sources: list[str]) -> list[str]:
        if any(not source.strip() for source in sources):
            raise ValueError("a source is blank: cite the seed file and section, or the CMS/X12 reference")
        return sources

    @field_validator("element")
    @classmethod
    def _element_in_the_map(cls, element: str) -> str:
        try:
            element_map("837p").resolve(element)
        except UnknownElement as error:
            raise ValueError(str(error)) from None
        return element

    @property
    def element_row(self) -> ElementRow:
        """The element-map row the rule's findings point at."""
        return element_map("837p").resolve(self.element)

    @model_validator(mode="before")
    @classmethod
    def _parse_when(cls, data: Any) -> Any:
        if isinstance(data, dict) and "when" in data and not isinstance(data["when"], CONDITION_TYPES):
            scope = data.get("scope", "claim")
            context = ParseContext(code_sets=CODE_SETS.get())
            try:
                data = {**data, "when": parse_condition(data["when"], scope, context=context)}
            except ConditionError as error:
                raise ValueError(str(error)) from None
            data["warnings"] = [*data.get("warnings", []), *context.warnings]
        return data

    @model_validator(mode="after")
    def _check(self) -> "RuleSpec":
        kinds = {case.expect for case in self.cases if not case.todo}  # known gaps prove nothing yet
        missing = {"flag", "pass", "near-miss"} - kinds
        if missing:
            raise ValueError(
                f"rule {self.id!r} needs inline cases that flag, pass and near-miss (todo cases do not count); "
                f"missing: {sorted(missing)}"
            )
        names = [case.name for case in self.cases]
        if len(names) != len(set(names)):
            raise ValueError(f"rule {self.id!r} has two cases with the same name")
        for field in ("message", "fix"):
            for name in _placeholders(getattr(self, field)):
                spec = FACTS.get(name)
                if spec is None or (spec.scope == "line" and self.scope != "line"):
                    raise ValueError(f"{field} uses {{{name}}}, which is not a {self.scope} fact")
        return self

    @property
    def condition(self) -> Condition:
        return self.when

    @property
    def facts(self) -> set[str]:
        return facts_used(self.when)


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def _placeholders(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


def show(name: str, value: Any) -> str:
    """A fact value as a person reads it: dollars (``120.00``), units, ISO dates, comma lists."""
    spec = FACTS.get(name)
    if isinstance(value, list):
        item_kind = (spec.item_kind or "text") if spec is not None else ""
        return ", ".join(show_kind(item_kind, v) for v in value) or "(none)"
    return show_kind(spec.kind if spec is not None else "", value)


def show_kind(kind: str, value: Any) -> str:
    if kind == "money" and isinstance(value, int):
        sign = "-" if value < 0 else ""
        return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"
    if kind == "quantity" and isinstance(value, int):
        scale = QUANTITY_SCALE
        return format(Decimal(value) / scale, "f").rstrip("0").rstrip(".") if value % scale else str(value // scale)
    if kind == "date" and isinstance(value, int):
        return dt.date.fromordinal(value).isoformat()
    return str(value)


def render(template: str, fact: dict[str, Any]) -> str:
    """``template`` with each ``{fact}`` replaced by the fact's value as ``show`` writes it."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        return show(name, fact[name]) if name in fact else "(none)"

    return _PLACEHOLDER.sub(value, template)
