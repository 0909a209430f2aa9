"""Streaming X12 tokenizer shared by the 837P and 835 readers.

Delimiters come from each ISA segment (element separator at byte 3, repetition separator ISA11,
component separator ISA16, segment terminator right after ISA16), so one file may hold several
interchanges with different delimiters. Whitespace (newline, CRLF) after a terminator is ignored.
Memory use is bounded by the chunk size plus the longest segment, never by the file size, and time is
linear in both: a segment longer than a chunk is searched for its terminator one new chunk at a time.

A UTF-8 byte-order mark (EF BB BF, written by Windows tools) may come before any ISA. One at the very
start of the input is an encoding mark, not text: it is dropped (``SegmentText.mark``) and offsets count
from the character after it, as editors show the file. One before a later ISA (files concatenated) is
skipped with the layout around it and counted like any other character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO, Iterator

CHUNK_SIZE = 1 << 16
BYTE_ORDER_MARKS = ("\xef\xbb\xbf", "\ufeff")  # UTF-8's as bytes decoded as latin-1; as text (a text stream)
_ISA_HEAD = 110  # characters read before parsing an ISA: its 106 and a few of layout
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")
LAYOUT_WHITESPACE = " \t\r\n\v\f"  # what may follow a terminator; str.strip() would also eat \x1c-\x1f


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str
    component: str
    repetition: str | None
    segment: str


@dataclass(slots=True)
class Segment:
    """One segment: ``elements[0]`` is the segment id; ``index`` is its 1-based position in the file."""

    index: int
    elements: list[str]
    delimiters: Delimiters
    text: str | None = None  # the segment as read (elements and their separators), when the tokenizer made it

    @property
    def id(self) -> str:
        return self.elements[0]

    def get(self, position: int) -> str:
        """Element ``position`` (1-based, as in ``CLM07``), or '' when absent."""
        elements = self.elements
        return elements[position] if position < len(elements) else ""

    def components(self, position: int) -> list[str]:
        """The components of composite element ``position`` (``CLM05`` → ['11', 'B', '1'])."""
        return self.get(position).split(self.delimiters.component)


class X12SyntaxError(ValueError):
    """The input cannot be tokenized from here on (no ISA, unreadable delimiters, garbage)."""

    def __init__(self, message: str, segment: int | None = None):
        super().__init__(message)
        self.segment = segment


@dataclass(frozen=True, slots=True)
class TokenIssue:
    """A segment that could not be tokenized; reading goes on with the next one."""

    index: int
    message: str
    segment_id: str = ""  # what stood where the id should be (``CLM:A1``: a wrong element delimiter)


def _known_id(segment_id: str, known_ids: set[str]) -> bool:
    """Check a segment id against the pattern once, then remember it (a file uses a few dozen ids)."""
    if _SEGMENT_ID.match(segment_id):
        known_ids.add(segment_id)
        return True
    return False


def parse_isa_delimiters(head: str) -> Delimiters:
    """Read the delimiters from the text of an ISA segment (at least 106 characters of it)."""
    if not head.startswith("ISA") or len(head) < 4:
        raise X12SyntaxError("input does not start with an ISA segment", segment=1)
    element = head[3]
    if element.isalnum() or element in LAYOUT_WHITESPACE:  # FS/GS/RS/US (\x1c-\x1f) are valid delimiters
        raise X12SyntaxError(f"ISA element separator {element!r} is not a delimiter", segment=1)
    # ISA16 is the 16th element: find the 16th separator, then one component character, then the terminator.
    position = 0
    for _ in range(16):
        position = head.find(element, position + 1)
        if position < 0:
            raise X12SyntaxError("ISA segment is truncated: fewer than 16 elements", segment=1)
    if position + 2 >= len(head):
        raise X12SyntaxError("ISA segment is truncated: no ISA16 or segment terminator", segment=1)
    component = head[position + 1]
    terminator = head[position + 2]
    if terminator.isalnum() or terminator in (element, component) or terminator == " ":
        raise X12SyntaxError(f"ISA segment terminator {terminator!r} is not a delimiter", segment=1)
    fields = head[:position].split(element)
    repetition = fields[11] if len(fields) > 11 and len(fields[11]) == 1 and not fields[11].isalnum() else None
    return Delimiters(element=element, component=component, repetition=repetition, segment=terminator)


def _byte_order_mark(text: str) -> str:
    """The byte-order mark ``text`` starts with, or ''."""
    for mark in BYTE_ORDER_MARKS:
        if text.startswith(mark):
            return mark
    return ""


def strip_layout(text: str) -> str:
    """``text`` without the whitespace and byte-order marks it starts with (what may come before an ISA)."""
    text = text.lstrip()
    mark = _byte_order_mark(text)
    while mark:
        text = text[len(mark) :].lstrip()
        mark = _byte_order_mark(text)
    return text


class SegmentText:
    """The input not yet split into segments, read a chunk at a time, and the delimiters that split it.

    The tokenizer and the positions reporter (``scrubber.reporters.positions``) both read through it, so
    they find the same interchanges and the same segment pieces.
    """

    __slots__ = ("stream", "buffer", "eof", "delimiters", "skipped", "mark", "started", "partial")

    def __init__(self, stream: BinaryIO, resume: Resume | None = None, partial: bool = False):
        self.stream = stream
        self.buffer = resume.text if resume is not None else ""
        self.eof = False
        self.delimiters: Delimiters | None = resume.delimiters if resume is not None else None  # None between interchanges
        self.skipped = ""  # the layout skipped before an ISA by the last next_pieces()
        self.mark = ""  # the byte-order mark the input starts with, if any: not part of the text
        self.started = resume is not None  # whether the start of the input (and its mark) was looked at
        # A piece of a file that is not its end (``--jobs``): the text after the piece's last terminator is
        # left in ``buffer`` for the caller, not an error.
        self.partial = partial

    def _read_chunk(self) -> str:
        """The next chunk of the input as text; '' at the end of the input."""
        if self.eof:
            return ""
        chunk = self.stream.read(CHUNK_SIZE)
        if not chunk:
            self.eof = True
            return ""
        return chunk.decode("latin-1") if isinstance(chunk, bytes) else chunk

    def fill(self) -> bool:
        """Read one more chunk into the buffer; False at the end of the input."""
        chunk = self._read_chunk()
        self.buffer += chunk
        return bool(chunk)

    def next_pieces(self, index: int) -> list[str]:
        """The text up to the last segment terminator read so far, split at each terminator ([] at the end
        of the input); the unterminated tail waits for the next chunk. Between interchanges, first skip the
        layout before the next ISA and read its ``delimiters``.

        Raises ``X12SyntaxError`` (for segment ``index + 1``, the next one) when something else than an
        ISA starts an interchange, or the input ends inside a segment.
        """
        self.skipped = ""
        if self.delimiters is None:
            self._skip_to_interchange()
            if not self.buffer:
                return []
            if not self.buffer.startswith("ISA"):
                raise X12SyntaxError(f"expected an ISA segment, found {self.buffer[:20]!r}", segment=index + 1)
            try:
                self.delimiters = parse_isa_delimiters(self.buffer[:200])
            except X12SyntaxError as error:
                error.segment = index + 1
                raise
        terminator = self.delimiters.segment
        if terminator not in self.buffer and not self._read_through(terminator):
            rest = self.buffer.strip()
            if rest and not self.partial:
                raise X12SyntaxError(
                    f"file ends inside a segment ({rest[:30]!r}...) with no terminator {terminator!r}",
                    segment=index + 1,
                )
            return []
        pieces = self.buffer.split(terminator)
        self.buffer = pieces.pop()
        return pieces

    def _drop_leading_mark(self) -> None:
        """At the start of the input, drop a byte-order mark: an encoding mark, not a character of the text."""
        self.started = True
        while len(self.buffer) < len(BYTE_ORDER_MARKS[0]) and self.fill():
            pass
        self.mark = _byte_order_mark(self.buffer)
        self.buffer = self.buffer[len(self.mark) :]

    def _skip_to_interchange(self) -> None:
        """Drop the layout before the next ISA into ``skipped``, reading until an ISA's worth of text is left."""
        if not self.started:
            self._drop_leading_mark()
        skipped = []
        while True:
            rest = strip_layout(self.buffer)
            skipped.append(self.buffer[: len(self.buffer) - len(rest)])
            self.buffer = rest
            if len(rest) >= _ISA_HEAD or not self.fill():
                break
        self.skipped = "".join(skipped)

    def _read_through(self, terminator: str) -> bool:
        """Read chunks until one holds ``terminator``; False if the input ends first.

        Only each new chunk is searched and the chunks are joined once, so a segment of n characters costs
        time linear in n (searching and growing the whole buffer per chunk was quadratic).
        """
        chunks = [self.buffer]
        found = False
        while not found:
            chunk = self._read_chunk()
            if not chunk:
                break
            chunks.append(chunk)
            found = terminator in chunk  # the terminator is one character: it cannot straddle two chunks
        self.buffer = "".join(chunks)
        return found

    def end_interchange(self, rest: list[str]) -> None:
        """After an IEA: give the pieces after it back; the next interchange may use other delimiters."""
        assert self.delimiters is not None
        self.buffer = self.delimiters.segment.join(rest + [self.buffer])
        self.delimiters = None


@dataclass(frozen=True, slots=True)
class Resume:
    """Where tokenizing a piece of a file starts (``--jobs`` workers read pieces, numbering segments as one
    reader would): with these ``delimiters`` (None: between interchanges), after segment ``index``, with
    ``text`` read before the piece but not yet split into segments."""

    delimiters: Delimiters | None
    index: int
    text: str = ""


class Tokens:
    """The segments of ``stream``; after iterating, ``index`` is the last segment's number and ``tail`` the
    text after the last terminator. ``partial``: the stream is a piece that stops before the end of the
    file (on a segment boundary, or ``tail`` says otherwise), so an unterminated end is not an error."""

    def __init__(self, stream: BinaryIO, resume: Resume | None = None, partial: bool = False):
        self.source = SegmentText(stream, resume, partial)
        self.index = resume.index if resume is not None else 0

    @property
    def tail(self) -> str:
        return self.source.buffer.strip(LAYOUT_WHITESPACE)

    def resume(self) -> Resume:
        """Where a reader of the rest of the input goes on from."""
        return Resume(self.source.delimiters, self.index, self.source.buffer)

    @property
    def delimiters(self) -> Delimiters | None:
        return self.source.delimiters

    def __iter__(self) -> Iterator[Segment | TokenIssue]:
        return _tokens(self.source, self.index, self)


def iter_segments(stream: BinaryIO) -> Iterator[Segment | TokenIssue]:
    """Yield every segment of every interchange in ``stream``.

    Raises ``X12SyntaxError`` when nothing more can be tokenized (the caller reports it and stops);
    yields ``TokenIssue`` for a single bad segment and carries on.
    """
    return _tokens(SegmentText(stream), 0, None)


def _tokens(source: SegmentText, index: int, counter: Tokens | None) -> Iterator[Segment | TokenIssue]:
    """The tokenizer; at the end it leaves the last segment's number in ``counter.index``."""
    known_ids: set[str] = set()
    while True:
        pieces = source.next_pieces(index)
        if not pieces:
            if counter is not None:
                counter.index = index
            return
        delimiters = source.delimiters
        for position, piece in enumerate(pieces):
            text = piece.strip(LAYOUT_WHITESPACE)
            if not text:
                continue  # a stray terminator or blank line
            index += 1
            elements = text.split(delimiters.element)
            segment_id = elements[0]
            if segment_id not in known_ids and not _known_id(segment_id, known_ids):
                yield TokenIssue(index, f"{segment_id[:20]!r} is not a segment id", segment_id[:20])
                continue
            yield Segment(index, elements, delimiters, text)
            if segment_id == "IEA":
                source.end_interchange(pieces[position + 1 :])
                break
