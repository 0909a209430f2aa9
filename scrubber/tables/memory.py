"""Tables held in memory: what ``open_table`` gives for a CSV or CMS file opened directly.

Rows are kept per code as plain tuples (codes interned, dates as ``int``) and become
:class:`~scrubber.tables.model.PairEdit` & co. only when a code is looked up, which keeps a full
CMS PTP file (about 2 million pairs) to a few hundred megabytes. For repeated use of full-size
tables, import them into a store (:func:`scrubber.tables.store.import_files`) instead: opening a
store reads nothing up front.

Citations name the file and the row's line number: ``ccipra-v321r0-f1.txt row 57``.
"""

from __future__ import annotations

from .model import ADDON, MUE, PTP, AddonRow, PairEdit, UnitLimit
from .reader import TableReader
from .tables import AddonTable, PairTable, Table, UnitTable
from .values import to_date


def describe(names: list[str], kind: str, version: str) -> str:
    """``'a.txt, b.txt (ncci-ptp 2026Q2 v32.1r0)'``: the ``source`` of a table read from files."""
    joined = ", ".join(names)
    return joined if version == joined else f"{joined} ({kind} {version})"


def _meta(reader: TableReader) -> dict:
    names = [f.source.name for f in reader.files]
    return {
        "version": reader.version,
        "source": describe(names, reader.kind, reader.version),
        "problems": reader.problems,
        "rows": reader.count,
    }


def _date(value: int | None):
    return None if value is None else to_date(value)


class MemoryPairTable(PairTable):
    def __init__(self, index: dict[str, list[tuple]], names: list[str], **meta) -> None:
        self._index, self._names = index, names
        self._prefixes = [f"{name} row " for name in names]
        super().__init__(**meta)

    def _pairs(self, column1: str) -> dict[str, list[PairEdit]]:
        found: dict[str, list[PairEdit]] = {}
        prefixes, add = self._prefixes, found.setdefault
        for column2, effective, deletion, indicator, file, line in self._index.get(column1, ()):
            deleted = deletion and to_date(deletion)
            add(column2, []).append(
                PairEdit(column1, column2, to_date(effective), deleted, indicator, prefixes[file] + str(line))
            )
        return found

    def _pair_rows(self, column1: str, column2: str) -> tuple[PairEdit, ...]:
        names = self._names
        return tuple(
            PairEdit(column1, second, to_date(effective), _date(deletion), indicator, f"{names[file]} row {line}")
            for second, effective, deletion, indicator, file, line in self._index.get(column1, ())
            if second == column2
        )


class MemoryUnitTable(UnitTable):
    def __init__(self, index: dict[str, list[tuple]], names: list[str], **meta) -> None:
        self._index, self._names = index, names
        super().__init__(**meta)

    def _limits(self, code: str) -> tuple[UnitLimit, ...]:
        return tuple(
            UnitLimit(code, units, mai, f"{self._names[file]} row {line}", _date(effective), _date(deletion))
            for units, mai, effective, deletion, file, line in self._index.get(code, ())
        )


class MemoryAddonTable(AddonTable):
    def __init__(self, index: dict[str, list[tuple]], names: list[str], **meta) -> None:
        self._index, self._names = index, names
        super().__init__(**meta)

    def _addon(self, addon: str) -> tuple[AddonRow, ...]:
        return tuple(
            AddonRow(addon, primary, edit_type, _date(effective), _date(deletion), f"{self._names[file]} row {line}")
            for primary, edit_type, effective, deletion, file, line in self._index.get(addon, ())
        )


_CLASSES: dict[str, type] = {PTP: MemoryPairTable, MUE: MemoryUnitTable, ADDON: MemoryAddonTable}


def load(reader: TableReader) -> Table:
    """Read every file of ``reader`` into a table in memory (``TableError`` if none is usable)."""
    index: dict[str, list[tuple]] = {}
    shared: dict[str, str] = {}
    get, intern = index.get, shared.setdefault
    for record in reader.records():
        key = record[0]
        rows = get(key)
        if rows is None:
            rows = index[key] = []
        second = record[1]
        if second.__class__ is str:  # the column 2 / primary code: the same few thousand codes over and over
            second = intern(second, second)
        rows.append((second, *record[2:]))
    names = [source.name for source in reader.sources]
    return _CLASSES[reader.kind](index, names, **_meta(reader))
