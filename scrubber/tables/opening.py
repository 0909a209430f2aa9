"""``open_table``: one way to open any table for lookups, whatever the path holds.

==========================================  ===============================================
path                                        opened as
==========================================  ===============================================
``*.sqlite``, ``*.sqlite3``, ``*.db``, or   the ``kind`` table of that store
a file starting with SQLite's magic bytes   (:mod:`scrubber.tables.store`; lazy, per code)
a neutral CSV or a CMS file (``.txt``,      a table in memory (:mod:`scrubber.tables.memory`)
``.csv``, a ``.zip`` of them, a directory
of them, or a list of such paths)
==========================================  ===============================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, overload

from . import memory
from .reader import TableReader, check_kind
from .sources import PathLike, as_paths
from .store import is_store_path, open_store_table
from .tables import AddonTable, PairTable, Table, UnitTable


@overload
def open_table(kind: Literal["ncci-ptp"], path: PathLike | Sequence[PathLike]) -> PairTable: ...
@overload
def open_table(kind: Literal["mue"], path: PathLike | Sequence[PathLike]) -> UnitTable: ...
@overload
def open_table(kind: Literal["addon"], path: PathLike | Sequence[PathLike]) -> AddonTable: ...
@overload
def open_table(kind: str, path: PathLike | Sequence[PathLike]) -> Table: ...


def open_table(kind: str, path: PathLike | Sequence[PathLike]) -> Table:
    """The ``kind`` table at ``path`` (see the module docstring); ``TableError`` if it is unusable."""
    kind = check_kind(kind)
    paths = as_paths(path)
    if len(paths) == 1 and paths[0].is_file() and is_store_path(paths[0]):
        return open_store_table(kind, paths[0])
    if len(paths) == 1 and not paths[0].exists() and paths[0].suffix.lower() in (".sqlite", ".sqlite3", ".db"):
        return open_store_table(kind, paths[0])  # says "no such store"
    return memory.load(TableReader(kind, paths))
