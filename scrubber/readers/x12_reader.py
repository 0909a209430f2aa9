"""What the 837P and 835 readers share: the driver, the ISA/GS/ST/SE/GE/IEA envelope and its checks.

A reader reads one kind of transaction set into records (a claim, a claim payment), one record at a time.
The tokenizer (``x12_tokens``) yields segments; the reader's loop table (``x12_loops``) says which loop
each segment opens; its handlers, looked up by (loop, segment id), copy elements into the builder of the
open record (``record``). A subclass says what differs:

- ``TRANSACTION_SET``, ``SUPPORTED_VERSIONS``, ``UNSUPPORTED_VERSION`` (+ ``_SEVERITY``): the ST checks;
  ``FUNCTIONAL_IDENTIFIER``: the GS01 its functional groups must carry (None: not checked);
- ``LOOP_OPENERS``, ``HANDLERS``, ``RECORD_BOUNDARIES`` (loops that end the open record);
- ``RECORD_LOOPS`` / ``RECORD_STARTERS``: with no record open, segments in these loops are skipped, but
  for the starters, whose handlers cope with that;
- ``UNFINISHED_RECORD``: what a record cut off by the end of the input is told;
- hooks: ``emit`` (a finished, readable record), ``break_record``, ``start_transaction``,
  ``finish_transaction``, ``st_before_se``, ``outside_transaction``, ``at_record_boundary``,
  ``warning_context``.

Bad input never raises: what cannot be read becomes a ``ParseIssue`` and reading goes on.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Callable, Iterator

from pydantic import BaseModel, ValidationError

from scrubber.model import ParseIssue
from scrubber.readers.x12_loops import LoopTable, next_loop
from scrubber.readers.x12_tokens import (
    Resume,
    Segment,
    TokenIssue,
    Tokens,
    X12SyntaxError,
)
from scrubber.readers.x12_values import BadSegment

Handler = Callable[[Any, Segment], None]

_NO_HANDLERS: dict[str, Handler] = {}
FALLBACK_COMPONENT_SEPARATORS = (">", ":", "^", "|")


class SegmentHandlers:
    """Segment handlers by loop, then segment id (two plain dict lookups per segment on the hot path)."""

    def __init__(self) -> None:
        self.by_loop: dict[str, dict[str, Handler]] = {}

    def on(self, loop: str | tuple[str, ...], segment_id: str) -> Callable[[Handler], Handler]:
        """Decorator: ``function(reader, segment)`` handles ``segment_id`` in ``loop`` (or each of several)."""
        loops = (loop,) if isinstance(loop, str) else loop

        def register(function: Handler) -> Handler:
            for name in loops:
                self.by_loop.setdefault(name, {})[segment_id] = function
            return function

        return register


class RecordBuilder:
    """A record under construction: its fields so far, its lines, the line being read, its first problem."""

    __slots__ = ("data", "lines", "line", "error", "start")

    def __init__(self, data: dict[str, Any], start: int):
        self.data = data
        self.lines: list[dict[str, Any]] = []
        self.line: dict[str, Any] | None = None
        self.error: ParseIssue | None = None  # set: the record is unreadable, the rest of it is skipped
        self.start = start  # its first segment (CLM, CLP)

    @property
    def claim_id(self) -> str | None:
        return self.data.get("claim_id") or None


class X12Reader:
    """Reads one stream of one transaction type; a subclass sets the tables and hooks the module names."""

    TRANSACTION_SET: str  # ST01
    SUPPORTED_VERSIONS: tuple[str, ...]
    UNSUPPORTED_VERSION: str  # the warning, formatted with {version!r}
    UNSUPPORTED_VERSION_SEVERITY = "error"
    FUNCTIONAL_IDENTIFIER: str | None = None  # GS01 (HC for an 837, HP for an 835)
    UNFINISHED_RECORD: str
    LOOP_OPENERS: LoopTable
    HANDLERS: dict[str, dict[str, Handler]]
    RECORD_BOUNDARIES: frozenset[str]
    RECORD_LOOPS: frozenset[str] = frozenset()
    RECORD_STARTERS: frozenset[str] = frozenset()
    ISA_ENDS_TRANSACTION = False  # True: an ISA drops a transaction set left open, silently (else ST says so)

    def __init__(self, file: str | None):
        self.file = file
        self.loop = "ISA"
        self.interchange: Segment | None = None
        self.group_count = 0
        self.group: Segment | None = None
        self.transaction_count = 0
        self.transaction: Segment | None = None
        self.implementation: str | None = None
        self.record: RecordBuilder | None = None  # the record being read
        self.records_seen = 0  # records finished, read or not
        self.out: list[Any] = []  # produced by the current segment, handed on by run()
        self.warned_component = False
        self.stopped = False  # the input could not be tokenized on: nothing after it was read
        # The tables as instance attributes: on the hot path they are read faster than class attributes.
        self.loop_openers = self.LOOP_OPENERS
        self.handlers = self.HANDLERS
        self.record_boundaries = self.RECORD_BOUNDARIES
        self.record_loops = self.RECORD_LOOPS
        self.envelope: dict[str, Callable[[Segment], None]] = {
            "ISA": self.on_isa,
            "GS": self.on_gs,
            "ST": self.on_st,
            "SE": self.on_se,
            "GE": self.on_ge,
            "IEA": self.on_iea,
        }

    def issue(self, segment: int | None, message: str, **extra: Any) -> ParseIssue:
        return ParseIssue(file=self.file, segment=segment, message=message, **extra)

    def report(self, segment: int | None, message: str, **extra: Any) -> None:
        self.out.append(self.issue(segment, message, **extra))

    def fail(self, segment: int, message: str) -> None:
        """A segment could not be read: the open record becomes unreadable, else the issue stands alone."""
        if self.record is not None:
            self.break_record(segment, message)
        else:
            self.report(segment, message)

    # --- driver ---------------------------------------------------------------------------------
    # Handlers append what they produce to ``self.out``; ``run`` hands it on after each segment.
    # (A generator per segment cost a third of the reading time.)

    def run(self, stream: BinaryIO, resume: Resume | None = None, last: bool = True) -> Iterator[Any]:
        """Read ``stream`` to its end. A piece of a file (``--jobs``) starts from ``resume`` with the state a
        reader of the whole file had there (``restore``); unless it is the ``last`` piece, its end is not the
        end of the input: the open record stays open."""
        out = self.out
        tokens = self.tokens = Tokens(stream, resume, partial=not last)
        try:
            for token in tokens:
                if token.__class__ is TokenIssue:
                    self.on_token_issue(token)
                else:
                    self.on_segment(token)
                if out:
                    yield from out
                    out.clear()
        except X12SyntaxError as error:
            self.stopped = True
            self.close_record_as_unreadable(error.segment, str(error))
            self.report(error.segment, str(error), location="envelope")
            self.at_end_of_input(after_error=True)
            yield from out
            out.clear()
            return
        except OSError as error:
            self.stopped = True
            self.close_record_as_unreadable(None, f"read error: {error}")
            self.report(None, f"read error: {error}")
            yield from out
            out.clear()
            return
        if last:
            self.at_end_of_input()
        yield from out
        out.clear()

    def step(self, token: Segment | TokenIssue) -> list[Any]:
        """Read one segment outside ``run``; what it produced."""
        if token.__class__ is TokenIssue:
            self.on_token_issue(token)  # type: ignore[arg-type]
        else:
            self.on_segment(token)  # type: ignore[arg-type]
        produced = list(self.out)
        self.out.clear()
        return produced

    # --- state, for reading a file in pieces (``--jobs``) ----------------------------------------
    # Everything a reader carries from one segment to the next is in its instance attributes but these:
    # its tables and output, and counters that only say how much was read.
    _NOT_STATE = frozenset({"out", "file", "loop_openers", "handlers", "record_boundaries", "record_loops", "envelope", "tokens"})
    _COUNTERS = frozenset({"records_seen"})

    def state(self, compared: bool = False) -> dict[str, Any]:
        """The reader's state (a copy can be pickled and ``restore``d); ``compared``: without the counters,
        so two readers that reached the same place by different roads compare equal."""
        skip = self._NOT_STATE | self._COUNTERS if compared else self._NOT_STATE
        return {name: value for name, value in vars(self).items() if name not in skip}

    def restore(self, state: dict[str, Any]) -> None:
        vars(self).update(state)

    def on_token_issue(self, token: TokenIssue) -> None:
        self.fail(token.index, f"unreadable segment: {token.message}")

    def on_segment(self, segment: Segment) -> None:
        segment_id = segment.elements[0]
        envelope = self.envelope.get(segment_id)
        if envelope is not None:
            envelope(segment)
            return
        if self.transaction is None:
            self.outside_transaction(segment)
            return
        loop_openers = self.loop_openers
        if segment_id in loop_openers:
            loop = next_loop(loop_openers, self.loop, segment_id, segment.elements)
            if loop is not None:
                if loop in self.record_boundaries:
                    self.at_record_boundary(loop)
                self.loop = loop
        handler = self.handlers.get(self.loop, _NO_HANDLERS).get(segment_id)
        if handler is None:
            return
        record = self.record
        if record is None:
            if self.loop in self.record_loops and segment_id not in self.RECORD_STARTERS:
                return  # the rest of a record whose first segment could not be read
        elif record.error is not None:
            return  # skip the rest of a broken record
        try:
            handler(self, segment)
        except (BadSegment, IndexError, ValueError) as error:
            self.fail(segment.index, f"{self.loop} {segment_id}: {error}")

    def at_end_of_input(self, after_error: bool = False) -> None:
        self.close_record_as_unreadable(None, self.UNFINISHED_RECORD)
        if self.interchange is None and self.records_seen == 0:
            if not after_error:  # the error already said what was found instead
                self.report(None, "no X12 interchange found (empty input?)", location="envelope")
        elif self.loop != "IEA":
            self.report(None, "file ends without an IEA segment (truncated?)", location="envelope")

    def outside_transaction(self, segment: Segment) -> None:
        """A segment between SE and the next ST."""
        self.report(segment.index, f"{segment.elements[0]} segment outside a transaction set (ST/SE)", location="envelope")

    # --- records --------------------------------------------------------------------------------

    def at_record_boundary(self, loop: str) -> None:
        """``loop`` opens and ends the open record."""
        self.finish_record()

    def finish_record(self) -> None:
        builder = self.record
        if builder is None:
            return
        self.record = None
        self.records_seen += 1
        if builder.error is not None:
            self.out.append(builder.error)
            return
        self.emit(builder)

    def close_record_as_unreadable(self, segment: int | None, message: str) -> None:
        if self.record is None:
            return
        self.break_record(segment, message)
        self.finish_record()

    def validated(self, model: type[BaseModel], builder: RecordBuilder, what: str, **extra: Any) -> Any:
        """``builder.data`` as a ``model``; None, with the record reported unreadable, when it does not fit."""
        try:
            return model.model_validate(builder.data)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            self.report(
                builder.start,
                f"{what} does not fit the model at {where}: {first['msg']}",
                claim_id=builder.claim_id,
                unreadable_claim=True,
                **extra,
            )
            return None

    def emit(self, builder: Any) -> None:
        """Hand on the finished record ``builder`` holds (it has no error)."""
        raise NotImplementedError

    def break_record(self, segment: int | None, message: str) -> None:
        """Mark the open record unreadable (the first problem wins)."""
        raise NotImplementedError

    def warning_context(self) -> dict[str, Any]:
        """What a warning about a value of the open record says besides the message."""
        return {}

    # --- values ---------------------------------------------------------------------------------

    def composite(self, segment: Segment, position: int, element: str) -> list[str]:
        """Components of a composite element, tolerating files whose data uses another separator than ISA16.

        Real files (some in the shared samples) declare ':' in ISA16 and write 'HC>99213'; we read them and
        say so once per transaction set as a warning.
        """
        value = segment.get(position)
        declared = segment.delimiters.component
        if declared in value or not value:
            return value.split(declared)
        for candidate in FALLBACK_COMPONENT_SEPARATORS:
            if candidate != declared and candidate in value:
                if not self.warned_component:
                    self.warned_component = True
                    self.report(
                        segment.index,
                        f"{element} {value!r} uses {candidate!r} between components but ISA16 declares "
                        f"{declared!r}; read with {candidate!r}",
                        **self.warning_context(),
                        severity="warning",
                    )
                return value.split(candidate)
        return [value]

    # --- envelope -------------------------------------------------------------------------------

    def on_isa(self, segment: Segment) -> None:
        self.finish_record()
        if self.interchange is not None and self.loop != "IEA":
            self.report(segment.index, "ISA before the previous interchange's IEA", location="envelope")
        self.interchange = segment
        self.group_count = 0
        if self.ISA_ENDS_TRANSACTION:
            self.transaction = None
        self.loop = "ISA"

    def on_gs(self, segment: Segment) -> None:
        expected = self.FUNCTIONAL_IDENTIFIER
        if expected is not None and segment.get(1) != expected:
            # The receiver's translator routes and acknowledges a group by GS01: a group that says it holds
            # another kind of transaction is rejected whole (999), whatever its claims say.
            self.report(
                segment.index,
                f"GS01 is {segment.get(1)!r}: a group of {self.TRANSACTION_SET} transaction sets must say "
                f"{expected!r}; the receiver will reject the whole group (reading it anyway)",
                location="envelope",
            )
        self.group = segment
        self.group_count += 1
        self.transaction_count = 0
        self.implementation = segment.get(8) or None
        self.loop = "GS"

    def on_st(self, segment: Segment) -> None:
        if self.transaction is not None:
            self.st_before_se(segment)
        kind = self.TRANSACTION_SET
        if segment.get(1) != kind:
            self.report(segment.index, f"ST01 is {segment.get(1)!r}: not an {kind} transaction set", location="envelope")
        version = segment.get(3) or self.implementation
        if version and version not in self.SUPPORTED_VERSIONS:
            self.report(
                segment.index,
                self.UNSUPPORTED_VERSION.format(version=version),
                location="envelope",
                severity=self.UNSUPPORTED_VERSION_SEVERITY,
            )
        self.transaction = segment
        self.transaction_count += 1
        self.warned_component = False
        self.loop = "ST"
        self.start_transaction(segment, version)

    def st_before_se(self, segment: Segment) -> None:
        """An ST while the previous transaction set is still open (its SE is missing)."""
        raise NotImplementedError

    def start_transaction(self, segment: Segment, version: str | None) -> None:
        """Reset what a transaction set holds; ``version`` is ST03, else GS08."""

    def on_se(self, segment: Segment) -> None:
        transaction = self.transaction
        if transaction is None:
            self.report(segment.index, "SE without ST", location="envelope")
        else:
            self.finish_transaction(segment)
            counted = segment.index - transaction.index + 1
            if segment.get(1) != str(counted):
                self.report(
                    segment.index,
                    f"SE01 says {segment.get(1)!r} segments but the transaction set has {counted}",
                    location="envelope",
                )
            if segment.get(2) != transaction.get(2):
                self.report(
                    segment.index,
                    f"SE02 {segment.get(2)!r} does not match ST02 {transaction.get(2)!r}",
                    location="envelope",
                )
        self.transaction = None
        self.loop = "SE"

    def finish_transaction(self, segment: Segment) -> None:
        """At SE, before its counts are checked: close the open record."""
        self.finish_record()

    def on_ge(self, segment: Segment) -> None:
        self.end_envelope(segment, "GE", self.transaction_count, "transaction sets", "group")
        self.group = None

    def on_iea(self, segment: Segment) -> None:
        self.end_envelope(segment, "IEA", self.group_count, "functional groups", "interchange")

    def end_envelope(self, segment: Segment, closer: str, count: int, counted: str, container: str) -> None:
        """GE or IEA: close a transaction set left open, check the count in element 01."""
        if self.transaction is not None:
            self.close_record_as_unreadable(segment.index, f"{closer} before the transaction set's SE")
            self.report(segment.index, f"{closer} before the transaction set's SE", location="envelope")
            self.transaction = None
        if segment.get(1) != str(count):
            self.report(
                segment.index,
                f"{closer}01 says {segment.get(1)!r} {counted} but the {container} has {count}",
                location="envelope",
            )
        self.loop = closer
