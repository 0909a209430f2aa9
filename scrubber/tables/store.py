"""The embedded store: one SQLite file holding the imported tables, read lazily by code.

``import_files(kind, paths, store_path)`` reads the files (:mod:`scrubber.tables.reader`) and
replaces that kind's rows in one transaction: the new rows go into a fresh SQL table, which then
takes the old one's place, so a failed import (no usable row, a full disk) leaves the
store as it was. ``list_tables(store_path)`` reports what each kind holds. Opening a kind
(:func:`open_store_table`) reads one metadata row; lookups run one range scan per code (or pair), cached.

Schema (``store_format`` 1)::

    store_info(key, value)                      -- store_format = 1
    tables(kind, version, sources, imported_at, row_count, problem_count, layouts)
                                                -- sources, layouts: JSON lists; imported_at: UTC ISO 8601
    sources(kind, id, name)                     -- the file names that rows cite
    problems(kind, file, row, message)          -- the kept problems of the last import
    ptp_edits(column1, column2, effective, deletion, modifier_indicator, source, line)
    mue_limits(code, max_units, indicator, effective, deletion, source, line)
    addon_edits(addon, primary_code, edit_type, effective, deletion, source, line)

Dates are ``INTEGER`` ``YYYYMMDD`` (NULL: none). The row tables are ``WITHOUT ROWID`` tables keyed
by their lookup code then the file and line (``ptp_edits(column1, column2, source, line)``,
``mue_limits(code, ...)``, ``addon_edits(addon, ...)``): a lookup is one range scan of the table's
own B-tree, with no separate index to visit (the rows of one code are stored together). A replaced
table's pages are reused by the next import (the file does not shrink).

Citations name the store, the table's version and the file row: ``ncci.sqlite ncci-ptp 2026Q2
v32.1r0: ccipra-v321r0-f1.txt row 57``. A store table pickles as its kind and path (a worker
process reopens it).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from .errors import TableError, TableProblem
from .model import ADDON, KINDS, MUE, PTP, AddonRow, PairEdit, UnitLimit
from .reader import TableReader, check_kind
from .sources import SQLITE_MAGIC, PathLike, as_paths
from .tables import AddonTable, PairTable, Table, UnitTable
from .values import to_date

STORE_FORMAT = "1"

_ROW_TABLES = {
    PTP: (
        "ptp_edits",
        (
            "column1 TEXT NOT NULL, column2 TEXT NOT NULL, effective INTEGER NOT NULL, deletion INTEGER,"
            " modifier_indicator INTEGER NOT NULL, source INTEGER NOT NULL, line INTEGER NOT NULL,"
            " PRIMARY KEY (column1, column2, source, line)"
        ),
    ),
    MUE: (
        "mue_limits",
        (
            "code TEXT NOT NULL, max_units INTEGER NOT NULL, indicator INTEGER NOT NULL, effective INTEGER,"
            " deletion INTEGER, source INTEGER NOT NULL, line INTEGER NOT NULL, PRIMARY KEY (code, source, line)"
        ),
    ),
    ADDON: (
        "addon_edits",
        (
            "addon TEXT NOT NULL, primary_code TEXT NOT NULL, edit_type INTEGER NOT NULL, effective INTEGER,"
            " deletion INTEGER, source INTEGER NOT NULL, line INTEGER NOT NULL, PRIMARY KEY (addon, source, line)"
        ),
    ),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tables (
    kind TEXT PRIMARY KEY, version TEXT NOT NULL, sources TEXT NOT NULL, imported_at TEXT NOT NULL,
    row_count INTEGER NOT NULL, problem_count INTEGER NOT NULL, layouts TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (kind TEXT NOT NULL, id INTEGER NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS problems (kind TEXT NOT NULL, file TEXT NOT NULL, row INTEGER NOT NULL,
    message TEXT NOT NULL);
"""


@dataclass(frozen=True)
class TableInfo:
    """One kind held by a store, as ``list_tables`` reports it."""

    kind: str
    version: str
    sources: tuple[str, ...]
    imported_at: str  # UTC, ISO 8601
    rows: int
    problems: int
    layouts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    """What one ``import_files`` call did."""

    kind: str
    store: str
    version: str
    rows: int
    sources: tuple[str, ...]
    imported_at: str
    problems: list[TableProblem] = field(default_factory=list)
    problem_count: int = 0


def is_store_path(path: Path) -> bool:
    """A store by its name (``.sqlite``, ``.sqlite3``, ``.db``) or by its first bytes."""
    if path.suffix.lower() in (".sqlite", ".sqlite3", ".db"):
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def _is_empty(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size == 0
    except OSError:
        return False


def _check_sqlite_file(path: Path, must_exist: bool) -> None:
    if not path.exists():
        if must_exist:
            raise TableError(f"{path}: no such store")
        return
    if path.is_dir():
        raise TableError(f"{path}: a directory, not a store")
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise TableError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if head and head != SQLITE_MAGIC:
        raise TableError(f"{path}: not a SQLite store")


def _has_table(con: sqlite3.Connection, name: str) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _check_ours(con: sqlite3.Connection, path: Path) -> None:
    """A store this package wrote, of a format it reads (an empty database is fine)."""
    if not _has_table(con, "store_info"):
        if con.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
            raise TableError(f"{path}: a SQLite database, but not a claim-scrubber table store")
        return
    row = con.execute("SELECT value FROM store_info WHERE key = 'store_format'").fetchone()
    if row is None or row[0] != STORE_FORMAT:
        found = row[0] if row else "none"
        raise TableError(f"{path}: table store format {found}; this version reads format {STORE_FORMAT}")


def import_files(kind: str, paths: PathLike | Sequence[PathLike], store_path: PathLike) -> ImportResult:
    """Read ``paths`` as a ``kind`` table and make it that kind's rows in the store (created if needed).

    The whole import is one transaction: on ``TableError`` (or any failure) the store keeps what it
    had. Returns the rows imported, the problems, the version and the import time.
    """
    kind = check_kind(kind)
    store = Path(store_path)
    reader = TableReader(kind, as_paths(paths))  # missing files fail here, before the store is touched
    _check_sqlite_file(store, must_exist=False)
    table, columns = _ROW_TABLES[kind]
    try:
        con = sqlite3.connect(store, isolation_level=None)
    except sqlite3.Error as exc:
        raise TableError(f"{store}: cannot open the store ({exc})") from None
    try:
        try:
            con.execute("PRAGMA cache_size = -262144")  # 256 MiB for the index build
            con.execute("BEGIN IMMEDIATE")
            _check_ours(con, store)
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute("INSERT OR REPLACE INTO store_info VALUES ('store_format', ?)", (STORE_FORMAT,))
            con.execute(f"DROP TABLE IF EXISTS {table}_new")
            con.execute(f"CREATE TABLE {table}_new ({columns}) WITHOUT ROWID")
            con.executemany(f"INSERT INTO {table}_new VALUES (?, ?, ?, ?, ?, ?, ?)", reader.records())
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
            imported_at = datetime.now(UTC).replace(microsecond=0).isoformat()
            names = [source.name for source in reader.sources]
            problems = reader.problems
            con.execute("DELETE FROM sources WHERE kind = ?", (kind,))
            con.executemany("INSERT INTO sources VALUES (?, ?, ?)", [(kind, i, n) for i, n in enumerate(names)])
            con.execute("DELETE FROM problems WHERE kind = ?", (kind,))
            con.executemany(
                "INSERT INTO problems VALUES (?, ?, ?, ?)", [(kind, p.file, p.row, p.message) for p in problems]
            )
            read_names = [f.source.name for f in reader.files]
            con.execute(
                "INSERT OR REPLACE INTO tables VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    kind,
                    reader.version,
                    json.dumps(read_names),
                    imported_at,
                    reader.count,
                    reader.log.count,
                    json.dumps(reader.layouts),
                ),
            )
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise TableError(f"{store}: the import failed ({exc})") from None
    finally:
        con.close()
    return ImportResult(
        kind=kind,
        store=str(store),
        version=reader.version,
        rows=reader.count,
        sources=tuple(read_names),
        imported_at=imported_at,
        problems=problems,
        problem_count=reader.log.count,
    )


def _connect_read(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to the store, or None when nothing was imported into it yet (an empty
    file or database); ``TableError`` for a missing file or one that is not a store."""
    _check_sqlite_file(path, must_exist=True)
    if _is_empty(path):
        return None
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, check_same_thread=False)
    except sqlite3.Error as exc:
        raise TableError(f"{path}: cannot read the store ({exc})") from None
    try:
        _check_ours(con, path)
        if _has_table(con, "tables"):
            return con
    except sqlite3.Error as exc:
        con.close()
        raise TableError(f"{path}: cannot read the store ({exc})") from None
    except TableError:
        con.close()
        raise
    con.close()
    return None


def _info(row: tuple) -> TableInfo:
    kind, version, sources, imported_at, rows, problems, layouts = row
    return TableInfo(kind, version, tuple(json.loads(sources)), imported_at, rows, problems, tuple(json.loads(layouts)))


def list_tables(store_path: PathLike) -> list[TableInfo]:
    """Every kind the store holds: version, source files, import time (UTC ISO), rows, problems.

    A store with nothing imported yet (an empty file or database) lists nothing; a missing file, or
    one that is not a store, is a ``TableError``."""
    path = Path(store_path)
    con = _connect_read(path)
    if con is None:
        return []
    try:
        rows = con.execute(
            "SELECT kind, version, sources, imported_at, row_count, problem_count, layouts FROM tables ORDER BY kind"
        ).fetchall()
    except sqlite3.Error as exc:
        raise TableError(f"{path}: cannot read the store ({exc})") from None
    finally:
        con.close()
    return [_info(row) for row in rows]


class _Prefixes(dict):
    """Source id -> ``'ncci.sqlite ncci-ptp 2026Q2 v32.1r0: file.txt row '`` (built once per source)."""

    def __init__(self, cite: str, names: dict[int, str]) -> None:
        super().__init__((source, f"{cite}: {name} row ") for source, name in names.items())
        self._cite = cite

    def __missing__(self, source: int) -> str:
        return f"{self._cite}: ? row "


class _StoreTable:
    """Shared by the three store tables: the connection, citations, pickling by path."""

    kind: str
    _con: sqlite3.Connection
    _path: Path
    _cite: str
    _names: dict[int, str]

    def _setup(self, con: sqlite3.Connection, path: Path, info: TableInfo) -> dict:
        self._con, self._path = con, path
        self._names = dict(con.execute("SELECT id, name FROM sources WHERE kind = ?", (info.kind,)).fetchall())
        self._cite = f"{path.name} {info.kind} {info.version}"
        self._prefixes = _Prefixes(self._cite, self._names)
        problems = [
            TableProblem(file, row, message)
            for file, row, message in con.execute(
                "SELECT file, row, message FROM problems WHERE kind = ? ORDER BY rowid", (info.kind,)
            )
        ]
        source = f"{path.name}: {info.kind} {info.version}, imported {info.imported_at} from {', '.join(info.sources)}"
        return {"version": info.version, "source": source, "problems": problems, "rows": info.rows}

    def citation(self, source: int, line: int) -> str:
        return self._prefixes[source] + str(line)

    def _query(self, sql: str, code: str) -> list[tuple]:
        try:
            return self._con.execute(sql, (code,)).fetchall()
        except sqlite3.Error as exc:
            raise TableError(f"{self._path}: cannot read the store ({exc})") from None

    def close(self) -> None:
        self._con.close()

    def __reduce__(self):
        return (open_store_table, (self.kind, str(self._path)))


def _date(value: int | None):
    return None if value is None else to_date(value)


def is_store_table(table: object) -> bool:
    """True for a table read from a store (its row problems were reported when it was imported)."""
    return isinstance(table, _StoreTable)


class StorePairTable(_StoreTable, PairTable):
    def _pairs(self, column1: str) -> dict[str, list[PairEdit]]:
        found: dict[str, list[PairEdit]] = {}
        rows = self._query(
            "SELECT column2, effective, deletion, modifier_indicator, source, line FROM ptp_edits WHERE column1 = ?",
            column1,
        )
        prefixes, add = self._prefixes, found.setdefault
        for column2, effective, deletion, indicator, source, line in rows:
            deleted = deletion and to_date(deletion)
            add(column2, []).append(
                PairEdit(column1, column2, to_date(effective), deleted, indicator, prefixes[source] + str(line))
            )
        return found

    def _pair_rows(self, column1: str, column2: str) -> tuple[PairEdit, ...]:
        try:
            rows = self._con.execute(
                "SELECT effective, deletion, modifier_indicator, source, line FROM ptp_edits"
                " WHERE column1 = ? AND column2 = ?",
                (column1, column2),
            ).fetchall()
        except sqlite3.Error as exc:
            raise TableError(f"{self._path}: cannot read the store ({exc})") from None
        return tuple(
            PairEdit(column1, column2, to_date(effective), _date(deletion), indicator, self.citation(source, line))
            for effective, deletion, indicator, source, line in rows
        )


class StoreUnitTable(_StoreTable, UnitTable):
    def _limits(self, code: str) -> tuple[UnitLimit, ...]:
        rows = self._query(
            "SELECT max_units, indicator, effective, deletion, source, line FROM mue_limits WHERE code = ?",
            code,
        )
        return tuple(
            UnitLimit(code, units, mai, self.citation(source, line), _date(effective), _date(deletion))
            for units, mai, effective, deletion, source, line in rows
        )


class StoreAddonTable(_StoreTable, AddonTable):
    def _addon(self, addon: str) -> tuple[AddonRow, ...]:
        rows = self._query(
            "SELECT primary_code, edit_type, effective, deletion, source, line FROM addon_edits WHERE addon = ?",
            addon,
        )
        return tuple(
            AddonRow(addon, primary, edit_type, _date(effective), _date(deletion), self.citation(source, line))
            for primary, edit_type, effective, deletion, source, line in rows
        )


_CLASSES: dict[str, type] = {PTP: StorePairTable, MUE: StoreUnitTable, ADDON: StoreAddonTable}


def open_store_table(kind: str, store_path: PathLike) -> Table:
    """The ``kind`` table of a store, for lookups; ``TableError`` if the store lacks that kind."""
    kind = check_kind(kind)
    path = Path(store_path)
    con = _connect_read(path)
    if con is None:
        raise TableError(f"{path}: no {kind} table in this store (it holds none; import one with import_files)")
    try:
        row = con.execute(
            "SELECT kind, version, sources, imported_at, row_count, problem_count, layouts FROM tables WHERE kind = ?",
            (kind,),
        ).fetchone()
        if row is None:
            held = [r[0] for r in con.execute("SELECT kind FROM tables ORDER BY kind")]
            raise TableError(
                f"{path}: no {kind} table in this store ("
                + (f"it holds {', '.join(held)}" if held else "it holds none")
                + "; import one with import_files)"
            )
        info = _info(row)
        table = _CLASSES[kind].__new__(_CLASSES[kind])
        meta = table._setup(con, path, info)
        Table.__init__(table, **meta)
        return table
    except TableError:
        con.close()
        raise
    except sqlite3.Error as exc:
        con.close()
        raise TableError(f"{path}: cannot read the store ({exc})") from None


assert set(_ROW_TABLES) == set(KINDS)
