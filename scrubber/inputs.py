"""Find input files and open them with the right reader."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from scrubber.model import Claim, ParseIssue
from scrubber.readers import x12_837p

X12_SUFFIXES = frozenset({".837", ".x12", ".edi", ".txt", ".dat"})


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[ParseIssue]]:
    """Files named directly are taken whatever their suffix; directories are searched for X12 files."""
    files: list[Path] = []
    problems: list[ParseIssue] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in X12_SUFFIXES)
            if not found:
                problems.append(ParseIssue(file=str(path), message="directory holds no .837/.x12/.edi files"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(ParseIssue(file=str(path), message="no such file or directory"))
    return files, problems


def read_file(path: str | Path) -> Iterator[Claim | ParseIssue]:
    yield from x12_837p.read_path(path)
