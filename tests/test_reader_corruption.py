"""Reader integrity under corruption (issue 10, "Reader integrity").

Property: take a valid multi-claim 837P built by the writer, corrupt exactly one segment (change one
character of its tag, insert a NUL, drop it, or replace one of its element delimiters by the component
separator, the repetition separator or the segment terminator). Then, reading the corrupted file:

(a) every claim read is a claim of the batch, with exactly the parties, lines and values it had, except
    that the fields whose value came from the corrupted segment (known from the clean read's
    ``elements`` maps) may be absent (None, empty, the model default); a claim carrying any other value
    that is not its own is the bug hunted here;
(b) claims read + claims reported unreadable == CLM segments in the corrupted file (a segment starting
    with ``CLM`` then ``*`` or any other non-alphanumeric character: a broken CLM is still a claim), and
    each of them is named by its own CLM segment;
(c) no claim id is read twice.

Segment positions are counted here by a tiny tokenizer of our own (fixed ``*`` and ``~``), never by the
reader under test.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from scrubber.model import Claim, ParseIssue
from scrubber.readers.x12_837p import read
from scrubber.writers.x12_837p import write
from scrubber.x12map import element_map

from conftest import batch as x12_batch
from conftest import claim as clm
from conftest import line, patient, subscriber
from strategies import claim_batches, comparable  # tests/ is on sys.path, as for conftest

WHEN = dt.datetime(2025, 3, 1, 12, 30)
TERMINATOR = "~\n"
LAYOUT = " \t\r\n\v\f"
MIXED_BATCH = Path(__file__).resolve().parent.parent / "fixtures" / "837p" / "mixed-batch.837"

# Segment ids of the 837P implementation guide (our own list, for "another real id" tag changes).
REAL_IDS = frozenset(
    "ISA IEA GS GE ST SE BHT NM1 PER N3 N4 REF HL PRV CUR SBR PAT DMG CLM DTP PWK CN1 AMT K3 NTE CR1 CR2 "
    "CR3 CR4 CR5 CRC HI HCP LX SV1 SV5 QTY MEA PS1 LIN CTP SVD CAS OI MOA LQ FRM".split()
)
ENVELOPE = ("GS", "ST", "SE", "GE", "IEA")  # ISA is left alone: its fixed width declares the delimiters
# Fields filled from several consecutive segments of the same id (HI…, CAS…): the elements map names the first.
ACCUMULATED = {"diagnoses": "HI", "adjustments": "CAS"}
READER_FILLED = ("elements", "source")

# A record's `elements` map keeps one entry per segment, under the field of the segment row's first element.
_MODEL_OF_RECORD = {
    "claim": "Claim", "payer": "Payer", "subscriber": "Party", "patient": "Party", "other_payers[]": "OtherPayer",
    "lines[]": "ServiceLine", "lines[].adjudications[]": "LineAdjudication",
}
SEGMENT_KEYS: dict[tuple[str, str], str] = {}
for _row in element_map("837p").segments:
    _model = _MODEL_OF_RECORD.get(_row.record, "Provider")
    for _element in _row.elements:
        SEGMENT_KEYS[(_model, _element.field)] = _row.elements[0].field


def segment_key(record: BaseModel, field: str) -> str:
    """The ``elements`` key of the segment ``record.field`` is read from."""
    return SEGMENT_KEYS.get((type(record).__name__, field), field)


# --- reading and our own tokenizer ------------------------------------------------------------------


def read_text(text: str) -> list[Claim | ParseIssue]:
    return list(read(io.BytesIO(text.encode("latin-1")), "corrupt.837"))


def split_segments(text: str) -> list[str]:
    """Segment texts in file order (index i + 1 is the reader's segment index), as the tokenizer cuts them."""
    pieces = (piece.strip(LAYOUT) for piece in text.split("~"))
    return [piece for piece in pieces if piece]


def tag(segment: str) -> str:
    return segment.split("*", 1)[0]


def is_clm(segment: str) -> bool:
    """A CLM segment, broken or not: 'CLM' then '*' or another non-alphanumeric character (or nothing)."""
    return segment.startswith("CLM") and (len(segment) == 3 or not segment[3].isalnum())


def clm_positions(text: str) -> list[int]:
    return [i for i, segment in enumerate(split_segments(text), 1) if is_clm(segment)]


# --- batches --------------------------------------------------------------------------------------


@st.composite
def batches(draw: st.DrawFn) -> list[Claim]:
    """2-5 claims; mostly under one or two shared billing providers in one transaction set.

    The writer opens a new HL*20 only when (billing provider, billing state) changes and a new ST when
    the batch date changes, so claims are made to share them: several HL*22 (and HL*23) under one HL*20.
    """
    batch = draw(claim_batches(min_size=2, max_size=5))
    mode = draw(st.sampled_from(("one provider", "two providers", "as drawn")))
    if mode == "as drawn":
        return batch
    cut = draw(st.integers(1, len(batch) - 1)) if mode == "two providers" else len(batch)
    first, second = batch[0], batch[cut % len(batch)]
    shared = []
    for i, claim in enumerate(batch):
        source = first if i < cut else second
        shared.append(
            claim.model_copy(
                update={
                    "billing_provider": source.billing_provider,
                    "billing_state": source.billing_state,
                    "batch_date": first.batch_date,
                }
            )
        )
    return shared


# --- corruptions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corruption:
    index: int  # 1-based index of the corrupted segment in the clean file
    kind: str  # tag, nul, drop, delimiter
    before: str
    after: str | None  # None: dropped

    def __str__(self) -> str:
        return f"segment {self.index} {self.kind}: {self.before!r} -> {self.after!r}"


@st.composite
def corruptions(
    draw: st.DrawFn, segments: list[str], envelope: bool = False, kinds: tuple[str, ...] = ("tag", "nul", "drop", "delimiter")
) -> Corruption:
    """One corruption of one segment: between ST and SE (exclusive), or with ``envelope`` a GS/ST/SE/GE/IEA."""
    if envelope:
        candidates = [i for i, s in enumerate(segments, 1) if tag(s) in ENVELOPE]
    else:
        candidates, inside = [], False
        for i, segment in enumerate(segments, 1):
            if tag(segment) == "SE":
                inside = False
            if inside:
                candidates.append(i)
            if tag(segment) == "ST":
                inside = True
    index = draw(st.sampled_from(candidates))
    before = segments[index - 1]
    possible = [kind for kind in kinds if kind != "delimiter" or "*" in before]
    if not possible:  # a segment without elements: drop it instead
        possible = ["drop"]
    kind = draw(st.sampled_from(possible))
    if kind == "drop":
        return Corruption(index, kind, before, None)
    if kind == "nul":
        at = draw(st.integers(0, len(before)))
        return Corruption(index, kind, before, before[:at] + "\x00" + before[at:])
    if kind == "delimiter":
        stars = [i for i, ch in enumerate(before) if ch == "*"]
        at = draw(st.sampled_from(stars))
        by = draw(st.sampled_from((":", "^", "~")))
        return Corruption(index, kind, before, before[:at] + by + before[at + 1 :])
    segment_id = tag(before)
    at = draw(st.integers(0, len(segment_id) - 1))
    real = sorted(
        other
        for other in REAL_IDS
        if len(other) == len(segment_id) and other != segment_id
        and all(a == b for j, (a, b) in enumerate(zip(other, segment_id)) if j != at)
    )
    others = st.sampled_from(string.ascii_uppercase + string.digits).filter(lambda ch: ch != segment_id[at])
    if real:  # another real id (N3 -> N4, LX -> LQ, HI -> HL, SV1 -> SVD, ...)
        others = st.sampled_from(real).map(lambda other: other[at]) | others
    replacement = draw(st.just("@") | others)
    return Corruption(index, kind, before, before[:at] + replacement + before[at + 1 :])


def apply(segments: list[str], corruption: Corruption) -> str:
    changed = list(segments)
    if corruption.after is None:
        del changed[corruption.index - 1]
    else:
        changed[corruption.index - 1] = corruption.after
    return TERMINATOR.join(changed) + TERMINATOR


# --- the oracle: which values may be absent, and everything else equal -------------------------------


class Oracle:
    """Compares a claim read from the corrupted file with its clean read, segment ``k`` being corrupted."""

    def __init__(self, clean_segments: list[str], k: int):
        self.segments = clean_segments
        self.k = k

    def run_of(self, first: int) -> list[int]:
        """``first`` and the segments with the same id right after it (HI HI, CAS CAS CAS)."""
        segment_id = tag(self.segments[first - 1])
        run = [first]
        while run[-1] < len(self.segments) and tag(self.segments[run[-1]]) == segment_id:
            run.append(run[-1] + 1)
        return run

    def from_k(self, record: BaseModel, field: str) -> bool:
        """Whether (part of) ``record.field`` was read from the corrupted segment."""
        if field == "implementation":  # not in the elements maps: ST03, else GS08
            return tag(self.segments[self.k - 1]) in ("ST", "GS")
        first = record.elements.get(segment_key(record, field))  # type: ignore[attr-defined]
        if first is None:
            return False
        if field in ACCUMULATED:
            return self.k in self.run_of(first)
        return first == self.k

    def items_from_k(self, record: BaseModel, field: str) -> tuple[int, int]:
        """(offset, count) of the items of the accumulated ``field`` that segment ``k`` holds."""
        offset = 0
        for index in self.run_of(record.elements[segment_key(record, field)]):  # type: ignore[attr-defined]
            elements = self.segments[index - 1].split("*")
            if field == "diagnoses":
                count = sum(1 for value in elements[1:] if value)
            else:  # CAS: group, then reason/amount/quantity triples
                count = sum(1 for start in range(2, len(elements), 3) if elements[start])
            if index == self.k:
                return offset, count
            offset += count
        raise AssertionError("segment k is not in the run")

    def all_from_k(self, record: BaseModel) -> bool:
        """Every value ``record`` holds came from segment ``k`` (so the record may be absent as a whole)."""
        for name, info in type(record).model_fields.items():
            if name in READER_FILLED:
                continue
            value = getattr(record, name)
            if value == info.get_default(call_default_factory=True) or value in (None, (), ""):
                continue
            if isinstance(value, BaseModel) and "elements" in type(value).model_fields:
                if not self.all_from_k(value):
                    return False
            elif isinstance(value, tuple) and value and isinstance(value[0], BaseModel) and "elements" in type(value[0]).model_fields:
                if not all(self.all_from_k(item) for item in value):
                    return False
            elif not self.from_k(record, name):
                return False
        return True

    def compare(self, want: BaseModel, got: BaseModel, path: str, problems: list[str]) -> None:
        for name, info in type(want).model_fields.items():
            if name in READER_FILLED:
                continue
            expected, actual = getattr(want, name), getattr(got, name)
            if _is_record(expected) or _is_record(actual):
                self.compare_record(expected, actual, f"{path}.{name}", problems)
            elif _is_record_list(expected) or _is_record_list(actual):
                self.compare_records(expected, actual, f"{path}.{name}", problems)
            elif expected == actual:
                continue
            elif not self.from_k(want, name):
                problems.append(f"{path}.{name}: read {actual!r}, expected {expected!r} (not from segment {self.k})")
            elif actual in (None, (), "") or actual == info.get_default(call_default_factory=True):
                continue  # absent: its value came from the corrupted segment
            elif name in ACCUMULATED and isinstance(expected, tuple):
                offset, count = self.items_from_k(want, name)
                if actual != expected[:offset] + expected[offset + count :]:
                    problems.append(
                        f"{path}.{name}: read {_plain(actual)}, expected {_plain(expected)} "
                        f"or without the items of segment {self.k}"
                    )
            else:
                problems.append(f"{path}.{name}: read {actual!r}, expected {expected!r} or absent (segment {self.k})")

    def compare_record(self, want: BaseModel | None, got: BaseModel | None, path: str, problems: list[str]) -> None:
        if want is None and got is None:
            return
        if want is None:
            problems.append(f"{path}: read {_plain(got)}, expected none")
        elif got is None:
            if not self.all_from_k(want):
                problems.append(f"{path}: absent, expected {_plain(want)}")
        else:
            self.compare(want, got, path, problems)

    def compare_records(self, want: tuple, got: tuple, path: str, problems: list[str]) -> None:
        if len(want) == len(got):
            for i, (w, g) in enumerate(zip(want, got)):
                self.compare(w, g, f"{path}[{i}]", problems)
            return
        if len(got) == len(want) - 1:
            for i, w in enumerate(want):
                if self.all_from_k(w):  # a record made only of the corrupted segment may vanish
                    rest = want[:i] + want[i + 1 :]
                    attempt: list[str] = []
                    for j, (w2, g) in enumerate(zip(rest, got)):
                        self.compare(w2, g, f"{path}[{j}]", attempt)
                    if not attempt:
                        return
        problems.append(f"{path}: {len(got)} read, expected {len(want)}: read {_plain(got)}, expected {_plain(want)}")


def _is_record(value: Any) -> bool:
    return isinstance(value, BaseModel) and "elements" in type(value).model_fields


def _is_record_list(value: Any) -> bool:
    return isinstance(value, tuple) and bool(value) and _is_record(value[0])


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return comparable(value) if isinstance(value, Claim) else _strip(value.model_dump())
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in READER_FILLED}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


# --- the property -------------------------------------------------------------------------------------


def check_corrupted(clean_text: str, corruption: Corruption) -> list[str]:
    """Every violation of (a), (b), (c) after ``corruption`` of ``clean_text``; [] when the reader holds."""
    clean_segments = split_segments(clean_text)
    originals = {item.claim_id: item for item in read_text(clean_text) if isinstance(item, Claim)}
    text = apply(clean_segments, corruption)
    items = read_text(text)
    claims = [item for item in items if isinstance(item, Claim)]
    unreadable = [item for item in items if isinstance(item, ParseIssue) and item.unreadable_claim]
    oracle = Oracle(clean_segments, corruption.index)
    problems: list[str] = []

    # (a) each claim read is ours, with our values, except those the corrupted segment held
    for claim in claims:
        original = originals.get(claim.claim_id)
        if original is None:
            problems.append(f"claim {claim.claim_id!r} is not in the batch: {comparable(claim)}")
            continue
        oracle.compare(original, claim, f"claim {claim.claim_id}", problems)

    # (b) every CLM segment is accounted for, once, by its own segment index
    positions = clm_positions(text)
    named = [claim.source.segment for claim in claims] + [issue.claim_segment for issue in unreadable]
    if len(claims) + len(unreadable) != len(positions):
        problems.append(
            f"{len(claims)} claims read + {len(unreadable)} unreadable != {len(positions)} CLM segments {positions}"
        )
    if sorted(named, key=lambda n: (n is None, n or 0)) != positions:
        problems.append(f"claims are named by segments {named}, the CLM segments are {positions}")

    # (c) no claim id twice
    ids = [claim.claim_id for claim in claims]
    if len(ids) != len(set(ids)):
        problems.append(f"a claim id is read twice: {ids}")
    return problems


def _written(batch: list[Claim]) -> str:
    return write(batch, date=WHEN, segment_terminator=TERMINATOR)


def _check_clean(batch: list[Claim], text: str) -> None:
    items = read_text(text)
    assert [item for item in items if isinstance(item, ParseIssue)] == []
    assert [comparable(c) for c in items] == [comparable(c) for c in batch]


def _reduce(batch: list[Claim], corruption: Corruption, problems: list[str]) -> tuple[list[Claim], Corruption, list[str]]:
    """A smaller failing example: drop claims while the same corruption of a segment with the same text
    still fails. (Hypothesis' own shrinker is off, see PROPERTY: on these batches it runs into its
    5-minute limit per failing test.)"""
    reduced = True
    while reduced and len(batch) > 1:
        reduced = False
        for i in range(len(batch)):
            smaller = batch[:i] + batch[i + 1 :]
            text = _written(smaller)
            for index, segment in enumerate(split_segments(text), 1):
                if segment != corruption.before or tag(segment) == "ISA":
                    continue
                candidate = Corruption(index, corruption.kind, corruption.before, corruption.after)
                found = check_corrupted(text, candidate)
                if found:
                    batch, corruption, problems, reduced = smaller, candidate, found, True
                    break
            if reduced:
                break
    return batch, corruption, problems


def _failure(batch: list[Claim], corruption: Corruption) -> str | None:
    """What goes wrong when ``corruption`` is applied to the file of ``batch``, reduced; None if nothing."""
    problems = check_corrupted(_written(batch), corruption)
    if not problems:
        return None
    batch, corruption, problems = _reduce(batch, corruption, problems)
    corrupted = apply(split_segments(_written(batch)), corruption)
    return f"{corruption}\n" + "\n".join(problems) + f"\n--- the corrupted file ({len(batch)} claims) ---\n{corrupted}"


KINDS = ("tag", "nul", "drop", "delimiter")
PROPERTY = settings(
    # Generating a batch costs several times more than reading it, so each batch is corrupted once per
    # kind of corruption, each corruption on its own copy: 75 batches, 300 corrupted files.
    max_examples=75,
    deadline=None,
    # No Hypothesis shrinking: a failure is reduced by _reduce (whole claims) in well under a second,
    # where the shrinker spends its full 5 minutes per failing test on these batches.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # The same examples on every run, so CI is repeatable; SCRUBBER_EXPLORE=1 draws new ones (to hunt bugs).
    derandomize=not os.environ.get("SCRUBBER_EXPLORE"),
)


@PROPERTY
@given(batch=batches(), data=st.data())
def test_one_corrupt_segment_never_gives_a_claim_values_not_its_own(batch: list[Claim], data: st.DataObject) -> None:
    text = _written(batch)
    _check_clean(batch, text)
    segments = split_segments(text)
    failures = []
    for kind in KINDS:
        corruption = data.draw(corruptions(segments, kinds=(kind,)), label=f"{kind} corruption")
        failure = _failure(batch, corruption)
        if failure is not None:
            failures.append(failure)
    assert not failures, "\n\n".join(failures)


@settings(PROPERTY, max_examples=30)
@given(batch=batches(), data=st.data())
def test_one_corrupt_envelope_segment(batch: list[Claim], data: st.DataObject) -> None:
    """The same property with a GS/ST/SE/GE/IEA corrupted (``implementation``, from ST03/GS08, may then be
    absent): 30 batches, 60 corrupted files."""
    segments = split_segments(_written(batch))
    failures = []
    for _ in range(2):
        failure = _failure(batch, data.draw(corruptions(segments, envelope=True), label="corruption"))
        if failure is not None:
            failures.append(failure)
    assert not failures, "\n\n".join(failures)


# --- the issue's reproductions ---------------------------------------------------------------------


def _mixed_batch() -> str:
    return MIXED_BATCH.read_text(encoding="ascii")


def _by_claim(items: list[Claim | ParseIssue]) -> dict[str, Claim | ParseIssue]:
    found: dict[str, Claim | ParseIssue] = {}
    for item in items:
        if isinstance(item, Claim):
            found[item.claim_id] = item
        elif item.unreadable_claim:
            found[item.claim_id or f"@{item.claim_segment}"] = item
    return found


@pytest.mark.parametrize(
    "broken",
    ["H@*3*1*22*0~", "\x00HL*3*1*22*0~", "HL\x00*3*1*22*0~", "HL:3*1*22*0~"],
    ids=["tag-H@", "nul-before-HL", "nul-after-HL", "HL-wrong-delimiter"],
)
def test_mixed_batch_broken_subscriber_hl(broken: str) -> None:
    """Issue 10 item 3: the claim under a broken HL*22 is never read with the previous subscriber/payer."""
    clean_text = _mixed_batch()
    clean = _by_claim(read_text(clean_text))
    assert isinstance(clean["A1"], Claim) and isinstance(clean["A2"], Claim)
    assert clean["A2"].subscriber.first_name == "BETA" and clean["A2"].payer.payer_id == "CIPAYER"
    assert "HL*3*1*22*0~" in clean_text
    text = clean_text.replace("HL*3*1*22*0~", broken, 1)
    items = read_text(text)
    found = _by_claim(items)
    positions = clm_positions(text)
    # A2 (under the broken HL) is unreadable, named by its CLM segment; never read with ALPHA / MB
    a2 = found.get("A2")
    assert isinstance(a2, ParseIssue), f"A2 read as {a2!r}"
    assert a2.claim_segment == positions[1]
    # A1 (before it) is read exactly as in the clean file, or reported unreadable: the broken segment
    # follows its last line and may have belonged to it. (The reader reports it unreadable.)
    a1 = found.get("A1")
    if isinstance(a1, Claim):
        assert comparable(a1) == comparable(clean["A1"])
    else:
        assert isinstance(a1, ParseIssue) and a1.claim_segment == positions[0], f"A1: {a1!r}"
    # B2 (its CLM02 'ABC' is not an amount) stays unreadable; all three claims are accounted for
    assert isinstance(found.get("B2"), ParseIssue)
    counted = [item for item in items if isinstance(item, Claim) or item.unreadable_claim]
    assert len(counted) == len(positions) == 3


def test_mixed_batch_claim_with_a_wrong_element_delimiter_is_still_counted() -> None:
    """Issue 10 item 4: 'CLM:A2*...' is a claim; it is reported unreadable, not dropped from the count."""
    text = _mixed_batch().replace("CLM*A2*", "CLM:A2*", 1)
    items = read_text(text)
    counted = [item for item in items if isinstance(item, Claim) or item.unreadable_claim]
    assert len(counted) == len(clm_positions(text)) == 3
    found = _by_claim(items)
    assert isinstance(found["A1"], Claim)
    assert not any(isinstance(item, Claim) and item.claim_id == "A2" for item in items)


@pytest.mark.parametrize("broken_clm", ["CLM:{id}*", "CLM^{id}*", "CLM\x00{id}*", "CLM\x00*{id}*"])
def test_two_claims_second_with_a_broken_clm_delimiter(broken_clm: str) -> None:
    """A file with 2 CLMs whose second has a wrong element delimiter: 2 claims reported."""
    batch = [
        claim.model_copy(update={"claim_id": claim_id, "billing_state": "NY",
                                 "batch_date": dt.date(2025, 3, 1)})
        for claim_id, claim in zip(("FIRST1", "SECOND2"), _two_claims())
    ]
    text = _written(batch)
    _check_clean(batch, text)
    broken = text.replace("CLM*SECOND2*", broken_clm.format(id="SECOND2"), 1)
    assert broken != text
    items = read_text(broken)
    claims = [item for item in items if isinstance(item, Claim)]
    unreadable = [item for item in items if isinstance(item, ParseIssue) and item.unreadable_claim]
    assert len(claims) + len(unreadable) == 2
    assert [comparable(c) for c in claims] == [comparable(batch[0])]
    assert [issue.claim_segment for issue in unreadable] == clm_positions(broken)[1:]


def _two_claims() -> list[Claim]:
    from decimal import Decimal

    from scrubber.model import Diagnosis, Party, Payer, Provider, ServiceLine

    return [
        Claim(
            claim_id=f"C{i}",
            billing_provider=Provider(npi="1234567893", id_qualifier="XX"),
            total_charge=Decimal("100"),
            diagnoses=(Diagnosis(code="E119", qualifier="ABK"),),
            implementation="005010X222A1",
            payer=Payer(sequence="P", filing_indicator="CI", payer_id=f"PAYER{i}", name="AETNA"),
            subscriber=Party(last_name=f"DOE{'AB'[i]}", first_name="JANE", member_id=f"M{i}"),
            lines=(ServiceLine(number=1, procedure="99213", charge=Decimal("100"), units=Decimal("1"),
                               diagnosis_pointers=(1,)),),
        )
        for i in range(2)
    ]


# --- minimal reproductions of what the property found -------------------------------------------------
# Each: a clean file built with the conftest builders, one segment corrupted as the property does; the
# oracle is the same (check_corrupted). A failure here is a reader bug (see the message for the value read).

_RENDERING = "NM1*82*1*DOCTOR*TEST****XX*1234567893"
_TWO_LINES_FIRST_WITH_PROVIDER = clm(
    "A1", "180", lines=[line(1, charge="100", extra=[_RENDERING]), line(2, "80053", "80")]
)
_WITH_PATIENT = subscriber(2, children=True) + patient(3, 2) + clm("A1")
_ONE_CLAIM = subscriber(2) + clm("A1")

REPRODUCTIONS = {
    # a NUL inside a value is read as part of the value
    "nul-in-CLM01": (_ONE_CLAIM, "CLM*A1*", "CLM*A\x001*100***11:B:1*Y*A*Y*Y"),
    "nul-in-subscriber-NM109": (_ONE_CLAIM, "NM1*IL*", "NM1*IL*1*TESTPERSON*BETA****MI*W000\x00000002"),
    # a ':' or '^' for '*' in an element the map does not read shifts the elements after it
    "colon-in-NM102-shifts-NPI-into-NM108": (
        subscriber(2) + clm("A1", before_lines=[_RENDERING]), "NM1*82*", "NM1*82*1:DOCTOR*TEST****XX*1234567893"
    ),
    "colon-in-CLM03-shifts-CLM05-09": (_ONE_CLAIM, "CLM*A1*", "CLM*A1*100*:*11:B:1*Y*A*Y*Y"),
    "caret-in-CLM05-shifts-CLM06-09": (_ONE_CLAIM, "CLM*A1*", "CLM*A1*100***11:B:1^Y*A*Y*Y"),
    "colon-in-billing-N401-gives-zip-as-state": (_ONE_CLAIM, "N4*ALBANY*NY", "N4*ALBANY:NY*12201"),
    "colon-in-HI-drops-a-diagnosis": (
        subscriber(2) + clm("A1", diagnoses="HI*ABK:J449*ABF:E119"), "HI*", "HI*ABK:J449:ABF:E119"
    ),
    # a broken segment inside a level: the next (child) HL re-anchors, the claim is read with the level half read
    "broken-billing-N3-loses-billing-state": (_ONE_CLAIM, "N3*1 TEST WAY", "@3*1 TEST WAY"),
    "broken-SBR-under-a-patient-level-empties-subscriber-and-payer": (_WITH_PATIENT, "SBR*", "@BR*P********CI"),
    # a segment error inside a level is reported alone; the claim under it is read without the value
    "second-N4-in-2010BA-loses-subscriber-state": (_ONE_CLAIM, "N3*3 SAMPLE ST", "N4*3 SAMPLE ST"),
    # a lost HL*23: PAT/NM1*QC/N4/DMG are ignored in 2010BB and the claim is read with no patient
    "dropped-HL23-reads-subscriber-as-patient": (_WITH_PATIENT, "HL*3*2*23*0", None),
    "HL23-retagged-HI-reads-subscriber-as-patient": (_WITH_PATIENT, "HL*3*2*23*0", "HI*3*2*23*0"),
    # a lost LX after a line ending in a sub-loop (2420A): the line's SV1 is ignored, the line vanishes
    "dropped-LX2-loses-line-2": (subscriber(2) + _TWO_LINES_FIRST_WITH_PROVIDER, "LX*2", None),
    "LX2-retagged-LQ-loses-line-2": (subscriber(2) + _TWO_LINES_FIRST_WITH_PROVIDER, "LX*2", "LQ*2"),
    # a lost loop opener: the segments of its loop are ignored where they land
    "dropped-NM1-82-loses-its-PRV-taxonomy": (
        subscriber(2) + clm("A1", before_lines=[_RENDERING, "PRV*PE*PXC*207Q00000X"]), "NM1*82*", None
    ),
    "dropped-LIN-loses-its-CTP-quantity": (
        subscriber(2) + clm("A1", lines=[line(1, extra=["LIN**N4*00002143380", "CTP****2*UN"])]), "LIN*", None
    ),
    # a '~' for '*' before a value 'SE' makes a spurious SE inside a claim: the claim is closed as read
    "spurious-SE-inside-a-claim-loses-line-2": (
        subscriber(2) + clm("A1", "180", lines=[line(1, charge="100", extra=["REF*G1*SE"]), line(2, "80053", "80")]),
        "REF*G1*SE",
        "REF*G1~SE",
    ),
}


@pytest.mark.parametrize(("body", "target", "after"), list(REPRODUCTIONS.values()), ids=list(REPRODUCTIONS))
def test_reproduction(body: list[str], target: str, after: str | None) -> None:
    text = x12_batch(body)
    segments = split_segments(text)
    assert [item for item in read_text(text) if isinstance(item, ParseIssue)] == [], "the clean file reads cleanly"
    index = next(i for i, segment in enumerate(segments, 1) if segment.startswith(target))
    kind = "drop" if after is None else "edit"
    corruption = Corruption(index, kind, segments[index - 1], after)
    problems = check_corrupted(text, corruption)
    assert problems == [], f"{corruption}\n" + "\n".join(problems)


def test_two_adjudications_run_together_when_the_second_svd_is_lost():
    """Found by CI's random examples: a lost SVD let the next payer's CAS and DTP*573 join the adjudication
    before it. A CAS repeating a group code whose CAS still had room gives it away."""
    from decimal import Decimal

    from scrubber.model import Adjustment, LineAdjudication
    from scrubber.rules.testing import build_case_claim

    claim = build_case_claim({"claim_id": "TWO-SVD", "lines": [{"procedure": "99213"}]})
    first = LineAdjudication(payer_id="P1", paid=Decimal("3"), procedure="99213",
                             adjustments=(Adjustment(group="PR", reason="3", amount=Decimal("4")),))
    second = LineAdjudication(payer_id="P2", paid=Decimal("7"), procedure="99213",
                              adjustments=(Adjustment(group="PR", reason="97", amount=Decimal("8")),))
    line = claim.lines[0].model_copy(update={"adjudications": (first, second)})
    text = write([claim.model_copy(update={"lines": (line,)})], date=claim.batch_date)
    dropped = "".join(piece + "~" for piece in text.split("~")[:-1] if not piece.strip().startswith("SVD*P2"))
    items = list(read(io.BytesIO(dropped.encode()), "two-svd.837"))
    assert not [item for item in items if isinstance(item, Claim)]
    (broken,) = [item for item in items if isinstance(item, ParseIssue) and item.unreadable_claim]
    assert "second CAS with group PR" in broken.message
