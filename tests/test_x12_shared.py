"""What the X12 readers share (x12_loops, x12_values, x12_reader) and every reader's read_path (common)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from conftest import group, interchange, isa_segment, transaction
from scrubber.model import ParseIssue
from scrubber.readers import csv, fhir, json, x12_835, x12_837p
from scrubber.readers.common import read_opened
from scrubber.readers.x12_loops import loop_table, next_loop
from scrubber.readers.x12_tokens import Delimiters, Segment, SegmentText
from scrubber.readers.x12_values import BadSegment, cas_adjustments

TABLE = loop_table(
    ("N1", 1, {"PR"}, {"ST"}, "1000A"),
    ("LX", None, None, None, "2000"),
)


def test_next_loop_follows_qualifier_and_parent():
    assert next_loop(TABLE, "ST", "N1", ["N1", "PR"]) == "1000A"
    assert next_loop(TABLE, "2000", "N1", ["N1", "PR"]) is None  # not after 2000
    assert next_loop(TABLE, "ST", "N1", ["N1"]) is None  # no qualifier
    assert next_loop(TABLE, "1000A", "LX", ["LX", "1"]) == "2000"
    assert next_loop(TABLE, "ST", "REF", ["REF"]) is None


def cas(*elements: str) -> Segment:
    return Segment(1, ["CAS", *elements], Delimiters("*", ":", "^", "~"))


def test_cas_adjustments_lenient_and_strict():
    assert cas_adjustments(cas("CO", "45", "10", "", "", "5")) == [
        {"group": "CO", "reason": "45", "amount": Decimal("10"), "quantity": None}
    ]
    with pytest.raises(BadSegment, match="CAS06 has an amount but CAS05 no reason code"):
        cas_adjustments(cas("CO", "45", "10", "", "", "5"), strict=True)
    assert cas_adjustments(cas("CO")) == []
    with pytest.raises(BadSegment, match="CAS has no reason code"):
        cas_adjustments(cas("CO"), strict=True)


def test_segment_text_gives_back_what_follows_an_iea():
    text = f"{isa_segment()}~IEA*1*000000001~\n{isa_segment()}~"
    source = SegmentText(io.BytesIO(text.encode()))
    pieces = source.next_pieces(0)
    assert [piece[:3] for piece in pieces] == ["ISA", "IEA", "\nIS"]
    source.end_interchange(pieces[2:])
    assert source.delimiters is None
    assert source.next_pieces(2)[0].startswith("ISA") and source.skipped == "\n"


@pytest.mark.parametrize("reader", [x12_837p, x12_835, json, csv, fhir], ids=lambda module: module.__name__)
def test_every_read_path_reports_a_file_it_cannot_open(reader, tmp_path):
    missing = tmp_path / "missing.dat"
    assert list(reader.read_path(missing)) == [
        ParseIssue(file=str(missing), message="cannot open file: No such file or directory")
    ]


def test_read_opened_passes_the_name_and_arguments(tmp_path):
    path = tmp_path / "claims.837"
    path.write_bytes(b"x")
    seen = list(read_opened(path, lambda stream, name, *args: iter([(stream.read(), name, args)]), 7))
    assert seen == [(b"x", str(path), (7,))]


@pytest.mark.parametrize("reader", [x12_837p, x12_835])
def test_envelope_counts_are_checked_alike(reader):
    text = interchange([group([transaction([], se_count=99)])]).encode()
    messages = [item.message for item in reader.read(io.BytesIO(text)) if isinstance(item, ParseIssue)]
    assert "SE01 says '99' segments but the transaction set has 3" in messages
