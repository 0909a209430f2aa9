"""Where a finding sits in its file: a path relative to the working directory, and the line, column and
character offset of an X12 segment.

X12 files are often one single line, so a line number alone points nowhere: SARIF regions and GitHub
annotations carry columns and (SARIF) ``charOffset``/``charLength`` too. Positions are found by scanning
the file again, lazily: only files that have findings, only up to the last segment asked for, keeping only
the segments asked for. The scan reads through the tokenizer's ``SegmentText`` (``scrubber.readers.x12_tokens``:
delimiters from each ISA, pieces split at the terminator, delimiters reset after IEA), blank pieces
skipped, so segment ``n`` here is segment ``n`` of the reader; ``tests/test_reporters_positions.py``
checks that on every fixture.

Offsets and columns count characters of the file decoded as latin-1, as the tokenizer reads it: one
character per byte (X12 text is ASCII). Lines end at LF, CRLF or a lone CR; columns start at 1 and
``end_column`` is the column just after the segment's last character (SARIF's convention). A UTF-8
byte-order mark starting the file is not text (``SegmentText.mark``) and is not counted: the ISA after it
is at offset 0, line 1, column 1, as editors show it; add ``len(mark)`` (3) for a byte offset. A mark
before a later ISA is counted as its 3 characters, like the rest of the layout.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO
from urllib.parse import quote

from scrubber.readers.x12_tokens import LAYOUT_WHITESPACE, SegmentText, X12SyntaxError

_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Span:
    """One segment, without its terminator and without the whitespace around it."""

    index: int  # 1-based segment position in the file (ISA = 1), as in Finding.segment
    offset: int  # 0-based character offset of the segment's first character
    length: int  # characters of the segment
    start_line: int
    start_column: int
    end_line: int
    end_column: int  # exclusive
    text: str = ""  # the segment's characters
    element_delimiter: str = "*"
    component_delimiter: str = ":"

    def element_region(self, position: int, component: int | None = None) -> dict[str, int]:
        """A SARIF ``region`` of element ``position`` (component ``component``): where it starts, how long it is."""
        line, column, offset = self.element_start(position, component)
        parts = self.text.split(self.element_delimiter)
        value = parts[position] if position < len(parts) else ""
        if component is not None and value:
            pieces = value.split(self.component_delimiter)
            value = pieces[component - 1] if component <= len(pieces) else ""
        return {"startLine": line, "startColumn": column, "endLine": line, "endColumn": column + len(value),
                "charOffset": offset, "charLength": len(value)}

    def element_start(self, position: int, component: int | None = None) -> tuple[int, int, int]:
        """Line, column and character offset of element ``position`` (component ``component``) of this segment.

        An element past the segment's end is placed just after its last character (where it would go)."""
        parts = self.text.split(self.element_delimiter)
        if position >= len(parts):
            start = len(self.text)
        else:
            start = sum(len(part) + 1 for part in parts[:position])
            if component is not None and component > 1:
                pieces = parts[position].split(self.component_delimiter)
                start += sum(len(piece) + 1 for piece in pieces[: component - 1]) if component <= len(pieces) else len(parts[position])
        before = self.text[:start]
        breaks = list(_NEWLINE.finditer(before))
        if not breaks:
            return self.start_line, self.start_column + start, self.offset + start
        return self.start_line + len(breaks), start - breaks[-1].end() + 1, self.offset + start

    def region(self) -> dict[str, int]:
        """A SARIF ``region``: line/column range and character range of the segment."""
        return {
            "startLine": self.start_line,
            "startColumn": self.start_column,
            "endLine": self.end_line,
            "endColumn": self.end_column,
            "charOffset": self.offset,
            "charLength": self.length,
        }


class _Cursor:
    """Offset, line and column of the next character, advanced over the text consumed so far."""

    __slots__ = ("column", "line", "offset", "pending_cr")

    def __init__(self) -> None:
        self.offset = 0
        self.line = 1
        self.column = 1
        self.pending_cr = False  # text ended with CR: a line break, unless the next text starts with LF

    def advance(self, text: str) -> None:
        if not text:
            return
        if self.pending_cr:
            self.pending_cr = False
            if not text.startswith("\n"):
                self.line += 1
                self.column = 1
        self.offset += len(text)
        matches = list(_NEWLINE.finditer(text))
        if matches and matches[-1].group() == "\r" and matches[-1].end() == len(text):
            matches.pop()  # may be the first half of a CRLF split between two texts
            self.pending_cr = True
        if matches:
            self.line += len(matches)
            self.column = len(text) - matches[-1].end() + 1
        else:
            self.column += len(text)

    def here(self) -> tuple[int, int]:
        """Line and column of the next character, which the caller knows is not a LF."""
        if self.pending_cr:
            self.pending_cr = False
            self.line += 1
            self.column = 1
        return self.line, self.column


def iter_spans(stream: BinaryIO) -> Iterator[Span]:
    """Yield the span of every segment in ``stream``, numbered as ``x12_tokens.iter_segments`` numbers them.

    Stops quietly where the tokenizer would raise (no ISA, bad delimiters, an unterminated tail).
    """
    source = SegmentText(stream)
    cursor = _Cursor()
    index = 0
    while True:
        try:
            pieces = source.next_pieces(index)
        except X12SyntaxError:
            return
        cursor.advance(source.skipped)
        if not pieces:
            return
        delimiters = source.delimiters
        terminator = delimiters.segment
        for position, piece in enumerate(pieces):
            text = piece.strip(LAYOUT_WHITESPACE)  # as the tokenizer: \x1c-\x1f are delimiters, not blanks
            if not text:
                cursor.advance(piece + terminator)
                continue
            index += 1
            lead = len(piece) - len(piece.lstrip(LAYOUT_WHITESPACE))
            cursor.advance(piece[:lead])
            offset = cursor.offset
            line, column = cursor.here()
            cursor.advance(text)
            yield Span(
                index, offset, len(text), line, column, cursor.line, cursor.column,
                text, delimiters.element, delimiters.component,
            )
            cursor.advance(piece[lead + len(text) :] + terminator)
            if text.split(delimiters.element, 1)[0] == "IEA":
                source.end_interchange(pieces[position + 1 :])
                break


def segment_spans(path: str | os.PathLike, wanted: Iterable[int]) -> dict[int, Span]:
    """Spans of the ``wanted`` segments of the file at ``path`` (those it has); {} if it cannot be read."""
    wanted = {index for index in wanted if index is not None and index > 0}
    if not wanted:
        return {}
    last = max(wanted)
    found: dict[int, Span] = {}
    try:
        with open(path, "rb") as stream:
            for span in iter_spans(stream):
                if span.index in wanted:
                    found[span.index] = span
                if span.index >= last:
                    break
    except OSError:
        return {}
    return found


def resolve(requests: Mapping[str | None, Iterable[int]]) -> dict[tuple[str, int], Span]:
    """``{file: segments}`` → ``{(file, segment): span}``, one scan per file."""
    spans: dict[tuple[str, int], Span] = {}
    for file, segments in requests.items():
        if file is None:
            continue
        for index, span in segment_spans(file, segments).items():
            spans[(file, index)] = span
    return spans


def display_path(file: str | None) -> str | None:
    """``file`` relative to the working directory, with ``/`` separators; absolute when outside it."""
    if file is None:
        return None
    absolute = Path(os.path.abspath(file))
    try:
        relative = PurePath(os.path.relpath(absolute, Path.cwd()))
    except ValueError:  # another drive (Windows)
        return absolute.as_posix()
    return absolute.as_posix() if relative.parts[:1] == ("..",) else relative.as_posix()


def artifact_location(file: str | None) -> dict[str, str]:
    """A SARIF ``artifactLocation``: a relative URI under ``%SRCROOT%`` (the working directory), else a file URI."""
    shown = display_path(file)
    if shown is None:
        return {"uri": "stdin"}
    if PurePath(shown).is_absolute():
        return {"uri": Path(shown).as_uri()}
    return {"uri": quote(shown, safe="/"), "uriBaseId": "%SRCROOT%"}


class SpanCursor:
    """Spans of one file after another, found by one forward scan per file.

    Reporters that stream results in input order ask for growing segment numbers, so the file is read once;
    asking for an earlier segment (or another file) starts a new scan.
    """

    def __init__(self) -> None:
        self.file: str | None = None
        self.stream: BinaryIO | None = None
        self.spans: Iterator[Span] | None = None
        self.last: Span | None = None

    def span(self, file: str | None, index: int | None) -> Span | None:
        if file is None or index is None or index < 1:
            return None
        if file != self.file or self.last is None or index < self.last.index:
            self._open(file)
        if self.last is not None and self.last.index == index:
            return self.last
        for span in self.spans or ():
            self.last = span
            if span.index >= index:
                return span if span.index == index else None
        return None

    def _open(self, file: str) -> None:
        self.close()
        self.file = file
        try:
            self.stream = open(file, "rb")
        except OSError:
            self.spans = iter(())
            return
        self.spans = iter_spans(self.stream)

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
        self.stream = self.spans = self.last = None
