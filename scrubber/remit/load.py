"""Find 835 files and read them into one batch, keeping every problem with its file and segment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

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
    files: list[Path] = []
    problems: list[ParseIssue] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in REMIT_SUFFIXES)
            if not found:
                problems.append(ParseIssue(file=str(path), message="directory holds no .835/.era/.x12/.edi files"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(ParseIssue(file=str(path), message="no such file or directory"))
    return files, problems


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
