"""Read X12 837P (005010X222A1 / A2) into ``Claim`` records, one claim at a time.

The tokenizer (``x12_tokens``) yields segments; the loop table (``x12_837p_loops``) says which loop each
segment opens; the element map (``scrubber/x12map/837p.yaml``) says which element of which segment fills
which model field, and every value is read through it (``x12_elements``). The few hooks below only say
where a record starts: a hierarchy level (HL), a claim (CLM), a line (LX), an other payer (2320 SBR), a
line adjudication (SVD). The driver and the envelope checks are shared with the 835 reader (``x12_reader``).
A claim is emitted when the next claim, hierarchy level or transaction set starts, so memory holds one
claim at a time.

Hierarchy levels are read into contexts shaped like part of a claim (billing provider, subscriber and
payer, patient); each claim starts from a copy of the contexts above it.

Integrity: no claim is ever read with a subscriber, patient or payer that is not its own. A broken
HL (bad number, level or parent), an unknown or unreadable segment, or a hierarchy segment where it cannot
be (an SBR, NM1*IL or PAT inside a claim: its HL was lost) makes the open claim unreadable and puts the
reader in a *lost* state: every claim is then unreadable until a valid HL re-anchors the hierarchy. Lines
must be numbered 1, 2, 3 (a restart means a CLM was lost), and a segment may not repeat in one record.

Bad input never raises: a claim that cannot be read becomes a ``ParseIssue`` with
``unreadable_claim=True`` (reading resumes at the next claim); envelope problems (ISA/GS/ST/SE/GE/IEA)
become ``ParseIssue``s without a claim, and every claim that could be read is still yielded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

from scrubber.model import Claim, ParseIssue
from scrubber.readers.common import read_opened
from scrubber.readers.x12_837p_loops import LOOP_OPENERS
from scrubber.readers.x12_elements import DIAGNOSIS_QUALIFIERS, compile_rows
from scrubber.readers.x12_loops import next_loop
from scrubber.readers.x12_reader import RecordBuilder, X12Reader
from scrubber.readers.x12_tokens import Segment, TokenIssue
from scrubber.readers.x12_values import BadSegment
from scrubber.x12map import element_map

__all__ = ["DIAGNOSIS_QUALIFIERS", "SUPPORTED_VERSIONS", "Reader", "read", "read_path"]

SUPPORTED_VERSIONS = ("005010X222A1", "005010X222A2", "005010X222")
ELEMENT_MAP = element_map("837p")
# A 2430 whose SVD was lost would take the next one's CAS after its own DTP*573: order tells them apart.
_ROWS = compile_rows(ELEMENT_MAP.segments, ordered=frozenset({"lines[].adjudications[]"}))

# Every segment id the 837P implementation guide uses; anything else is a broken segment.
KNOWN_SEGMENTS = frozenset(
    "ISA IEA GS GE ST SE BHT NM1 PER N3 N4 REF HL PRV CUR SBR PAT DMG CLM DTP PWK CN1 AMT K3 NTE CR1 CR2 "
    "CR3 CR4 CR5 CRC HI HCP LX SV1 SV5 QTY MEA PS1 LIN CTP SVD CAS OI MOA LQ FRM TA1".split()
)
# Segments of the hierarchy above a claim; inside a claim they mean the HL that should open them was lost.
_HIERARCHY_NM1 = frozenset({"85", "87", "IL", "PR", "QC", "40", "41"})
_HIERARCHY_SEGMENTS = frozenset({"SBR", "PAT", "DMG", "BHT"})
_CLAIM_LOOPS = frozenset(
    "2300 2310A 2310B 2310C 2310D 2310E 2310F 2320 2330A 2330B 2330C 2330D 2330E 2330F 2330G "
    "2400 2410 2420A 2420B 2420C 2420D 2420E 2420F 2420G 2420H 2430 2440".split()
)
# Which context a loop's values go to; the rest go to the claim.
_CONTEXT_OF_LOOP = {
    "ST": "transaction",
    "2000A": "billing",
    "2010AA": "billing",
    "2000B": "subscriber",
    "2010BA": "subscriber",
    "2010BB": "subscriber",
    "2000C": "patient",
    "2010CA": "patient",
}
_LEVEL_LOOPS = {"20": "2000A", "22": "2000B", "23": "2000C"}
_LEVEL_OF_LOOP = {"2000A": "20", "2010AA": "20", "2010AB": "20", "2000B": "22", "2010BA": "22", "2010BB": "22", "2000C": "23", "2010CA": "23"}
# What may stand directly in a loop (besides segments that open loops). A segment outside its loop's set
# means the segment that opens its own loop was lost (an NM1, LX, LIN, SVD or HL): nothing after it is
# trusted. NM1 loops (names, addresses, ids) share one set.
_NM1_LOOP_SEGMENTS = frozenset({"NM1", "N2", "N3", "N4", "REF", "PER", "PRV", "DMG", "DTP"})
_LOOP_SEGMENTS = {
    "2000A": frozenset({"HL", "PRV", "CUR"}),
    "2000B": frozenset({"HL", "SBR", "PAT"}),
    "2000C": frozenset({"HL", "PAT"}),
    "2300": frozenset({"CLM", "DTP", "PWK", "CN1", "AMT", "REF", "K3", "NTE", "CR1", "CR2", "CRC", "HI", "HCP"}),
    "2320": frozenset({"SBR", "CAS", "AMT", "OI", "MOA"}),
    "2400": frozenset({"LX", "SV1", "SV5", "PWK", "CR1", "CR3", "CRC", "DTP", "QTY", "MEA", "CN1", "REF", "AMT", "K3", "NTE", "PS1", "HCP"}),
    "2410": frozenset({"LIN", "CTP", "REF"}),
    "2430": frozenset({"SVD", "CAS", "DTP", "AMT"}),
    "2440": frozenset({"LQ", "FRM"}),
}
_NM1_LOOPS = frozenset(
    "1000A 1000B 2010AA 2010AB 2010BA 2010BB 2010CA 2310A 2310B 2310C 2310D 2310E 2310F 2330A 2330B 2330C 2330D "
    "2330E 2330F 2330G 2420A 2420B 2420C 2420D 2420E 2420F 2420G 2420H".split()
)
_ALLOWED = {**{loop: _NM1_LOOP_SEGMENTS for loop in _NM1_LOOPS}, **_LOOP_SEGMENTS}  # other loops: anything known
_MAYBE_HIERARCHY = frozenset({"NM1", "PRV", "SBR", "PAT", "DMG", "BHT"})
_LEADING_ID = re.compile(r"[A-Z0-9]+")
_LOST = "LOST"  # the loop the reader is in after a broken HL: nothing is read until the next HL


def read_path(path: str | Path) -> Iterator[Claim | ParseIssue]:
    """Read one 837P file. A file that cannot be opened becomes a ParseIssue."""
    yield from read_opened(path, read)


def read(stream: BinaryIO, file: str | None = None) -> Iterator[Claim | ParseIssue]:
    """Yield every claim in ``stream`` and a ParseIssue for everything that could not be read (``--jobs``
    reads a file in pieces instead: ``x12_pieces``)."""
    yield from Reader(file).run(stream)


def _new_record() -> dict[str, Any]:
    return {"elements": {}}


def _compile_path(record: str) -> tuple[tuple[str, bool], ...]:
    """``lines[].rendering_provider`` → (('lines', True), ('rendering_provider', False)); ``claim`` → ()."""
    if record == "claim":
        return ()
    return tuple((part.removesuffix("[]"), part.endswith("[]")) for part in record.split("."))


# Segments (id, qualifier) the map reads in claim loops, to spot one out of its place.
_CLAIM_SEGMENTS = frozenset(
    (row.segment_id, row.qualifier) for row in ELEMENT_MAP.segments if row.loop in _CLAIM_LOOPS
)
_CLAIM_SEGMENT_IDS = frozenset(segment_id for segment_id, _ in _CLAIM_SEGMENTS) - {"NM1"}  # NM1s open loops

for _by_segment in _ROWS.values():
    for _by_qualifier in _by_segment.values():
        for _row in _by_qualifier.values():
            _row.path = _compile_path(_row.row.record)
            _row.context = _CONTEXT_OF_LOOP.get(_row.row.loop)


class _ClaimBuilder(RecordBuilder):
    __slots__ = ()


class Reader(X12Reader):
    """The 837P reader of one file (``read``/``read_path`` drive it; ``--jobs`` drives one per piece of a file)."""

    TRANSACTION_SET = "837"
    SUPPORTED_VERSIONS = SUPPORTED_VERSIONS
    UNSUPPORTED_VERSION = "implementation {version!r} is not 005010X222A1/A2; reading it as 837P anyway"
    FUNCTIONAL_IDENTIFIER = "HC"  # GS01: Health Care Claim (837)
    UNFINISHED_RECORD = "file ends inside this claim, before its SE segment (truncated?)"
    LOOP_OPENERS = LOOP_OPENERS
    HANDLERS: dict = {}
    RECORD_BOUNDARIES = frozenset({"2000A", "2000B", "2000C", "2300"})

    record: _ClaimBuilder | None

    def __init__(self, file: str | None):
        super().__init__(file)
        self.outside_reported = False  # "outside a transaction set" is said once per stretch
        self.reset_hierarchy()
        self.claim_ids: dict[str, int] = {}  # CLM01 -> its first CLM segment in this transaction set

    def reset_hierarchy(self) -> None:
        self.contexts: dict[str, dict[str, Any] | None] = {
            "transaction": _new_record(),
            "billing": None,
            "subscriber": None,
            "patient": None,
        }
        self.last_hl = 0
        self.level_ids: dict[str, str | None] = {"20": None, "22": None}
        self.lost: str | None = None  # why claims are unreadable until the next valid HL

    # --- the driver's per-segment step, with the hierarchy and integrity checks in front --------

    def on_segment(self, segment: Segment) -> None:
        segment_id = segment.elements[0]
        if segment_id in self.envelope:
            super().on_segment(segment)
            return
        if self.transaction is None:
            self.outside_transaction(segment)
            return
        if segment_id == "HL":
            self.on_hl(segment)
            return
        if segment_id not in KNOWN_SEGMENTS:
            self.on_broken_segment(segment.index, segment_id, f"{segment_id!r} is not an 837P segment")
            return
        loop = next_loop(self.loop_openers, self.loop, segment_id, segment.elements) if segment_id in self.loop_openers else None
        if loop is not None:
            if loop == "2300":
                self.at_record_boundary(loop)
                if segment_id == "CLM":
                    self.claim_ids.setdefault(segment.get(1), segment.index)
            self.loop = loop
            hook = _HOOKS.get((loop, segment_id))
            if hook is not None and (loop == "2300" or self.record is not None) and not self.run_safely(hook, segment):
                return
        else:
            current = self.loop
            if segment_id in _MAYBE_HIERARCHY and current in _CLAIM_LOOPS and _is_hierarchy_segment(segment):
                self.lose(segment.index, f"{_key(segment)} segment inside a claim (loop {current}): the HL before it is missing or broken")
                return
            if current == _LOST:
                return
            allowed = _ALLOWED.get(current)
            if allowed is not None and segment_id not in allowed:
                self.out_of_place(segment)
                return
        rows = _ROWS.get(self.loop)
        by_qualifier = rows.get(segment_id) if rows is not None else None
        if by_qualifier is not None:
            # read the values through the map row (inlined: this runs for nearly every segment)
            elements = segment.elements
            row = by_qualifier.get(elements[1] if len(elements) > 1 else "") or by_qualifier.get(None)
            if row is None:
                return
            record = self.record
            if record is not None and record.error is not None:
                return  # skip the rest of a broken claim
            try:
                context = row.context
                if context is None:
                    if record is None:
                        return
                    target = record.data
                else:
                    target = self.contexts[context]
                    if target is None:
                        return
                for name, is_list in row.path:  # down to the record the row fills
                    if is_list:  # the line / other payer / adjudication being read (its hook opened it)
                        target = target[name][-1]
                    else:
                        child = target.get(name)
                        if child is None:
                            child = target[name] = _new_record()
                        target = child
                row.read(segment, self, target)
            except (BadSegment, IndexError, ValueError) as error:
                self.fail(segment.index, f"{self.loop} {segment_id}: {error}")
        elif loop is None and segment_id in _CLAIM_SEGMENT_IDS and self.loop in _CLAIM_LOOPS and self.record is not None:
            self.check_placement(segment, segment_id)

    def out_of_place(self, segment: Segment) -> None:
        """A segment its loop cannot hold: the segment that opens its own loop is missing."""
        message = f"{_key(segment)} segment cannot stand in loop {self.loop} (the segment that opens its loop is missing or broken)"
        if self.loop in _CLAIM_LOOPS:
            self.fail(segment.index, message)
        else:
            self.lose(segment.index, message)

    def fail(self, segment: int, message: str) -> None:
        """A segment could not be read. Inside a claim the claim is unreadable; inside a hierarchy level
        (a subscriber's DMG, the billing provider's N4) the level was not read whole: nothing under it is."""
        if self.record is None and self.loop in _LEVEL_OF_LOOP:
            self.lose(segment, message)
        else:
            super().fail(segment, message)

    def finish_transaction(self, segment: Segment) -> None:
        """At SE: a segment count that does not match means the set was cut or spliced (a stray SE inside a
        claim): the claim it closes cannot be trusted."""
        transaction = self.transaction
        if self.record is not None and transaction is not None and segment.get(1) != str(segment.index - transaction.index + 1):
            self.break_record(segment.index, "SE01 does not count the transaction set's segments: it was cut or spliced here")
        super().finish_transaction(segment)

    def check_placement(self, segment: Segment, segment_id: str) -> None:
        """A segment the map reads elsewhere in a claim (DTP*573, AMT*D, SV1) is out of place here: the
        segment that should have opened its loop is missing, so the claim cannot be read."""
        qualifier = segment.get(1)
        if (segment_id, qualifier) in _CLAIM_SEGMENTS or (segment_id, None) in _CLAIM_SEGMENTS:
            key = f"{segment_id}*{qualifier}" if (segment_id, qualifier) in _CLAIM_SEGMENTS else segment_id
            self.fail(segment.index, f"{key} does not belong in loop {self.loop} (the segment that opens its loop is missing?)")

    def run_safely(self, action: Callable[[Any, Segment], None], segment: Segment) -> bool:
        """Run a hook or a read; a bad value makes the open record unreadable (False)."""
        record = self.record
        if record is not None and record.error is not None:
            return False  # skip the rest of a broken claim
        try:
            action(self, segment)
        except (BadSegment, IndexError, ValueError) as error:
            self.fail(segment.index, f"{self.loop} {segment.elements[0]}: {error}")
            return False
        return True

    # --- integrity -------------------------------------------------------------------------------

    def on_token_issue(self, token: TokenIssue) -> None:
        self.on_broken_segment(token.index, token.segment_id, f"unreadable segment: {token.message}")

    def on_broken_segment(self, index: int, segment_id: str | None, message: str) -> None:
        """An unknown or unreadable segment: it may have been a CLM or an HL, so trust nothing after it."""
        garbled = _garbled_id(segment_id or "")
        if garbled == "CLM" and self.transaction is not None:
            # a claim whose CLM is broken still counts: report it unreadable, with what follows it
            self.finish_record()
            self.record = _ClaimBuilder({"claim_id": None, "elements": {}}, index)
            self.break_record(index, f"2300 CLM: {message}")
            self.loop = "2300"
            return
        self.lose(index, message)

    def lose(self, index: int, message: str) -> None:
        """Break the open claim; claims are unreadable until a valid HL re-anchors the hierarchy."""
        if self.record is not None:
            self.break_record(index, message)
            self.finish_record()
        else:
            self.report(index, message)
        if self.lost is None:
            self.lost = f"{message} (segment {index}): the claim's subscriber, patient and payer cannot be trusted"
        # Broken inside a hierarchy level: that level was not read whole, so nothing may hang under it.
        level = _LEVEL_OF_LOOP.get(self.loop)
        if self.loop == "ST":  # the header (BHT04 batch date) was not read whole
            self.contexts["transaction"] = None
        if level == "20":
            self.level_ids["20"] = self.level_ids["22"] = None
            self.contexts["billing"] = self.contexts["subscriber"] = self.contexts["patient"] = None
        elif level == "22":
            self.level_ids["22"] = None
            self.contexts["subscriber"] = self.contexts["patient"] = None
        elif level == "23":
            self.contexts["patient"] = None
        self.loop = _LOST

    def on_hl(self, segment: Segment) -> None:
        self.finish_record()
        hl_id, parent, level = segment.get(1), segment.get(2), segment.get(3)
        problem = None
        if not (hl_id.isascii() and hl_id.isdigit()):
            problem = f"HL01 {hl_id!r} is not a hierarchical id number"
        elif level not in _LEVEL_LOOPS:
            problem = f"HL03 {level!r} is not a hierarchical level (20, 22 or 23)"
        elif level == "22" and (self.level_ids["20"] is None or parent != self.level_ids["20"]):
            problem = f"HL02 {parent!r} of a subscriber level is not the billing provider level ({self.level_ids['20']})"
        elif level == "23" and (self.level_ids["22"] is None or parent != self.level_ids["22"]):
            problem = f"HL02 {parent!r} of a patient level is not a readable subscriber level ({self.level_ids['22']})"
        if hl_id.isascii() and hl_id.isdigit():
            if int(hl_id) != self.last_hl + 1 and problem is None:
                self.report(
                    segment.index,
                    f"HL01 is {hl_id} but the previous HL was {self.last_hl}: an HL segment is missing",
                    location="envelope",
                    severity="warning",
                )
            self.last_hl = int(hl_id)
        if problem is not None:
            self.level_ids["22"] = None
            self.contexts["subscriber"] = self.contexts["patient"] = None
            if level == "20":
                self.level_ids["20"] = None
                self.contexts["billing"] = None
            self.lose(segment.index, f"broken hierarchy: {problem}")
            return
        self.loop = _LEVEL_LOOPS[level]
        self.lost = None
        if level == "20":
            self.contexts["billing"] = _new_record()
            self.contexts["subscriber"] = self.contexts["patient"] = None
            self.level_ids["20"], self.level_ids["22"] = hl_id, None
        elif level == "22":
            self.contexts["subscriber"] = {"elements": {}, "payer": _new_record(), "subscriber": _new_record()}
            self.contexts["patient"] = None
            self.level_ids["22"] = hl_id
        else:
            self.contexts["patient"] = {"elements": {}, "patient": _new_record()}

    # --- claims ---------------------------------------------------------------------------------

    def new_claim(self, segment: Segment) -> None:
        data: dict[str, Any] = {
            "elements": {},
            "diagnoses": [],
            "lines": [],
            "other_payers": [],
            "implementation": self.implementation,
            "patient": None,
            "claim_id": segment.get(1) or None,
        }
        for name in ("transaction", "billing", "subscriber", "patient"):
            context = self.contexts[name]
            if context is None:
                continue
            for key, value in context.items():
                if key == "elements":
                    data["elements"].update(value)
                else:
                    data[key] = value
        data["source"] = {
            "file": self.file,
            "segment": segment.index,
            "st_control": self.transaction.get(2) if self.transaction else None,
        }
        first = self.claim_ids.get(segment.get(1))
        if first is not None and first != segment.index:
            data["source"]["same_id_as_segment"] = first
        builder = self.record = _ClaimBuilder(data, segment.index)
        builder.lines = data["lines"]
        if self.contexts["transaction"] is None:
            self.break_record(segment.index, "the transaction set's header (ST, BHT) could not be read whole")
        elif self.lost is not None:
            self.break_record(segment.index, self.lost)
        elif self.contexts["subscriber"] is None:
            self.break_record(segment.index, "claim has no subscriber (HL*22) before it")

    def outside_transaction(self, segment: Segment) -> None:
        """A segment between SE and the next ST (a corrupt ST, a spurious SE): report it once, and
        still account for every claim in it as unreadable, so no claim vanishes."""
        if segment.elements[0] == "CLM":
            self.records_seen += 1
            self.report(
                segment.index,
                "claim outside a transaction set (no ST before it, or a corrupt SE ended it early)",
                claim_id=segment.get(1) or None,
                unreadable_claim=True,
                claim_segment=segment.index,
            )
        elif not self.outside_reported:
            self.report(
                segment.index,
                f"{segment.elements[0]} segment outside a transaction set (ST/SE); "
                "skipping to the next ST (claims in between are reported as unreadable)",
                location="envelope",
            )
        self.outside_reported = True

    # --- transaction sets -----------------------------------------------------------------------

    def st_before_se(self, segment: Segment) -> None:
        assert self.transaction is not None
        self.finish_record()
        self.report(
            segment.index,
            f"ST before the SE of transaction set {self.transaction.get(2)!r} (its SE is missing)",
            location="envelope",
        )

    def start_transaction(self, segment: Segment, version: str | None) -> None:
        self.outside_reported = False
        self.implementation = version
        self.reset_hierarchy()
        self.claim_ids = {}  # duplicates are judged within a transaction set (the TR3 caps one at 5,000 claims)
        if version is not None and not version.isprintable():
            self.report(segment.index, f"ST03/GS08 {version!r} holds a control character", location="envelope")
            self.contexts["transaction"] = None

    def break_record(self, segment: int | None, message: str) -> None:
        claim = self.record
        assert claim is not None
        if claim.error is None:
            claim.error = self.issue(
                segment if segment is not None else claim.start,
                message,
                claim_id=claim.claim_id,
                unreadable_claim=True,
                claim_segment=claim.start,
            )

    def unreadable(self, builder: _ClaimBuilder, segment: int, message: str) -> None:
        self.report(segment, message, claim_id=builder.claim_id, unreadable_claim=True, claim_segment=builder.start)

    def emit(self, builder: _ClaimBuilder) -> None:
        lines = builder.data["lines"]
        if not lines:
            self.unreadable(builder, builder.start, "claim has no service lines (LX/SV1)")
            return
        for line in lines:
            if "procedure" not in line:
                self.unreadable(
                    builder, line["elements"].get("number", builder.start), f"service line {line.get('number')} has no SV1 segment"
                )
                return
        claim = self.validated(Claim, builder, "claim", claim_segment=builder.start)
        if claim is not None:
            self.out.append(claim)


# --- where records start (the values themselves are read through the element map) -----------------


def _open_claim(reader: Reader, segment: Segment) -> None:
    reader.new_claim(segment)


def _open_line(reader: Reader, segment: Segment) -> None:
    lines = reader.record.data["lines"]  # type: ignore[union-attr]
    number = segment.get(1)
    if number != str(len(lines) + 1):
        raise BadSegment(
            f"LX01 is {number!r} where line {len(lines) + 1} was expected "
            "(lines are numbered 1, 2, 3, ...; a restart means a CLM segment was lost)"
        )
    lines.append(_new_record())


def _open_other_payer(reader: Reader, segment: Segment) -> None:
    data = reader.record.data  # type: ignore[union-attr]
    if data["lines"]:
        raise BadSegment("a 2320 SBR after the service lines (its claim's CLM or HL is missing)")
    data["other_payers"].append({"elements": {}, "adjustments": []})


def _open_adjudication(reader: Reader, segment: Segment) -> None:
    line = reader.record.data["lines"][-1]  # type: ignore[union-attr]
    line.setdefault("adjudications", []).append({"elements": {}, "adjustments": []})


_HOOKS: dict[tuple[str, str], Callable[[Reader, Segment], None]] = {
    ("2300", "CLM"): _open_claim,
    ("2400", "LX"): _open_line,
    ("2320", "SBR"): _open_other_payer,
    ("2430", "SVD"): _open_adjudication,
}


def _key(segment: Segment) -> str:
    """``NM1*IL``, ``SBR``: the segment id with its qualifier where the qualifier names the segment."""
    segment_id = segment.elements[0]
    return f"{segment_id}*{segment.get(1)}" if segment_id == "NM1" else segment_id


def _is_hierarchy_segment(segment: Segment) -> bool:
    segment_id = segment.elements[0]
    if segment_id == "NM1":
        return segment.get(1) in _HIERARCHY_NM1
    if segment_id == "PRV":
        return segment.get(1) == "BI"
    return segment_id in _HIERARCHY_SEGMENTS


def _garbled_id(text: str) -> str | None:
    """``CLM:A1`` (a wrong element delimiter) → ``CLM``: the known segment id a broken segment starts with."""
    match = _LEADING_ID.match(text)
    if match is None:
        return None
    for size in (3, 2):
        prefix = match.group()[:size]
        if prefix in KNOWN_SEGMENTS and len(text) > size and not (text[size].isascii() and text[size].isalnum()):
            return prefix
    return None
