"""Find 835 files and read them into one batch, keeping every problem with its file and segment; and
read the bundled code tables that explain the codes on them (``read_code_table``).

Code tables
===========

Two YAML files beside this module, validated by the models in ``scrubber/remit/classify.py`` (an
unknown key or a value outside the vocabularies below is an error, not a silent default).

``carc.yaml``: the Claim Adjustment Reason Codes (group code + CARC on a CAS segment)::

    code_list:                # which X12 list the table was checked against
      name: X12 Claim Adjustment Reason Codes (external code source 139)
      url: https://x12.org/codes/claim-adjustment-reason-codes
      as_of: 2026-08-17       # date of the copy of the list the codes were checked against
      checked_on: 2026-12-05  # when we checked
      sources: [...]          # where the list's text and its stop dates were read
    groups:                   # the five group codes: what each means, and who carries the amount
      CO: {meaning: ..., who_pays: provider, patient_billable: false}
    codes:
      "27":                   # every code on the X12 list, active or deactivated, quoted
        name: Expenses after coverage ended       # short, our words
        meaning: The service was given after ...   # our words, never X12's text
        deactivated: 2018-01-01   # X12 stop date; `true` when the list says deactivated but no source
                                  # gives the date; absent for an active code
        replaced_by: ["45"]       # codes X12's note names instead of a deactivated one
        x12_groups: [OA]          # the only groups X12's usage note allows (absent: no restriction)
        needs_remark: true        # X12 requires a remark code with it (CARC 16, 96, 252, A1...)
        note: ...                 # what to do, for every group below without a note of its own
        seed: CO-23               # the seed write-up's code (the five seed codes only)
        correction: ...           # where the usual write-ups are wrong (`scrubber explain` shows it)
        sources: ["X12 CARC 27"]  # at least one: where the meaning comes from
        groups:                   # how the code is handled under each group code that makes sense
          PR: {kind: patient share, who_pays: patient, action: bill patient, patient_billable: true}
          CO: {kind: denial, who_pays: provider, action: correct and resubmit, patient_billable: false,
               note: ...}

    kind              denial | reduction | patient share | informational
    who_pays          provider | patient | other payer | nobody
    action            write off | bill patient | correct and resubmit | appeal | bill other payer | none
    patient_billable  true only under PR (checked when the file is loaded)

A group a code does not list is classified from the group code alone, with the action "unknown".

``rarc.yaml``: the Remittance Advice Remark Codes (LQ*HE, MOA, MIA on an 835)::

    code_list: {name: ..., url: https://x12.org/codes/remittance-advice-remark-codes, as_of: ..., ...}
    remarks:
      N95:                      # M, MA or N and a number
        meaning: This provider type or specialty may not bill this service.   # our words
        note: ...               # where the usual write-ups are wrong, or what to send (optional)
        deactivated: 2004-08-01 # as for CARCs (optional)
        source: X12 RARC list   # where the meaning comes from

A remark whose meaning starts with "Alert:" is informational (X12's alerts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterable

from scrubber.inputs import discover as discover_files
from scrubber.model import ParseIssue
from scrubber.model.remit import ClaimPayment, Remittance
from scrubber.readers import x12_835

REMIT_SUFFIXES = frozenset({".835", ".era", ".x12", ".edi", ".txt", ".dat"})
CODE_TABLES = ("carc.yaml", "rarc.yaml")


def read_code_table(name: str) -> str:
    """The text of a bundled code table, ``carc.yaml`` or ``rarc.yaml`` (see the module docstring)."""
    if name not in CODE_TABLES:
        raise ValueError(f"no bundled code table {name!r} (there are {', '.join(CODE_TABLES)})")
    return resources.files("scrubber.remit").joinpath(name).read_text(encoding="utf-8")


@dataclass
class RemitBatch:
    files: list[Path] = field(default_factory=list)
    payments: list[ClaimPayment] = field(default_factory=list)
    remittances: list[Remittance] = field(default_factory=list)
    issues: list[ParseIssue] = field(default_factory=list)

    @property
    def unreadable(self) -> list[ParseIssue]:
        return [issue for issue in self.issues if issue.unreadable_claim]

    @property
    def errors(self) -> list[ParseIssue]:
        return [issue for issue in self.issues if issue.severity == "error"]


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[ParseIssue]]:
    """Files named directly are taken whatever their suffix; directories are searched for 835 files."""
    return discover_files(paths, REMIT_SUFFIXES)


def read_remits(paths: Iterable[str | Path]) -> RemitBatch:
    """Every claim payment, remittance and problem in ``paths``, in file order."""
    files, problems = discover(paths)
    batch = RemitBatch(files=files, issues=list(problems))
    for file in files:
        for record in x12_835.read_path(file):
            if isinstance(record, ClaimPayment):
                batch.payments.append(record)
            elif isinstance(record, Remittance):
                batch.remittances.append(record)
            else:
                batch.issues.append(record)
    return batch
