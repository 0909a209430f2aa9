"""A UTF-8 byte-order mark (EF BB BF, written by Windows tools) before the data is accepted everywhere.

X12: the tokenizer drops a mark that starts the input (it is not text: positions count from the ISA,
which is at offset 0, column 1, as an editor shows it) and skips one before a later ISA like layout.
JSON, JSON Lines and CSV: the mark is dropped before the first record or header. ``check``, ``remit``
and ``guard`` read such files as they read the same files without the mark.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import MIXED_BATCH, ROOT, batch, group, interchange, run_cli, simple_claims, transaction, billing
from scrubber.inputs import detect_format, read_file
from scrubber.model import Claim, ParseIssue
from scrubber.readers import csv as csv_reader
from scrubber.readers import json as json_reader
from scrubber.readers import x12_tokens
from scrubber.readers.x12_tokens import Segment, SegmentText, X12SyntaxError, iter_segments
from scrubber.reporters.positions import iter_spans, segment_spans

BOM = b"\xef\xbb\xbf"
FIXTURES = ROOT / "fixtures"
PLAIN = batch(simple_claims(["A1", "A2"])).encode("latin-1")


def tokens(data: bytes) -> list[tuple]:
    return [(t.index, t.elements, t.delimiters) if isinstance(t, Segment) else t for t in iter_segments(io.BytesIO(data))]


def _second_interchange() -> bytes:
    body = [group([transaction(billing() + simple_claims(["B1"]))])]
    return interchange(body, control="000000102", element="|", terminator="!").encode("latin-1")


# --- tokenizer ------------------------------------------------------------------------------------


def test_bom_before_isa_changes_no_token():
    assert tokens(BOM + PLAIN) == tokens(PLAIN)
    assert tokens(BOM + PLAIN)[0][1][:2] == ["ISA", "00"]


def test_the_leading_mark_is_kept_aside():
    source = SegmentText(io.BytesIO(BOM + PLAIN))
    source.next_pieces(0)
    assert source.mark == BOM.decode("latin-1") and source.skipped == ""
    assert source.delimiters.segment == "~"


def test_bom_in_a_text_stream_is_accepted_too():
    text = "\ufeff" + PLAIN.decode("latin-1")
    got = [(s.index, s.elements) for s in iter_segments(io.StringIO(text))]
    assert got == [(index, elements) for index, elements, _ in tokens(PLAIN)]


def test_bom_after_layout_and_before_a_later_isa_is_skipped():
    second = _second_interchange()
    joined = BOM + b"\r\n" + PLAIN + BOM + second + b"\n" + BOM  # files concatenated by a Windows tool
    expected = tokens(PLAIN + second)
    assert tokens(joined) == expected
    assert [t[1][0] for t in expected].count("ISA") == 2


@pytest.mark.parametrize("data", [BOM, BOM + b"\r\n", BOM + BOM, b""])
def test_a_mark_alone_is_an_empty_input(data):
    assert tokens(data) == []


@pytest.mark.parametrize("data", [BOM + b"Dear billing office,\n", BOM[:2] + PLAIN, BOM + b"xISA*00"])
def test_a_mark_before_anything_else_still_raises_at_segment_1(data):
    with pytest.raises(X12SyntaxError) as caught:
        tokens(data)
    assert caught.value.segment == 1


@settings(max_examples=40, deadline=None)
@given(chunk=st.integers(min_value=1, max_value=130))
def test_chunks_that_split_the_mark_change_nothing(chunk):
    data = BOM + PLAIN + BOM + _second_interchange()
    expected = tokens(PLAIN + _second_interchange())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(x12_tokens, "CHUNK_SIZE", chunk)
        assert tokens(data) == expected


# --- positions ------------------------------------------------------------------------------------


def test_positions_do_not_count_the_leading_mark():
    plain, marked = list(iter_spans(io.BytesIO(PLAIN))), list(iter_spans(io.BytesIO(BOM + PLAIN)))
    assert marked == plain
    assert (marked[0].offset, marked[0].start_line, marked[0].start_column) == (0, 1, 1)
    text = PLAIN.decode("latin-1")  # the file's text after the mark
    for span, token in zip(marked, tokens(BOM + PLAIN)):
        assert text[span.offset : span.offset + span.length] == "*".join(token[1])


def test_one_line_file_after_a_mark_gives_editor_columns(write_file):
    text = batch(simple_claims(["Z9"]), newline="")
    path = write_file("one-line.837", BOM + text.encode("latin-1"))
    clm = next(t[0] for t in tokens(text.encode("latin-1")) if t[1][0] == "CLM")
    span = segment_spans(path, [clm])[clm]
    assert span.start_line == 1 and span.start_column == text.index("CLM*Z9") + 1 == span.offset + 1


def test_a_mark_before_a_later_isa_counts_as_three_characters():
    second = _second_interchange()
    data = BOM + PLAIN + BOM + second
    text = data[len(BOM) :].decode("latin-1")  # characters: the leading mark is not one, a later one is three
    spans = list(iter_spans(io.BytesIO(data)))
    segments = tokens(data)
    assert [s.index for s in spans] == [t[0] for t in segments]
    for span, token in zip(spans, segments):
        assert text[span.offset : span.offset + span.length] == token[2].element.join(token[1])


@pytest.mark.parametrize("path", [MIXED_BATCH, *sorted((FIXTURES / "835" / "samples").glob("*.835"))[:2]], ids=lambda p: p.name)
def test_fixture_spans_are_the_same_with_a_mark(path: Path):
    data = path.read_bytes()
    assert list(iter_spans(io.BytesIO(BOM + data))) == list(iter_spans(io.BytesIO(data)))


# --- JSON, JSON Lines, CSV ------------------------------------------------------------------------


def _read(reader, data: bytes, name: str) -> list:
    return [item.model_dump() for item in reader.read(io.BytesIO(data), name)]


@pytest.mark.parametrize(
    ("reader", "path"),
    [
        (json_reader, FIXTURES / "json" / "cross-format.json"),
        (json_reader, FIXTURES / "jsonl" / "cross-format.jsonl"),
        (csv_reader, FIXTURES / "csv" / "cross-format.csv"),
    ],
    ids=["json", "jsonl", "csv"],
)
def test_readers_accept_a_mark(reader, path: Path):
    data = path.read_bytes()
    expected = _read(reader, data, path.name)
    assert expected and all("claim_id" in item and "lines" in item for item in expected)  # claims, not issues
    assert _read(reader, BOM + data, path.name) == expected


def test_jsonl_with_a_mark_then_a_blank_line_keeps_editor_line_numbers():
    data = (FIXTURES / "jsonl" / "cross-format.jsonl").read_bytes()
    items = list(json_reader.read(io.BytesIO(BOM + b"\n" + data), "x.jsonl"))
    assert items and all(isinstance(item, Claim) for item in items)
    assert [item.source.row for item in items] == list(range(2, len(items) + 2))


def test_json_with_only_a_mark_is_empty():
    (issue,) = json_reader.read(io.BytesIO(BOM + b"\n\n"), "x.json")
    assert isinstance(issue, ParseIssue) and "empty input" in issue.message


def test_csv_text_stream_with_a_mark():
    text = (FIXTURES / "csv" / "cross-format.csv").read_text(encoding="utf-8")
    marked = [c.model_dump() for c in csv_reader.read(io.StringIO("\ufeff" + text), "x.csv")]
    assert marked == [c.model_dump() for c in csv_reader.read(io.StringIO(text), "x.csv")]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (MIXED_BATCH, "x12"),
        (FIXTURES / "json" / "cross-format.json", "json"),
        (FIXTURES / "jsonl" / "cross-format.jsonl", "jsonl"),
        (FIXTURES / "csv" / "cross-format.csv", "csv"),
    ],
    ids=lambda value: getattr(value, "name", value),
)
def test_format_detection_and_read_file_see_through_the_mark(tmp_path, path: Path, kind: str):
    marked = tmp_path / "marked" / path.name
    marked.parent.mkdir()
    marked.write_bytes(BOM + path.read_bytes())
    assert detect_format(marked.read_bytes()[:4096], "noext") == kind
    plain = [_comparable(item) for item in read_file(path)]
    assert [_comparable(item) for item in read_file(marked)] == plain
    assert any(isinstance(item, dict) and "lines" in item for item in plain)


def _comparable(item) -> dict:
    """A read item without the file it came from."""
    data = item.model_dump()
    data.pop("file", None)
    if isinstance(data.get("source"), dict):
        data["source"].pop("file", None)
    return data


# --- commands -------------------------------------------------------------------------------------


def _check_json(folder: Path) -> tuple[int, dict, str]:
    """``check --format json`` on ``folder/batch.837``, run there, and the text report too."""
    result = run_cli("check", "batch.837", "--format", "json", cwd=folder)
    text = run_cli("check", "batch.837", cwd=folder)
    return result.returncode, json.loads(result.stdout), text.stdout


def test_check_reads_an_837p_after_a_mark(tmp_path):
    plain, marked = tmp_path / "plain", tmp_path / "marked"
    for folder, head in ((plain, b""), (marked, BOM)):
        folder.mkdir()
        (folder / "batch.837").write_bytes(head + MIXED_BATCH.read_bytes())
    code, report, text = _check_json(plain)
    assert report["summary"]["claims"] == 3 and report["summary"]["unreadable"] == 1
    assert _check_json(marked) == (code, report, text)  # same claims, findings, segments, exit status

def test_remit_reads_an_835_after_a_mark(tmp_path):
    sample = FIXTURES / "835" / "samples" / "lfh_demo.835"
    marked = tmp_path / sample.name
    marked.write_bytes(BOM + sample.read_bytes())
    plain = run_cli("remit", str(sample), "--format", "json")
    result = run_cli("remit", str(marked), "--format", "json")
    assert result.returncode == plain.returncode == 0, result.stderr
    assert result.stdout.replace(str(marked), "FILE") == plain.stdout.replace(str(sample), "FILE")
    assert "777777" in result.stdout


def test_guard_sees_production_data_after_a_mark(tmp_path):
    text = MIXED_BATCH.read_bytes()
    fields = text.split(b"~", 1)[0].split(b"*")
    assert fields[15] == b"T"
    production = b"*".join(fields[:15] + [b"P"] + fields[16:]) + text[text.index(b"~") :]
    marked_test, marked_production = tmp_path / "test.837", tmp_path / "prod.837"
    marked_test.write_bytes(BOM + text)
    marked_production.write_bytes(BOM + production)
    assert run_cli("guard", str(marked_test)).returncode == 0
    done = run_cli("guard", str(marked_test), str(marked_production))
    assert done.returncode != 0 and "prod.837" in done.stderr and "test.837" not in done.stderr
