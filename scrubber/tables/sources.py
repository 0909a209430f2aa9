"""Finding and reading the files of a table: plain files, directories, ``.zip`` archives; text rows.

A path may be a ``.txt``/``.csv``/``.tsv`` file, a directory (its files with those suffixes and
its ``.zip`` files, in name order) or a ``.zip`` archive (its members with those suffixes; CMS
ships each file zipped). Text is read as UTF-8 (a byte-order mark is dropped); bytes that are not
UTF-8 are kept as they are (``surrogateescape``) so that one odd byte in a rationale column costs
nothing, and a code cell holding one is reported as a row problem, shown as Latin-1.

Rows come from :func:`iter_rows` as ``(line number, cells)``: tab-separated files are split on tabs
(quotes around a whole cell are dropped), comma-separated ones go through :mod:`csv` (quoted cells
may hold commas and line breaks; the line number is the line where the row ends).
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import TableError

TEXT_SUFFIXES = frozenset({".txt", ".csv", ".tsv", ".tab"})
SQLITE_MAGIC = b"SQLite format 3\x00"
SNIFF_CHARS = 256 * 1024

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Source:
    """One text file of a table: a file on disk or a member of a ``.zip`` archive."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        """The name used in citations and problems: ``ccipra-v321r0-f1.txt`` or ``x.zip!member.txt``."""
        if self.member is None:
            return self.path.name
        return f"{self.path.name}!{self.member}"

    @property
    def display(self) -> str:
        """The name used in errors: the path as given (``dir/x.zip!member.txt`` for a member)."""
        return str(self.path) if self.member is None else f"{self.path}!{self.member}"

    def open_binary(self) -> IO[bytes]:
        try:
            if self.member is None:
                return self.path.open("rb")
            archive = zipfile.ZipFile(self.path)
            return _MemberStream(archive, archive.open(self.member))
        except (OSError, zipfile.BadZipFile, KeyError, RuntimeError, NotImplementedError) as exc:
            raise TableError(f"{self.display}: cannot be read ({_reason(exc)})") from None


class _MemberStream(io.BufferedReader):
    """A zip member's stream that also closes its archive."""

    def __init__(self, archive: zipfile.ZipFile, raw: IO[bytes]) -> None:
        super().__init__(raw)  # type: ignore[arg-type]
        self._archive = archive

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._archive.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def as_paths(paths: PathLike | Sequence[PathLike]) -> list[Path]:
    """One path or several, as a list of :class:`Path`."""
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    return [Path(p) for p in paths]


def resolve_sources(paths: Sequence[Path]) -> list[Source]:
    """The text files behind ``paths`` (files, directories, zip archives), or ``TableError``."""
    if not paths:
        raise TableError("no table file given")
    sources: list[Source] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES | {".zip"})
            if not inside:
                raise TableError(f"{path}: the directory holds no .txt, .csv or .zip table file")
            for file in inside:
                sources.extend(_file_sources(file))
        else:
            sources.extend(_file_sources(path))
    return sources


def _file_sources(path: Path) -> list[Source]:
    if not path.exists():
        raise TableError(f"{path}: no such file")
    if not path.is_file():
        raise TableError(f"{path}: not a file")
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise TableError(f"{path}: cannot be read ({_reason(exc)})") from None
    if head != b"PK\x03\x04" and head != b"PK\x05\x06":
        return [Source(path)]
    try:
        with zipfile.ZipFile(path) as archive:
            names = [info.filename for info in archive.infolist() if not info.is_dir()]
    except (OSError, zipfile.BadZipFile) as exc:
        raise TableError(f"{path}: not a readable zip archive ({_reason(exc)})") from None
    if "xl/workbook.xml" in names:
        raise TableError(
            f"{path}: an Excel workbook; save it as CSV or use the tab-delimited .txt file CMS ships beside it"
        )
    members = sorted(
        name for name in names if Path(name).suffix.lower() in TEXT_SUFFIXES and not name.startswith("__MACOSX/")
    )
    if not members:
        raise TableError(f"{path}: the zip archive holds no .txt or .csv file")
    return [Source(path, member) for member in members]


def open_text(source: Source) -> IO[str]:
    """The source as text: UTF-8 (BOM dropped), undecodable bytes kept as surrogates, newlines as-is.

    A UTF-16 byte-order mark (a spreadsheet's "Unicode text" export) switches to UTF-16."""
    raw = source.open_binary()
    encoding = "utf-8-sig"
    peek = getattr(raw, "peek", None)
    if peek is not None and peek(2)[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    return io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")  # type: ignore[arg-type]


def read_head(source: Source) -> str:
    """The first :data:`SNIFF_CHARS` characters, or ``TableError`` for a binary or unreadable file."""
    try:
        with open_text(source) as stream:
            head = stream.read(SNIFF_CHARS)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise TableError(f"{source.display}: cannot be read ({_reason(exc)})") from None
    if "\x00" in head:
        raise TableError(f"{source.display}: not a text table (it holds binary data)")
    return head


def tsv_rows(stream: IO[str]) -> Iterator[tuple[int, list[str] | None]]:
    """Tab-separated rows as ``(line number, cells)``."""
    for number, line in enumerate(stream, 1):
        cells = line.rstrip("\r\n").split("\t")
        if '"' in line:
            cells = [c[1:-1] if len(c) >= 2 and c[0] == '"' and c[-1] == '"' else c for c in cells]
        yield number, cells


def csv_rows(stream: IO[str]) -> Iterator[tuple[int, list[str] | None]]:
    """Comma-separated rows as ``(line number where the row ends, cells)``; a row the csv module
    cannot read (a cell over its size limit) comes as ``(line number, None)`` and reading goes on."""
    reader = csv.reader(stream)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield reader.line_num, None
            continue
        yield reader.line_num, cells
