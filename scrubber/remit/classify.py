"""Classify remittance adjustments (group code + CARC) from the data file ``carc.yaml``, and explain
remark codes (RARC) from ``rarc.yaml``; both files' shape is documented in ``scrubber/remit/load.py``.

Each adjustment gets: what the code means, what kind of adjustment it is, who pays, what to do
(write off / bill patient / correct and resubmit / appeal / bill other payer / none), whether the
patient may be billed, and whether X12 has retired the code (``retired``, ``stop_date``). A CARC that
``carc.yaml`` does not list is reported as unknown (``known=False``, action "unknown"); its group code
still says who carries the amount, as X12 defines the group codes, and nothing more.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scrubber.model.remit import RemitAdjustment
from scrubber.yamlio import load_yaml

Kind = Literal["denial", "reduction", "patient share", "informational"]
WhoPays = Literal["provider", "patient", "other payer", "nobody"]
Action = Literal["write off", "bill patient", "correct and resubmit", "appeal", "bill other payer", "none"]
ACTIONS: tuple[str, ...] = (
    "write off", "bill patient", "correct and resubmit", "appeal", "bill other payer", "none", "unknown",
)
UNKNOWN = "unknown"
GroupCode = Literal["CO", "PR", "OA", "PI", "CR"]
GROUP_CODES: tuple[str, ...] = ("CO", "PR", "OA", "PI", "CR")
CARC_PATTERN = re.compile(r"\d{1,3}|[ABDPWY]\d{1,2}")  # 1..308, A0..A8, B1..B23, D1..D23, P1..P32, W1..W9, Y1..Y3
RARC_PATTERN = re.compile(r"(?:M|MA|N)\d{1,3}")
# ``deactivated``: the X12 stop date, or true where the list marks the code deactivated without a date we could source.
Deactivated = date | Literal[True] | None


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


def _stop_text(deactivated: Deactivated) -> str | None:
    if deactivated is None:
        return None
    return deactivated.isoformat() if isinstance(deactivated, date) else "date not in our sources"


class CodeList(_Strict):
    """Which X12 list a table was checked against: its name, URL and the date of the copy checked."""

    name: str
    url: str
    as_of: date
    checked_on: date
    sources: list[str] = Field(default_factory=list)


class _Retirable(_Strict):
    """A code X12 may have deactivated (``deactivated``: its stop date, or true when the date is unknown)."""

    deactivated: Deactivated = None

    @property
    def retired(self) -> bool:
        return self.deactivated is not None

    @property
    def stop_date(self) -> str | None:
        return _stop_text(self.deactivated)


class CodeEntry(_Retirable):
    name: str
    meaning: str
    sources: list[str] = Field(min_length=1)
    seed: str | None = None  # the seed write-up's denial code, for the five seed codes
    correction: str | None = None  # where common write-ups about the code are wrong, for `scrubber explain`
    needs_remark: bool = False  # X12 requires a remark code saying what the adjustment is about
    note: str | None = None  # what to do, for every group without a note of its own
    replaced_by: list[str] = Field(default_factory=list)  # the codes X12's note names instead
    x12_groups: list[GroupCode] | None = None  # the only groups X12's usage note allows with the code
    groups: dict[GroupCode, Treatment] = Field(min_length=1)


class RemarkEntry(_Retirable):
    """One remittance advice remark code (``rarc.yaml``)."""

    meaning: str
    source: str = Field(min_length=1)
    note: str | None = None

    @property
    def alert(self) -> bool:
        """X12's informational remarks start with "Alert:" and never explain an adjustment by themselves."""
        return self.meaning.startswith("Alert:")


class RarcData(_Strict):
    code_list: CodeList
    remarks: dict[str, RemarkEntry]

    @field_validator("remarks")
    @classmethod
    def _codes_look_like_rarcs(cls, remarks: dict[str, RemarkEntry]) -> dict[str, RemarkEntry]:
        bad = [code for code in remarks if not RARC_PATTERN.fullmatch(code)]
        if bad:
            raise ValueError(f"not remark codes (M, MA or N and a number): {', '.join(bad)}")
        return remarks


class CarcData(_Strict):
    code_list: CodeList | None = None
    groups: dict[GroupCode, GroupEntry]
    codes: dict[str, CodeEntry]
    remarks: dict[str, str] = Field(default_factory=dict)  # short remark meanings, when no rarc.yaml is given

    @model_validator(mode="after")
    def _codes_are_consistent(self) -> CarcData:
        problems = []
        for code, entry in self.codes.items():
            if not CARC_PATTERN.fullmatch(code):
                problems.append(f"{code!r} is not a CARC")
            problems += [f"{code}: replaced by unknown CARC {new}" for new in entry.replaced_by if new not in self.codes]
            problems += [
                f"{code}: {group} may not be billed to the patient (only PR is)"
                for group, treatment in entry.groups.items() if treatment.patient_billable and group != "PR"
            ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


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
    retired: bool = False  # X12 has deactivated the CARC (an older remittance may still carry it)
    stop_date: str | None = None  # the X12 stop date, when retired

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
            "retired": self.retired,
            "stop_date": self.stop_date,
        }


class CarcTable:
    """The loaded ``carc.yaml`` (and ``rarc.yaml``): ``classify(group, reason)``, ``remark(code)``,
    ``remark_entry(code)``, ``needs_remark(reason)``."""

    def __init__(self, data: CarcData, rarc: RarcData | None = None):
        self.data = data
        self.rarc = rarc

    @property
    def remarks(self) -> dict[str, RemarkEntry]:
        return self.rarc.remarks if self.rarc else {}

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
            note = f"CARC {reason} is described with group {listed}, not {group}"
            if entry.x12_groups and group not in entry.x12_groups:
                note += f"; X12 allows it only with {' or '.join(entry.x12_groups)}"
            return Classification(
                code, group, reason, True, entry.name, entry.meaning, UNKNOWN, group_who, UNKNOWN, group_billable,
                note, group_meaning, "known CARC, unusual group: liability from the group code only",
                tuple(entry.sources), entry.retired, entry.stop_date,
            )
        return Classification(
            code, group, reason, True, entry.name, entry.meaning, treatment.kind, treatment.who_pays,
            treatment.action, treatment.patient_billable, treatment.note or entry.note, group_meaning,
            "CARC and group code", tuple(entry.sources), entry.retired, entry.stop_date,
        )

    def classify_adjustment(self, adjustment: RemitAdjustment) -> Classification:
        return self.classify(adjustment.group, adjustment.reason)

    def remark(self, code: str) -> str | None:
        """What a remark code means, in one line ("(retired by X12 ...)" appended for a deactivated one)."""
        entry = self.remark_entry(code)
        if entry is None:
            return self.data.remarks.get(code)
        if entry.retired:
            return f"{entry.meaning} (retired by X12: {entry.stop_date})"
        return entry.meaning

    def remark_entry(self, code: str) -> RemarkEntry | None:
        return self.remarks.get(code)

    def needs_remark(self, reason: str) -> bool:
        entry = self.data.codes.get(reason)
        return entry is not None and entry.needs_remark

    def seed_codes(self) -> list[str]:
        return [entry.seed for entry in self.data.codes.values() if entry.seed]


def parse_table(text: str, rarc_text: str | None = None) -> CarcTable:
    """A table from the YAML text of ``carc.yaml`` (and of ``rarc.yaml``), raising pydantic's
    ValidationError or yaml.YAMLError when either is malformed."""
    rarc = RarcData.model_validate(load_yaml(rarc_text)) if rarc_text is not None else None
    return CarcTable(CarcData.model_validate(load_yaml(text)), rarc)


@functools.lru_cache(maxsize=1)
def load_table() -> CarcTable:
    """The bundled ``scrubber/remit/carc.yaml`` and ``rarc.yaml``."""
    from scrubber.remit.load import read_code_table

    return parse_table(read_code_table("carc.yaml"), read_code_table("rarc.yaml"))


def classify(group: str, reason: str) -> Classification:
    return load_table().classify(group, reason)
