"""Find 835 files and read them into one batch, keeping every problem with its file and segment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from scrubber.inputs import discover as discover_files
from scrubber.model import ParseIssue
from scrubber.model.remit import ClaimPayment, Remittance
from scrubber.readers import x12_835

REMIT_SUFFIXES = frozenset({".835", ".era", ".x12", ".edi", ".txt", ".dat"})


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
