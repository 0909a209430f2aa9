"""Classify remittance adjustments (group code + CARC) from the data file ``carc.yaml``.

Each adjustment gets: what the code means, what kind of adjustment it is, who pays, what to do
(write off / bill patient / correct and resubmit / appeal / none) and whether the patient may be billed.
A CARC that ``carc.yaml`` does not list is reported as unknown (``known=False``, action "unknown"); its
group code still says who carries the amount, as X12 defines the group codes, and nothing more.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from scrubber.model.remit import RemitAdjustment

Kind = Literal["denial", "reduction", "patient share", "informational"]
WhoPays = Literal["provider", "patient", "other payer", "nobody"]
Action = Literal["write off", "bill patient", "correct and resubmit", "appeal", "none"]
ACTIONS: tuple[str, ...] = ("write off", "bill patient", "correct and resubmit", "appeal", "none", "unknown")
UNKNOWN = "unknown"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GroupEntry(_Strict):
    meaning: str
    who_pays: WhoPays | None = None
    patient_billable: bool | None = None


class Treatment(_Strict):
    """How one CARC is handled under one group code."""

    kind: Kind
    who_pays: WhoPays
    action: Action
    patient_billable: bool
    note: str | None = None


class CodeEntry(_Strict):
    name: str
    meaning: str
    sources: list[str] = Field(min_length=1)
    seed: str | None = None  # the seed write-up's denial code, for the five seed codes
    correction: str | None = None  # where the seed write-up is wrong (design.md §4), for `scrubber explain`
    needs_remark: bool = False  # X12 requires a remark code saying what the adjustment is about
    groups: dict[str, Treatment] = Field(min_length=1)


class CarcData(_Strict):
    groups: dict[str, GroupEntry]
    codes: dict[str, CodeEntry]
    remarks: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Classification:
    code: str  # CO-111
    group: str
    reason: str
    known: bool  # the CARC is in carc.yaml
    name: str | None
    meaning: str | None
    kind: str  # denial, reduction, patient share, informational, or unknown
    who_pays: str  # provider, patient, other payer, nobody, or unknown
    action: str  # one of ACTIONS
    patient_billable: bool | None  # None: cannot be told from what we know
    note: str | None
    group_meaning: str
    basis: str  # what the answer rests on
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "group": self.group,
            "reason": self.reason,
            "known": self.known,
            "name": self.name,
            "meaning": self.meaning,
            "kind": self.kind,
            "who_pays": self.who_pays,
            "action": self.action,
            "patient_billable": self.patient_billable,
            "note": self.note,
            "group_meaning": self.group_meaning,
            "basis": self.basis,
            "sources": list(self.sources),
        }


class CarcTable:
    """The loaded ``carc.yaml``: ``classify(group, reason)``, ``remark(code)``, ``needs_remark(reason)``."""

    def __init__(self, data: CarcData):
        self.data = data

    def classify(self, group: str, reason: str) -> Classification:
        group_entry = self.data.groups.get(group)
        group_meaning = group_entry.meaning if group_entry else f"{group!r} is not a claim adjustment group code"
        group_who = (group_entry.who_pays if group_entry else None) or UNKNOWN
        group_billable = group_entry.patient_billable if group_entry else None
        entry = self.data.codes.get(reason)
        code = f"{group}-{reason}"
        if entry is None:
            return Classification(
                code, group, reason, False, None, None, UNKNOWN, group_who, UNKNOWN, group_billable, None,
                group_meaning, "unknown CARC: only the group code's own meaning is known", (),
            )
        treatment = entry.groups.get(group)
        if treatment is None:
            listed = ", ".join(sorted(entry.groups))
            return Classification(
                code, group, reason, True, entry.name, entry.meaning, UNKNOWN, group_who, UNKNOWN, group_billable,
                f"CARC {reason} is described with group {listed}, not {group}",
                group_meaning, "known CARC, unusual group: liability from the group code only", tuple(entry.sources),
            )
        return Classification(
            code, group, reason, True, entry.name, entry.meaning, treatment.kind, treatment.who_pays,
            treatment.action, treatment.patient_billable, treatment.note, group_meaning, "CARC and group code",
            tuple(entry.sources),
        )

    def classify_adjustment(self, adjustment: RemitAdjustment) -> Classification:
        return self.classify(adjustment.group, adjustment.reason)

    def remark(self, code: str) -> str | None:
        return self.data.remarks.get(code)

    def needs_remark(self, reason: str) -> bool:
        entry = self.data.codes.get(reason)
        return entry is not None and entry.needs_remark

    def seed_codes(self) -> list[str]:
        return [entry.seed for entry in self.data.codes.values() if entry.seed]


def parse_table(text: str) -> CarcTable:
    """A table from YAML text (raises pydantic's ValidationError or yaml.YAMLError when malformed)."""
    return CarcTable(CarcData.model_validate(yaml.safe_load(text)))


@functools.lru_cache(maxsize=1)
def load_table() -> CarcTable:
    """The bundled ``scrubber/remit/carc.yaml``."""
    text = resources.files("scrubber.remit").joinpath("carc.yaml").read_text(encoding="utf-8")
    return parse_table(text)


def classify(group: str, reason: str) -> Classification:
    return load_table().classify(group, reason)
