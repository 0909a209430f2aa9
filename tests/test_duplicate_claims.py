"""A CLM01 repeated within one transaction set: the later claim knows the earlier one's segment, also when
``--jobs`` reads the file in pieces (the earlier claim in another piece), and a new transaction set starts afresh."""

from __future__ import annotations

import io
import json

from conftest import batch, claim, run_cli, subscriber, transaction
from scrubber.model import Claim
from scrubber.readers.x12_837p import Reader, read
from scrubber.readers.x12_pieces import read_in_pieces


def claims_of(text: str) -> list[Claim]:
    return [item for item in read(io.BytesIO(text.encode()), "dup.837") if isinstance(item, Claim)]


BODY = subscriber(2) + claim("A1") + subscriber(3) + claim("B2") + subscriber(4) + claim("A1")


def test_the_later_claim_points_at_the_earlier():
    first, other, repeated = claims_of(batch(BODY))
    assert first.source.same_id_as_segment is None and other.source.same_id_as_segment is None
    assert repeated.source.same_id_as_segment == first.source.segment


def test_every_piece_sees_it(tmp_path):
    path = tmp_path / "dup.837"
    path.write_text(batch(BODY))
    whole = {c.source.segment: c.source.same_id_as_segment for c in claims_of(batch(BODY))}
    for piece_bytes in (60, 150, 300):
        log: dict = {}
        read_back = {
            c.source.segment: c.source.same_id_as_segment
            for c in read_in_pieces(path, 2, Reader, piece_bytes, log)
            if isinstance(c, Claim)
        }
        assert read_back == whole and log["pieces"] > 1 and log["read_here"] == []


def test_a_new_transaction_set_starts_afresh():
    from conftest import billing, group, interchange

    sets = [transaction(billing() + subscriber(2) + claim("A1"), control) for control in ("0001", "0002")]
    text = interchange([group(sets)])
    assert [c.source.same_id_as_segment for c in claims_of(text)] == [None, None]


def test_check_flags_the_repeat_alike_with_jobs(write_file):
    path = write_file("dup.837", batch(BODY))
    reports = [run_cli("check", str(path), str(path), "--format", "json", "--jobs", jobs).stdout for jobs in ("1", "2")]
    assert reports[0] == reports[1]
    flagged = [
        (c["claim_id"], c["segment"]) for c in json.loads(reports[0])["claims"]
        for f in c["findings"] if f["rule"] == "duplicate-claim-id"
    ]
    assert len(flagged) == 2 and all(claim_id == "A1" for claim_id, _ in flagged)  # the second A1 of each file
