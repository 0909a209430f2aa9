"""The two ways a reference table goes wrong: a bad row (``TableProblem``) or a bad table (``TableError``).

A malformed row (a bad date, an unknown indicator, a missing or malformed code, the wrong number of
fields) becomes a :class:`TableProblem` and the rest of the table loads. A table that cannot be used
at all (a missing or unreadable file, no recognizable header row, a file that is not a store, a store
without that kind imported, no usable row) raises :class:`TableError`, whose message names the file.
``TableError`` is a :class:`scrubber.errors.ScrubberUserError`, so the command line reports it in one
line with exit status 2, never as a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

from scrubber.errors import ScrubberUserError

#: At most this many problems are kept per file; the rest are counted in one closing problem.
MAX_PROBLEMS_PER_FILE = 200


class TableError(ScrubberUserError):
    """A reference table cannot be used at all; the message names the file and says why."""


@dataclass(frozen=True)
class TableProblem:
    """One row of a table that was skipped (or a file-level remark), and why.

    ``row`` is the 1-based line number in the file (the line where the row ends), or 0 for a remark
    about the whole file.
    """

    file: str
    row: int
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}" if self.row else self.file
        return f"{where}: {self.message}"


class ProblemLog:
    """Collects problems, keeping at most :data:`MAX_PROBLEMS_PER_FILE` per file (and counting the rest)."""

    def __init__(self, limit: int = MAX_PROBLEMS_PER_FILE) -> None:
        self.limit = limit
        self._kept: list[TableProblem] = []
        self._per_file: dict[str, int] = {}

    def add(self, file: str, row: int, message: str) -> None:
        seen = self._per_file.get(file, 0) + 1
        self._per_file[file] = seen
        if seen <= self.limit:
            self._kept.append(TableProblem(file, row, message))

    @property
    def count(self) -> int:
        """Every problem seen, the ones not kept included."""
        return sum(self._per_file.values())

    def problems(self) -> list[TableProblem]:
        """The kept problems, then one remark per file that had more than the limit."""
        extra = [
            TableProblem(file, 0, f"{seen - self.limit} more problems not listed ({seen} in all)")
            for file, seen in self._per_file.items()
            if seen > self.limit
        ]
        return [*self._kept, *extra]
