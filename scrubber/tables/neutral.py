"""Rows written as a table in the neutral CSV layout (a header row of column names, then one row each).

Rule cases carry their tables as rows (``tables:`` in a case); they are written with this and opened like
any user's table, so the same parser reads them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def write_neutral_csv(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    """``rows`` (column -> value) as a CSV at ``path``: the columns in the order they first appear, None as
    an empty cell."""
    rows = list(rows)
    header: list[str] = []
    for row in rows:
        header += [column for column in row if column not in header]
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, header)
        writer.writeheader()
        writer.writerows({key: "" if value is None else str(value) for key, value in row.items()} for row in rows)
    return path
