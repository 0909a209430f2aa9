"""RuleSpec: the schema every rule file is validated against when it loads."""

from __future__ import annotations

import string
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scrubber.facts import FACTS
from scrubber.rules.conditions import Condition, ConditionError, facts_used, parse_condition
from scrubber.x12map import ElementRow, UnknownElement, element_map

Severity = Literal["error", "warning", "info"]
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
_RULE_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"
_DENIAL = r"^(CO|OA|PI|PR|CR)-[A-Z0-9]{1,4}$"


class RuleCase(BaseModel):
    """An inline test case: a claim (overrides of the base claim in ``rules.testing``) and the verdict."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_RULE_ID)
    expect: Literal["flag", "pass", "near-miss"]
    claim: dict[str, Any] = Field(default_factory=dict)
    lines: list[int] | None = None  # for line rules that flag: exactly these line numbers
    segment: str | None = None  # for flag cases: every finding points at a segment with this tag (NM1*82)
    element: str | None = None  # ... names this element (NM109)
    message_contains: str | None = None  # ... and its message holds this text
    note: str | None = None


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
        if isinstance(data, dict) and "when" in data and not isinstance(data["when"], (tuple,)):
            scope = data.get("scope", "claim")
            try:
                data = {**data, "when": parse_condition(data["when"], scope)}
            except ConditionError as error:
                raise ValueError(str(error)) from None
        return data

    @model_validator(mode="after")
    def _check(self) -> "RuleSpec":
        kinds = {case.expect for case in self.cases}
        missing = {"flag", "pass", "near-miss"} - kinds
        if missing:
            raise ValueError(
                f"rule {self.id!r} needs inline cases that flag, pass and near-miss; missing: {sorted(missing)}"
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


def _placeholders(template: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(template) if field]


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return "(none)"


def render(template: str, fact: dict[str, Any]) -> str:
    return template.format_map(_Defaults(fact))
