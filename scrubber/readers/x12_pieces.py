"""Reading one X12 file in pieces (``--jobs`` deals them out to its workers and the main process), with the report one reader would write.

A file is cut by byte offset where a reader's state is easy to rebuild: at an ST, or at an HL whose
level is 20 (billing provider) or 22 (subscriber), so each worker tokenizes only its own pieces.

A worker starting at such a boundary does not read what came before it. It rebuilds the state a reader
of the whole file would have there from a byte scan of the file up to the boundary (counting segment
terminators, finding the governing ISA, GS, ST and HL*20, the last HL number and the CLM01s of the
transaction set so far) and by reading the few segments that hold that state: the ISA, the GS, the
transaction set's header (ST to its first HL) and the billing provider's loop. Its outputs meanwhile are
thrown away: each problem is reported by the worker whose piece holds it.

(The main process needs no guess for its own pieces: it reads on from the real state the previous piece
reached, ``read_on``.)

The rebuilt state is a guess; it is checked. The reader before the boundary, having read up to it, reads
the boundary segment too and sends its state after it (``PieceEnd.fingerprint``); the worker after it sends
the state it guessed after the same segment (``PieceStart.fingerprint``). The two must be equal,
everything the reader carries included, for the second worker's results to be used. When they differ (a
broken hierarchy before the boundary, segments counted differently, a component-separator warning already
given; a wrong guess of the last is caught like any other), that piece is read again in the main process, starting from the first worker's real state
(``PieceEnd.state``), exactly as one reader would have read it; its end is the real state the next piece's
guess is checked against. A guess can cost time, never a result.
"""

from __future__ import annotations

import copy
import io
import itertools
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from scrubber.readers.x12_reader import FALLBACK_COMPONENT_SEPARATORS
from scrubber.readers.x12_tokens import (
    LAYOUT_WHITESPACE,
    Delimiters,
    Resume,
    Tokens,
    X12SyntaxError,
    parse_isa_delimiters,
    strip_layout,
)

PIECE_BYTES = 1 << 20  # about 2,000 claims
# A smaller file is still cut in PIECES_PER_WORKER pieces per worker (of at least MIN_PIECE_BYTES): with a
# few big pieces one worker gets a piece more than the other (5 MB in 5 pieces: 3 against 2) and waits.
PIECES_PER_WORKER = 8
MIN_PIECE_BYTES = 128 << 10
SCAN_CHUNK = 4 << 20  # bytes read at a time by the scans
BOUNDARY_WINDOW = 16 << 20  # how far past a target offset a boundary is looked for
MAX_BOUNDARY_SEGMENT = 4096  # an HL or ST segment is short; a longer one is no boundary
_LAYOUT = re.escape(LAYOUT_WHITESPACE.encode())


@dataclass(frozen=True)
class Piece:
    """Bytes ``start`` to ``end`` (None: the end of the file) of one file; ``start`` is 0 or a boundary."""

    start: int
    end: int | None


@dataclass
class PieceStart:
    """What the worker reading a piece guessed: the state after the piece's first (boundary) segment."""

    fingerprint: Any


@dataclass
class PieceEnd:
    """Where a piece's reader stopped: its whole state before the next piece's boundary segment (to read on
    from there), and its state after reading that segment too, to check the next worker's guess against."""

    state: dict[str, Any]
    resume: Resume | None
    fingerprint: Any


def first_delimiters(path: Path) -> Delimiters | None:
    """The delimiters of the file's first ISA, or None (no ISA where a file should start)."""
    with open(path, "rb") as stream:
        head = stream.read(512).decode("latin-1")
    try:
        return parse_isa_delimiters(strip_layout(head)[:200])  # what the tokenizer skips before an ISA
    except X12SyntaxError:
        return None


def _boundary_pattern(delimiters: Delimiters) -> re.Pattern[bytes]:
    element = re.escape(delimiters.element.encode("latin-1"))
    terminator = re.escape(delimiters.segment.encode("latin-1"))
    value = b"[^" + element + terminator + b"]*"
    return re.compile(
        terminator + b"[" + _LAYOUT + b"]*((?:HL" + element + value + element + value + element + b"(?:20|22)(?:" + element
        + b"|" + terminator + b"))|ST" + element + b")"
    )


def plan(path: Path, workers: int, piece_bytes: int | None = None) -> list[Piece]:
    """Cut ``path`` into pieces of about equal size, each starting at a boundary: ``workers`` pieces, or more
    of about ``piece_bytes`` each (dealt out in turn, small pieces keep every worker busy while the joined
    report is written in file order). By default pieces are of about ``PIECE_BYTES``, and a smaller file is
    still cut in ``PIECES_PER_WORKER`` pieces per worker where they stay above ``MIN_PIECE_BYTES``."""
    size = path.stat().st_size
    delimiters = first_delimiters(path) if workers > 1 else None
    if delimiters is None:
        return [Piece(0, None)]
    if piece_bytes is not None:
        count = max(workers, -(-size // piece_bytes))
    else:
        count = max(workers, -(-size // PIECE_BYTES), min(workers * PIECES_PER_WORKER, size // MIN_PIECE_BYTES))
    pattern = _boundary_pattern(delimiters)
    starts = [0]
    with open(path, "rb") as stream:
        for k in range(1, count):
            target = max(size * k // count, starts[-1] + 1)
            found = _next_boundary(stream, pattern, target, size)
            if found is not None and found > starts[-1]:
                starts.append(found)
    return [Piece(start, end) for start, end in zip(starts, [*starts[1:], None])]


def _next_boundary(stream: Any, pattern: re.Pattern[bytes], target: int, size: int) -> int | None:
    """The offset of the first boundary segment's id at or after ``target`` (not in the file's first bytes)."""
    position = max(target - 1, 0)
    overlap = MAX_BOUNDARY_SEGMENT
    while position < min(size, target + BOUNDARY_WINDOW):
        stream.seek(position)
        window = stream.read(1 << 16)
        if not window:
            return None
        match = pattern.search(window)
        if match is not None and match.end() <= len(window):
            return position + match.start(1)
        if len(window) <= overlap:
            return None
        position += len(window) - overlap
    return None


# --- the state at a boundary ------------------------------------------------------------------------------


@dataclass
class _Envelope:
    """What the scan found before a boundary, as byte offsets (each with the number of its segment)."""

    delimiters: Delimiters
    isa: tuple[int, int] | None = None
    gs: tuple[int, int] | None = None
    st: tuple[int, int] | None = None
    group_count: int = 0  # GS segments in the interchange so far
    transaction_count: int = 0  # ST segments in the group so far
    header_end: int | None = None  # the first HL after the ST
    hl20: tuple[int, int] | None = None  # the last HL of level 20 in the transaction set
    hl20_end: int | None = None  # the HL after it
    last_hl: int = 0  # the last numeric HL01 in the transaction set
    claim_ids: dict[str, int] | None = None  # CLM01 -> its first CLM segment in the transaction set
    terminators: int = 0  # segment terminators before the boundary (the boundary segment is number this + 1)
    # a character the reader takes for a component separator when ISA16's is not there ('HC>99213') occurs in
    # the transaction set: the guess that the reader has given its once-per-set warning already
    other_separator: bool = False


class _Unsure(Exception):
    """The scan cannot say what the state at the boundary is; the next worker's guess will not be used."""


class Scanner:
    """Scans a file from its start to each boundary in turn (a worker's pieces come in file order, so the
    file is scanned once per worker, not once per piece). Raises ``_Unsure`` once it cannot follow."""

    def __init__(self, path: Path, delimiters: Delimiters):
        self.path = path
        self.delimiters = delimiters
        element = re.escape(delimiters.element.encode("latin-1"))
        self.terminator = delimiters.segment.encode("latin-1")
        tags = b"[" + _LAYOUT + b"]*(ISA|GS|ST|SE|HL|CLM)" + element
        # A pattern that starts with a literal (the terminator) is searched for several times faster than
        # one that may also match at the start: the chunk's first segment is matched apart.
        self.pattern = re.compile(re.escape(self.terminator) + tags)
        self.first = re.compile(b"(?:\xef\xbb\xbf)?" + tags)
        self.found = _Envelope(delimiters)
        self.other_separators = [
            candidate.encode("latin-1")
            for candidate in FALLBACK_COMPONENT_SEPARATORS
            if candidate not in (delimiters.component, delimiters.element, delimiters.segment)
        ]
        self.claim_ids: dict[str, int] = {}
        self.base = 0  # offset of the next chunk in the file
        self.counted = 0  # terminators before it
        self.carry = b""
        self.broken: str | None = None

    def advance(self, boundary: int) -> _Envelope:
        """What lies before ``boundary`` (at or after the last boundary asked for)."""
        if self.broken is not None or boundary < self.base:
            raise _Unsure(self.broken or "boundaries out of order")
        try:
            with open(self.path, "rb") as stream:
                stream.seek(self.base + len(self.carry))
                self._scan_to(stream, boundary)
        except _Unsure as error:
            self.broken = str(error)
            raise
        found = copy.copy(self.found)
        found.terminators = self.counted
        found.claim_ids = dict(self.claim_ids)
        return found

    def _scan_to(self, stream: Any, boundary: int) -> None:
        terminator_byte = self.terminator
        found = self.found
        while self.base < boundary:
            carry = self.carry
            data = carry + stream.read(min(SCAN_CHUNK, boundary - self.base - len(carry)))
            if len(data) == len(carry):
                raise _Unsure("the file ends before the boundary")
            cut = data.rfind(terminator_byte) + 1 if self.base + len(data) < boundary else len(data)
            if cut <= 0:  # a segment longer than a chunk: read on
                self.carry = data
                continue
            chunk, self.carry = data[:cut], data[cut:]
            base, counted = self.base, self.counted
            before = 0  # position in chunk up to which terminators are counted into `counted`
            first = self.first.match(chunk)
            for match in itertools.chain((first,) if first is not None else (), self.pattern.finditer(chunk)):
                tag = match.group(1)
                start = match.start(1)
                counted += chunk.count(terminator_byte, before, start)
                before = start
                at = base + start
                number = counted + 1  # this segment's number
                if tag == b"ISA":
                    isa_end = chunk.find(terminator_byte, start)
                    try:
                        isa_delimiters = parse_isa_delimiters(chunk[start : start + 200].decode("latin-1"))
                    except X12SyntaxError as error:
                        raise _Unsure("an unreadable ISA") from error
                    if isa_delimiters != self.delimiters or isa_end < 0:
                        raise _Unsure("interchanges with other delimiters")
                    found.isa, found.gs, found.st = (at, number), None, None
                    found.group_count = 0
                elif tag == b"GS":
                    found.gs, found.st = (at, number), None
                    found.group_count += 1
                    found.transaction_count = 0
                elif tag == b"ST":
                    found.st = (at, number)
                    found.transaction_count += 1
                    found.header_end = found.hl20 = found.hl20_end = None
                    found.last_hl = 0
                    found.other_separator = False
                    self.claim_ids = {}
                elif tag == b"SE":
                    found.st = None
                elif found.st is None:
                    continue
                elif tag == b"HL":
                    end = chunk.find(terminator_byte, start)
                    fields = chunk[start:end].decode("latin-1").split(self.delimiters.element)
                    if found.header_end is None:
                        found.header_end = at
                    if found.hl20 is not None and found.hl20_end is None:
                        found.hl20_end = at
                    if len(fields) > 3 and fields[3] == "20":
                        found.hl20, found.hl20_end = (at, number), None
                    if len(fields) > 1 and fields[1].isascii() and fields[1].isdigit():
                        found.last_hl = int(fields[1])
                else:  # CLM
                    end = chunk.find(terminator_byte, start)
                    fields = chunk[start:end].decode("latin-1").split(self.delimiters.element)
                    self.claim_ids.setdefault(fields[1] if len(fields) > 1 else "", number)
            if found.st is not None and not found.other_separator:
                since = max(found.st[0] - base, 0)  # the transaction set's part of the chunk
                found.other_separator = any(chunk.find(other, since) >= 0 for other in self.other_separators)
            self.counted = counted + chunk.count(terminator_byte, before)
            self.base = base + cut


def _segment_end(stream: Any, offset: int, delimiters: Delimiters) -> int:
    """The offset just past the terminator of the short segment (ISA, GS, HL, ST) at ``offset``."""
    stream.seek(offset)
    stop = stream.read(MAX_BOUNDARY_SEGMENT).find(delimiters.segment.encode("latin-1"))
    if stop < 0:
        raise _Unsure("no short segment there")
    return offset + stop + 1


def _segments(stream: Any, start: int, end: int, delimiters: Delimiters, number: int) -> list[Any]:
    """The segments of bytes ``start``..``end``, the first numbered ``number``."""
    stream.seek(start)
    tokens = Tokens(io.BytesIO(stream.read(end - start)), Resume(delimiters, number - 1), partial=True)
    segments = list(tokens)
    if tokens.tail:
        raise _Unsure("a fragment that does not end on a segment")
    return segments


def _boundary_segment(stream: Any, start: int, delimiters: Delimiters, number: int) -> tuple[Any, int]:
    """The segment at ``start`` (an HL or ST), numbered ``number``, and the offset just past it."""
    end = _segment_end(stream, start, delimiters)
    segments = _segments(stream, start, end, delimiters, number)
    if len(segments) != 1 or getattr(segments[0], "elements", [""])[0] not in ("HL", "ST"):
        raise _Unsure("the boundary is not an HL or ST segment")
    return segments[0], end


def rebuild(reader: Any, path: Path, start: int, scanner: Scanner) -> tuple[Any, Resume, int]:
    """Put ``reader`` in the state a reader of the whole file is in just before ``start``, as far as a scan
    can tell (checked later against the real one); the boundary segment, where reading goes on after it, and
    the offset just past it. Raises ``_Unsure`` when the scan cannot tell."""
    delimiters = scanner.delimiters
    found = scanner.advance(start)
    if found.isa is None or found.gs is None:
        raise _Unsure("no ISA or GS before the boundary")
    with open(path, "rb") as stream:
        boundary, after = _boundary_segment(stream, start, delimiters, found.terminators + 1)
        fragments = [found.isa, found.gs]
        ends = {found.isa: None, found.gs: None}
        if boundary.elements[0] == "HL":
            if found.st is None:
                raise _Unsure("an HL outside a transaction set")
            fragments.append(found.st)
            ends[found.st] = found.header_end if found.header_end is not None else start
            if boundary.get(3) == "22":
                if found.hl20 is None:
                    raise _Unsure("a subscriber with no billing provider before it")
                fragments.append(found.hl20)
                ends[found.hl20] = found.hl20_end if found.hl20_end is not None else start
        for offset, number in fragments:
            end = ends[(offset, number)]
            if end is None:  # one segment: up to its terminator
                end = _segment_end(stream, offset, delimiters)
            for token in _segments(stream, offset, end, delimiters, number):
                reader.step(token)
    reader.group_count = found.group_count
    reader.transaction_count = found.transaction_count  # the ST segments before the boundary
    if boundary.elements[0] == "HL":
        reader.last_hl = found.last_hl
        reader.claim_ids = dict(found.claim_ids or {})
        reader.warned_component = reader.warned_component or found.other_separator
    reader.records_seen = 1  # claims were read before this piece (only 'no interchange found' asks)
    return boundary, Resume(delimiters, boundary.index), after


def _copy(value: Any) -> Any:
    """A deep copy through pickle: the state holds plain data (its CLM01 table runs to thousands of entries),
    which pickle copies several times faster than ``copy.deepcopy``; it crosses to the main process pickled anyway."""
    return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def fingerprint(reader: Any, produced: list[Any], resume: Resume | None) -> Any:
    """What must be equal between the real and the rebuilt reader after a boundary segment (a copy: the
    reader goes on changing its own)."""
    return _copy((reader.state(compared=True), produced, resume))


def guess_holds(previous: PieceEnd, start: PieceStart) -> bool:
    """Whether a piece's rebuilt start state is the state the previous piece's reader really reached."""
    return previous.fingerprint is not None and start.fingerprint == previous.fingerprint


def read_piece(
    path: Path,
    piece: Piece,
    make_reader: Callable[[str], Any],
    *,
    scanner: Scanner | None,
    started: Callable[[PieceStart], None],
    ended: Callable[[PieceEnd], None],
) -> Iterator[Any]:
    """What one reader of the whole file yields for ``piece``. Unless the piece starts the file, ``started``
    is told the state rebuilt from ``scanner`` (the same for all of a worker's pieces; None: no ISA could be
    read at the file's start); ``ended`` is told where reading stopped, unless the piece ends the file."""
    name = str(path)
    reader = make_reader(name)
    resume = None
    produced: list[Any] = []
    if piece.start > 0:
        try:
            if scanner is None:
                raise _Unsure("no ISA")
            boundary, resume, start = rebuild(reader, path, piece.start, scanner)
            reader.out.clear()
            produced = reader.step(boundary)
            started(PieceStart(fingerprint(reader, produced, resume)))
        except Exception:  # noqa: BLE001 - a guess that cannot be made is no guess: never the run's failure
            started(PieceStart(None))  # never equal to a real fingerprint: the main process reads on
            return
        yield from produced
    else:
        start = 0
    yield from _read_to_piece_end(path, piece, reader, start, resume, ended)


def _read_to_piece_end(
    path: Path, piece: Piece, reader: Any, start: int, resume: Resume | None, ended: Callable[[PieceEnd], None]
) -> Iterator[Any]:
    """Read from byte ``start`` (the tokenizer resuming at ``resume``) to the piece's end; unless the piece ends
    the file, finish it as ``_end_piece`` says."""
    last = piece.end is None
    with open(path, "rb") as stream:
        stream.seek(start)
        bounded = stream if last else _Slice(stream, piece.end - start)
        yield from reader.run(bounded, resume, last=last)
    if not last:
        yield from _end_piece(path, piece, reader, ended)


def _end_piece(path: Path, piece: Piece, reader: Any, ended: Callable[[PieceEnd], None]) -> Iterator[Any]:
    """At the end of a piece that is not the file's last: when the next piece starts on a boundary segment as
    this reader sees it, finish the open record (that segment would), read the segment too and tell
    ``ended`` the state after it; otherwise leave the record open and give no fingerprint."""
    tokens = reader.tokens
    resume = tokens.resume()
    if reader.stopped:
        ended(PieceEnd(reader.state(), None, None))
        return
    boundary = None
    if tokens.delimiters is not None and not tokens.tail:
        try:
            with open(path, "rb") as stream:
                boundary, _ = _boundary_segment(stream, piece.end, tokens.delimiters, tokens.index + 1)
        except (_Unsure, OSError):
            boundary = None
    if boundary is None:
        ended(PieceEnd(_copy(reader.state()), resume, None))
        return
    reader.finish_record()
    yield from reader.out
    reader.out.clear()
    saved = _copy(reader.state())
    after = reader.step(boundary)
    ended(PieceEnd(saved, resume, fingerprint(reader, after, Resume(tokens.delimiters, boundary.index))))


class _Slice(io.RawIOBase):
    """The next ``size`` bytes of ``stream``."""

    def __init__(self, stream: Any, size: int):
        self.stream = stream
        self.left = size

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.stream.read(size)
        self.left -= len(data)
        return data


def read_on(path: Path, piece: Piece, previous: PieceEnd, make_reader: Callable[[str], Any], ended: Callable[[PieceEnd], None]) -> Iterator[Any]:
    """What one reader of the whole file yields for ``piece``, read from the real state the previous piece's
    reader reached (``previous``) instead of a rebuilt one; ``ended`` is told where it stopped, as
    ``read_piece`` does, so the next piece's guess can be checked against it."""
    reader = make_reader(str(path))
    reader.restore(previous.state)
    if previous.resume is None:  # the reader had stopped: nothing after that point is read
        ended(PieceEnd(previous.state, None, None))
        return
    yield from _read_to_piece_end(path, piece, reader, piece.start, previous.resume, ended)


def read_in_pieces(
    path: Path, count: int, make_reader: Callable[[str], Any], piece_bytes: int | None = None, log: dict[str, Any] | None = None
) -> Iterator[Any]:
    """The pieces read one after another in this process, joined as ``--jobs`` joins them (and checked the
    same way): what one reader of the whole file yields. For tests, and to show the protocol; ``log`` is told
    how many pieces there were and which were read on from the real state (``read_here``: their guess was wrong)."""
    pieces = plan(path, count, piece_bytes)
    log = log if log is not None else {}
    log.update(pieces=len(pieces), read_here=[])
    delimiters = first_delimiters(path)
    scanner = Scanner(path, delimiters) if delimiters is not None else None
    previous: PieceEnd | None = None
    for number, piece in enumerate(pieces):
        starts: list[PieceStart] = []
        ends: list[PieceEnd] = []
        items = list(read_piece(path, piece, make_reader, scanner=scanner, started=starts.append, ended=ends.append))
        if previous is not None and not guess_holds(previous, starts[0]):
            log["read_here"].append(number)
            ends = []
            items = list(read_on(path, piece, previous, make_reader, ends.append))
        yield from items
        previous = ends[0] if ends else None
