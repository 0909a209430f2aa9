"""Reading the files of one table into normalized rows, with a problem for each row that is skipped.

For each file: find the header row among the first lines (:func:`find_header`: tab- or
comma-separated, any preamble above it skipped; the further lines of a header wrapped over several
lines, as in the CMS PTP text files, are recognized by their empty first cell and skipped), then
turn each data row into a tuple (the row's values, then the file's index and the row's line number):

=========  ==============================================================================
kind       record
=========  ==============================================================================
ncci-ptp   ``(column1, column2, effective, deletion, modifier_indicator, file, line)``
mue        ``(code, max_units, indicator, effective, deletion, file, line)``
addon      ``(addon, primary, edit_type, effective, deletion, file, line)``
=========  ==============================================================================

Dates are ``int`` ``YYYYMMDD`` (``None`` for none). An add-on row without a primary (empty, or
``CCCCC`` in the CMS file) has ``primary == ''``; its type defaults to 2 (contractor-defined) and a
type 1 or 3 row without a primary is a problem. In the CMS add-on file the row's deletion is the
earliest of the edit's, the add-on code's and the primary code's deletion dates, and its effective
date the later of the edit's and the primary's.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from . import versions
from .errors import ProblemLog, TableError
from .layouts import Layout, guess_kind, match_header
from .model import ADDON, KINDS, MUE, PTP
from .sources import (
    SNIFF_CHARS,
    PathLike,
    Source,
    as_paths,
    csv_rows,
    open_text,
    read_head,
    resolve_sources,
    tsv_rows,
)
from .values import (
    CONTRACTOR_DEFINED,
    parse_addon_type,
    parse_code,
    parse_date,
    parse_modifier_indicator,
    parse_mue_indicator,
    parse_optional_date,
    parse_units,
)

#: The header row must be among this many first lines.
MAX_HEADER_LINE = 200
#: A header may be wrapped over at most this many extra lines.
MAX_HEADER_CONTINUATION = 6

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DATA_CELL = re.compile(r"\d{7,8}|[A-Za-z0-9]{5}")

Record = tuple
RowParser = Callable[[Sequence[str]], tuple]


def check_kind(kind: str) -> str:
    """``kind`` if it is one of :data:`~scrubber.tables.model.KINDS`, else ``TableError``."""
    if kind not in KINDS:
        raise TableError(f"unknown table kind {kind!r}: use one of {', '.join(KINDS)}")
    return kind


@dataclass(frozen=True)
class Header:
    """Where a file's header is and how its rows are split."""

    delimiter: str  # "\t" or ","
    index: int  # rows (as split by that delimiter) above the header row
    layout: Layout
    preamble: tuple[str, ...]  # the lines above the header row


def find_header(kind: str, source: Source) -> Header:
    """The header of ``source`` for ``kind``, or ``TableError`` naming the file."""
    head = read_head(source)
    if not head.strip():
        raise TableError(f"{source.display}: empty file")
    lines = _LINE_BREAK.split(head)
    if len(head) >= SNIFF_CHARS:
        lines = lines[:-1]  # the last line may be cut
    lines = lines[:MAX_HEADER_LINE]

    tab: tuple[int, Layout] | None = None
    for index, line in enumerate(lines):
        if "\t" in line and (found := match_header(kind, line.split("\t"))):
            tab = (index, found[0])
            break
    comma: tuple[int, int, Layout] | None = None
    reader = csv.reader(io.StringIO("\n".join(lines)))
    try:
        for index, cells in enumerate(reader):
            if found := match_header(kind, cells):
                comma = (index, reader.line_num - 1, found[0])
                break
    except csv.Error:
        pass

    if tab and (comma is None or tab[0] <= comma[1]):
        return Header("\t", tab[0], tab[1], tuple(lines[: tab[0]]))
    if comma:
        return Header(",", comma[0], comma[2], tuple(lines[: comma[1]]))
    raise TableError(f"{source.display}: {_no_header(kind, lines)}")


def _no_header(kind: str, lines: list[str]) -> str:
    for line in lines:
        for cells in (line.split("\t"), next(csv.reader([line]), [])):
            other = guess_kind(cells)
            if other and other != kind:
                return f"this looks like a {other} table, not {kind} (header: {line.strip()[:80]!r})"
    expected = {
        PTP: "column1,column2,effective,deletion,modifier_indicator (or the CMS PTP file's Column 1, Column 2, ...)",
        MUE: "code,max_units,indicator (or the CMS MUE file's HCPCS/CPT Code, ... MUE Values, ...)",
        ADDON: "addon,primary (or the CMS add-on code file's Add-On_Code, Primary_Code, ...)",
    }[kind]
    return f"no {kind} header row in the first {len(lines)} lines: expected the columns {expected}"


def _is_continuation(cells: Sequence[str]) -> bool:
    """A wrapped header line: first cell empty, something elsewhere, nothing that looks like data."""
    if not cells or cells[0].strip():
        return False
    filled = [cell.strip() for cell in cells if cell.strip()]
    return bool(filled) and not any(_DATA_CELL.fullmatch(cell) for cell in filled)


# --- one parser per kind: cells -> record values (ValueError for a bad row) -----------------------


def _ptp_parser(columns: dict[str, int]) -> RowParser:
    c1, c2 = columns["column1"], columns["column2"]
    eff, dele, mod = columns["effective"], columns["deletion"], columns["modifier_indicator"]

    def parse(cells: Sequence[str]) -> tuple:
        return (
            parse_code(cells[c1], "column 1 code"),
            parse_code(cells[c2], "column 2 code"),
            parse_date(cells[eff], "effective date"),
            parse_optional_date(cells[dele], "deletion date"),
            parse_modifier_indicator(cells[mod]),
        )

    return parse


def _mue_parser(columns: dict[str, int]) -> RowParser:
    code, units, mai = columns["code"], columns["max_units"], columns["indicator"]
    eff, dele = columns.get("effective"), columns.get("deletion")

    def parse(cells: Sequence[str]) -> tuple:
        return (
            parse_code(cells[code]),
            parse_units(cells[units]),
            parse_mue_indicator(cells[mai]),
            None if eff is None else parse_optional_date(cells[eff], "effective date"),
            None if dele is None else parse_optional_date(cells[dele], "deletion date"),
        )

    return parse


def _addon_parser(columns: dict[str, int]) -> RowParser:
    addon, primary = columns["addon"], columns["primary"]
    kind_col = columns.get("type")
    effective = [columns[name] for name in ("effective", "primary_effective") if name in columns]
    deletion = [
        columns[name] for name in ("deletion", "edit_deletion", "addon_deletion", "primary_deletion") if name in columns
    ]

    def parse(cells: Sequence[str]) -> tuple:
        code = parse_code(cells[addon], "add-on code")
        text = cells[primary].strip().upper()
        first = "" if text in ("", CONTRACTOR_DEFINED) else parse_code(text, "primary code")
        if kind_col is not None and cells[kind_col].strip():
            edit_type = parse_addon_type(cells[kind_col])
        else:
            edit_type = 1 if first else 2
        if not first and edit_type != 2:
            raise ValueError(f"a type {edit_type} add-on edit needs a primary code")
        starts = [d for d in (parse_optional_date(cells[i], "effective date") for i in effective) if d is not None]
        ends = [d for d in (parse_optional_date(cells[i], "deletion date") for i in deletion) if d is not None]
        return (code, first, edit_type, max(starts) if starts else None, min(ends) if ends else None)

    return parse


PARSERS: dict[str, Callable[[dict[str, int]], RowParser]] = {PTP: _ptp_parser, MUE: _mue_parser, ADDON: _addon_parser}


@dataclass
class FileRead:
    """What was learned about one file while reading it."""

    source: Source
    layout: str = ""
    version: str | None = None
    rows: int = 0


@dataclass
class TableReader:
    """The files of one table kind, read into records (see the module docstring).

    ``TableReader(kind, paths)`` resolves the paths at once (``TableError`` for a missing file);
    :meth:`records` reads them (``TableError`` for a file without a header, or when no row at all is
    usable); afterwards ``problems``, ``version``, ``files`` and ``count`` describe what was read.
    """

    kind: str
    paths: PathLike | Sequence[PathLike]
    log: ProblemLog = field(default_factory=ProblemLog)
    files: list[FileRead] = field(default_factory=list)
    count: int = 0

    def __post_init__(self) -> None:
        self.kind = check_kind(self.kind)
        self.sources = resolve_sources(as_paths(self.paths))

    @property
    def names(self) -> list[str]:
        return [source.name for source in self.sources]

    @property
    def version(self) -> str:
        return versions.combine((f.version for f in self.files), [f.source.name for f in self.files] or self.names)

    @property
    def problems(self) -> list:
        return self.log.problems()

    @property
    def layouts(self) -> list[str]:
        return list(dict.fromkeys(f.layout for f in self.files if f.layout))

    def records(self) -> Iterator[Record]:
        """Every usable row of every file, in file order."""
        for index, source in enumerate(self.sources):
            try:
                header = find_header(self.kind, source)
            except TableError:
                if source.member is not None and len(self.sources) > 1:
                    self.log.add(source.name, 0, f"skipped: no {self.kind} header row in this archive member")
                    continue
                raise
            read = FileRead(source, header.layout.name, self._version(source, header))
            self.files.append(read)
            yield from self._rows(index, source, header, read)
        if self.count == 0:
            found = "; ".join(str(p) for p in self.log.problems()[:3])
            raise TableError(
                f"{', '.join(s.display for s in self.sources)}: no usable {self.kind} row"
                + (f" ({found})" if found else " (the header is followed by no data)")
            )

    @staticmethod
    def _version(source: Source, header: Header) -> str | None:
        return (
            (source.member and versions.version_from_name(source.member))
            or versions.version_from_name(source.path.name)
            or versions.version_from_text(header.preamble)
        )

    def _rows(self, index: int, source: Source, header: Header, read: FileRead) -> Iterator[Record]:
        try:
            yield from self._read_rows(index, source, header, read)
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:  # a disk or archive fault mid-file
            raise TableError(f"{source.display}: reading failed ({exc})") from None

    def _read_rows(self, index: int, source: Source, header: Header, read: FileRead) -> Iterator[Record]:
        name, add = source.name, self.log.add
        with open_text(source) as stream:
            rows = tsv_rows(stream) if header.delimiter == "\t" else csv_rows(stream)
            try:
                for _ in range(header.index):
                    next(rows)
                _, first = next(rows)
            except (StopIteration, ValueError):  # the file changed under us
                raise TableError(f"{source.display}: the header row vanished while reading") from None
            names = list(first or [])
            pending = None
            for _ in range(MAX_HEADER_CONTINUATION):  # a wrapped header's further lines: not data
                item = next(rows, None)
                if item is None:
                    break
                if item[1] is not None and _is_continuation(item[1]):
                    continue
                pending = item
                break
            columns = header.layout.columns(names)
            if not columns:  # the file changed between finding the header and reading it
                raise TableError(f"{source.display}: the header row changed while reading")
            width = len(names)
            while width and not names[width - 1].strip():
                width -= 1
            needed = max(columns.values()) + 1
            parse = PARSERS[self.kind](columns)
            pending_rows = [pending] if pending is not None else []
            count = 0
            for source_rows in (pending_rows, rows):
                for line, cells in source_rows:
                    if cells is None:
                        add(name, line, "row cannot be read as CSV")
                        continue
                    if len(cells) < needed:
                        if any(cell.strip() for cell in cells):
                            add(name, line, f"row has {len(cells)} fields; the header has {width}")
                        continue
                    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
                        add(name, line, f"row has {len(cells)} fields; the header has {width}")
                        continue
                    try:
                        values = parse(cells)
                    except ValueError as exc:
                        if any(cell.strip() for cell in cells):
                            add(name, line, str(exc))
                        continue
                    count += 1
                    yield (*values, index, line)
            read.rows = count
            self.count += count
