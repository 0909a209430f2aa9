"""Reading a file in pieces (``--jobs``) gives exactly what one reader of the whole file gives.

Property: a writer-built batch, clean or with one segment corrupted (any of the corruption test's kinds,
inside a transaction set or in the envelope), cut into pieces of a drawn size: the pieces read and joined
as ``--jobs`` joins them (``x12_pieces.read_in_pieces``) equal the whole file read at once, item for item:
the same claims with the same values and sources, the same problems in the same order. On a clean file
every boundary's rebuilt state is right (nothing is read on from a previous piece's state), so the pieces
really are read apart.
"""

from __future__ import annotations

import io
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reader_corruption import (  # tests/ is on sys.path
    _written,
    apply,
    batches,
    corruptions,
    split_segments,
)

from scrubber.api import build_scrubber
from scrubber.model import Claim, ParseIssue
from scrubber.options import ScrubOptions
from scrubber.parallel import WorkerSetup, run_parallel
from scrubber.readers import x12_pieces
from scrubber.readers.x12_837p import Reader, read_path
from scrubber.readers.x12_tokens import Resume, Tokens, iter_segments

ROOT = Path(__file__).resolve().parents[1]
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def pieces_read(path: Path, workers: int, piece_bytes: int) -> tuple[list, dict]:
    log: dict = {}
    return list(x12_pieces.read_in_pieces(path, workers, Reader, piece_bytes, log)), log


@PROPERTY
@given(batch=batches(), data=st.data())
def test_pieces_joined_equal_the_whole_file(tmp_path_factory, batch, data):
    text = _written(batch)
    segments = split_segments(text)
    corrupted = data.draw(st.sampled_from(("clean", "inside", "envelope")), label="corruption")
    if corrupted != "clean":
        text = apply(segments, data.draw(corruptions(segments, envelope=corrupted == "envelope"), label="which"))
    path = tmp_path_factory.mktemp("pieces") / "batch.837"
    path.write_bytes(text.encode("latin-1"))
    whole = list(read_path(path))
    piece_bytes = data.draw(st.integers(40, max(41, len(text) // 2)), label="piece bytes")
    workers = data.draw(st.integers(2, 4), label="workers")
    joined, log = pieces_read(path, workers, piece_bytes)
    assert joined == whole
    if corrupted == "clean":
        assert log["read_here"] == [], log


def test_a_clean_file_is_cut_into_pieces_that_each_hold_their_own_claims():
    path = ROOT / "fixtures" / "837p" / "mixed-batch.837"
    pieces = x12_pieces.plan(path, 2, piece_bytes=500)
    assert len(pieces) > 2
    data = path.read_bytes()
    for piece in pieces[1:]:
        assert data[piece.start : piece.start + 3] in (b"HL*", b"ST*")
    whole = list(read_path(path))
    joined, log = pieces_read(path, 2, 500)
    assert joined == whole and log["read_here"] == [] and log["pieces"] == len(pieces)
    # each piece reads only the claims whose CLM lies in its bytes
    offsets = {}
    position = 0
    for index, segment in enumerate(data.split(b"~"), 1):
        offsets[index] = position
        position += len(segment) + 1
    scanner = x12_pieces.Scanner(path, x12_pieces.first_delimiters(path))
    for piece in pieces:
        items = list(x12_pieces.read_piece(path, piece, Reader, scanner=scanner, started=lambda s: None, ended=lambda e: None))
        for claim in (item for item in items if isinstance(item, Claim)):
            assert piece.start <= offsets[claim.source.segment] < (piece.end or len(data))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("generated") / "batch.837"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate_837p.py"), "80", str(path), "--seed", "3"], check=True, capture_output=True)
    return path


def test_a_component_separator_warning_is_given_once_across_pieces(generated, tmp_path):
    """A service line early in the file writes its composite with '>' where ISA16 declares ':': the reader
    warns once per transaction set and remembers it. The scan sees such a character in the set before a
    boundary and guesses the warning given; the guesses hold, and there is still exactly one warning."""
    text = generated.read_text(encoding="latin-1")
    at = text.index("SV1*HC:")
    path = tmp_path / "component.837"
    path.write_text(text[:at] + "SV1*HC>" + text[at + len("SV1*HC:") :], encoding="latin-1")
    whole = list(read_path(path))
    assert sum("ISA16 declares" in item.message for item in whole if isinstance(item, ParseIssue)) == 1
    joined, log = pieces_read(path, 2, 4000)
    assert joined == whole
    assert log["pieces"] > 2 and log["read_here"] == []


def test_a_wrong_separator_guess_is_caught(generated, tmp_path):
    """A '>' in free text (NTE) is no component separator: the guess 'warned already' is wrong, caught by the
    check, and those pieces are read from the real state; a later real '>' composite still warns once."""
    text = generated.read_text(encoding="latin-1")
    first_line = text.index("SV1*HC:")
    path = tmp_path / "nte.837"
    late = text.rindex("SV1*HC:")
    text = text[:late] + "SV1*HC>" + text[late + len("SV1*HC:") :]
    path.write_text(text[:first_line] + "NTE*ADD*SEE NOTE > HERE~" + text[first_line:], encoding="latin-1")
    whole = list(read_path(path))
    joined, log = pieces_read(path, 2, 4000)
    assert joined == whole
    assert log["read_here"], log


def test_a_generated_batch_in_many_pieces(generated):
    whole = list(read_path(generated))
    for piece_bytes in (700, 3000, 9000):
        joined, log = pieces_read(generated, 3, piece_bytes)
        assert joined == whole
        assert log["pieces"] > 3 and log["read_here"] == []


def test_a_file_of_two_interchanges_with_other_delimiters(tmp_path):
    first = (ROOT / "fixtures" / "837p" / "mixed-batch.837").read_text(encoding="latin-1")
    second = first.replace("~", "!").replace("*", "|")
    assert second.startswith("ISA|")
    path = tmp_path / "two.837"
    path.write_text(first + "\n" + second, encoding="latin-1")
    whole = list(read_path(path))
    assert sum(isinstance(item, Claim) for item in whole) == 2 * sum(isinstance(item, Claim) for item in read_path(ROOT / "fixtures" / "837p" / "mixed-batch.837"))
    for piece_bytes in (300, 1000, 5000):
        joined, _ = pieces_read(path, 3, piece_bytes)
        assert joined == whole


def test_a_truncated_file_and_a_stray_byte_string(tmp_path):
    text = (ROOT / "fixtures" / "837p" / "mixed-batch.837").read_bytes()
    for name, data in (("cut.837", text[: len(text) * 2 // 3]), ("garbage.837", text[:3000] + b"\x00\x01GARBAGE" + text[3000:])):
        path = tmp_path / name
        path.write_bytes(data)
        whole = list(read_path(path))
        for piece_bytes in (250, 700):
            joined, _ = pieces_read(path, 2, piece_bytes)
            assert joined == whole, name


def test_tokens_resume_numbering_and_tail():
    text = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *250101*1200*^*00501*000000001*0*T*:~GS*HC*A*B*20250101*1200*1*X*005010X222A1~ST*837*0001~"
    segments = list(iter_segments(io.BytesIO(text.encode())))
    delimiters = segments[0].delimiters
    tokens = Tokens(io.BytesIO(b"BHT*0019~NM1*41*2*X~HL*1**2"), Resume(delimiters, 3), partial=True)
    got = list(tokens)
    assert [segment.index for segment in got] == [4, 5]
    assert tokens.index == 5 and tokens.tail == "HL*1**2"
    assert tokens.resume() == Resume(delimiters, 5, "HL*1**2")


def test_run_parallel_with_many_small_pieces_equals_one_process(monkeypatch, generated, tmp_path):
    """The real multiprocess path (fork), with pieces small enough that each worker gets several, and a file
    whose wrong guesses make the main process read some pieces itself."""
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs fork to carry the small piece size into the workers")
    monkeypatch.setattr(x12_pieces, "PIECE_BYTES", 400)
    files = [
        ROOT / "fixtures" / "837p" / "mixed-batch.837",
        broken_subscriber(generated, tmp_path),
        *sorted((ROOT / "fixtures" / "837p" / "bad").glob("*.837")),
    ]
    setup = WorkerSetup(ScrubOptions())
    parallel = [(position, event) for position, event, _ in run_parallel(files, 3, setup)]
    scrubber = build_scrubber(ScrubOptions())
    single = [(position, event) for position, file in enumerate(files) for event in scrubber.run(read_path(file))]
    assert parallel == single
    assert len(x12_pieces.plan(files[0], 3)) > 3


def test_a_rebuild_that_fails_is_read_on_not_a_failed_run(generated, monkeypatch):
    """Whatever goes wrong while guessing a piece's start state, the worker says it has no guess and the
    rest of the file is read from the real state: the same items, never an error of the run."""

    def broken(*args, **kwargs):
        raise RuntimeError("unexpected")

    whole = list(read_path(generated))
    monkeypatch.setattr(x12_pieces, "rebuild", broken)
    joined, log = pieces_read(generated, 2, 3000)
    assert joined == whole and log["read_here"] == list(range(1, log["pieces"]))


def test_after_a_wrong_guess_the_later_pieces_are_used_again(generated, tmp_path):
    """A broken subscriber HL (its parent is not the billing provider) in the middle of the file: the guesses
    of the pieces under that subscriber are wrong and those pieces are read from the real state; once the
    hierarchy is whole again (the next HL*22), the workers' pieces are used again."""
    path = broken_subscriber(generated, tmp_path)
    whole = list(read_path(path))
    assert any(isinstance(item, ParseIssue) and "HL02 '999'" in item.message for item in whole)
    for piece_bytes in (500, 1200):
        joined, log = pieces_read(path, 2, piece_bytes)
        assert joined == whole
        assert log["read_here"] and log["read_here"][-1] < log["pieces"] - 1, log  # later pieces from the workers


def broken_subscriber(generated: Path, directory: Path) -> Path:
    """The generated batch with the HL02 of its middle subscriber pointing at no billing provider."""
    segments = generated.read_text(encoding="latin-1").split("~")
    subscribers = [i for i, segment in enumerate(segments) if segment.strip().startswith("HL*") and segment.strip().split("*")[3] == "22"]
    middle = subscribers[len(subscribers) // 2]
    fields = segments[middle].split("*")
    fields[2] = "999"
    segments[middle] = "*".join(fields)
    path = directory / "broken-subscriber.837"
    path.write_text("~".join(segments), encoding="latin-1")
    return path
