"""Segment positions for SARIF regions and GitHub annotations agree with the tokenizer, segment by segment."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from conftest import (
    FIXTURES,
    batch,
    claim,
    group,
    interchange,
    segment_index,
    simple_claims,
    subscriber,
    transaction,
)

from scrubber.readers.x12_tokens import Segment, X12SyntaxError, iter_segments
from scrubber.reporters.positions import (
    artifact_location,
    display_path,
    iter_spans,
    segment_spans,
)

ALL_FIXTURES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix != ".md")


def tokens(data: bytes) -> list:
    out = []
    try:
        out.extend(iter_segments(io.BytesIO(data)))
    except X12SyntaxError:
        pass
    return out


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """Independent count: lines end at CRLF, LF or a lone CR."""
    before = text[:offset].replace("\r\n", "\n").replace("\r", "\n")
    lines = before.split("\n")
    return len(lines), len(lines[-1]) + 1


def assert_spans_match_tokenizer(data: bytes) -> int:
    text = data.decode("latin-1")
    expected = tokens(data)
    spans = list(iter_spans(io.BytesIO(data)))
    assert [s.index for s in spans] == [t.index for t in expected]
    for token, span in zip(expected, spans):
        segment_text = text[span.offset : span.offset + span.length]
        if isinstance(token, Segment):
            assert segment_text == token.delimiters.element.join(token.elements)
        assert segment_text == segment_text.strip() and segment_text
        assert (span.start_line, span.start_column) == line_and_column(text, span.offset)
        assert (span.end_line, span.end_column) == line_and_column(text, span.offset + span.length)
    return len(spans)


def test_fixtures_are_there():
    assert len(ALL_FIXTURES) > 40


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_segment_is_where_the_tokenizer_says(path: Path):
    assert_spans_match_tokenizer(path.read_bytes())


BODY = simple_claims(["A1", "A2"])


@pytest.mark.parametrize(
    "options",
    [
        {"newline": "\n"},
        {"newline": "\r\n"},
        {"newline": "\r"},
        {"newline": ""},  # one single line
        {"newline": "\n\n  "},  # blank lines and indentation between segments
        {"newline": "", "element": "|", "component": "^", "repetition": "{", "terminator": "!"},
        {"newline": "", "terminator": "\n"},  # the newline is the terminator
        {"newline": "\n", "terminator": "\r"},  # CR terminates, LF follows: CRLF lines, seen in two pieces
        {"newline": "", "terminator": "\r"},  # CR terminates and ends the line
    ],
    ids=["lf", "crlf", "cr", "single-line", "blank-lines", "other-delimiters", "newline-terminator", "cr-terminator-lf", "cr-terminator"],
)
def test_line_endings_and_delimiters(options):
    text = batch(BODY, **options)
    count = assert_spans_match_tokenizer(text.encode("latin-1"))
    assert count == len([t for t in tokens(text.encode("latin-1"))])
    assert count > 20


def test_two_interchanges_with_different_delimiters():
    first = interchange([group([transaction(simple_claims(["A1"]))])])
    second = interchange([group([transaction(simple_claims(["B1"]))])], control="000000102", element="|", terminator="!", newline="")
    data = (first + "\n" + second).encode("latin-1")
    count = assert_spans_match_tokenizer(data)
    assert count == len(tokens(data)) == 2 * len(tokens(first.encode("latin-1")))


def test_single_line_file_gives_columns_and_char_offsets(write_file):
    text = batch(subscriber(2) + claim("Z9"), newline="")
    path = write_file("one-line.837", text)
    clm = segment_index(text, "CLM*Z9")
    span = segment_spans(path, [clm])[clm]
    assert span.start_line == span.end_line == 1
    assert text[span.offset : span.offset + span.length] == "CLM*Z9*100***11:B:1*Y*A*Y*Y"
    assert span.start_column == span.offset + 1 and span.end_column == span.start_column + span.length
    assert span.region() == {
        "startLine": 1,
        "startColumn": span.offset + 1,
        "endLine": 1,
        "endColumn": span.offset + 1 + span.length,
        "charOffset": span.offset,
        "charLength": span.length,
    }


def test_segment_spans_only_scans_what_it_needs(write_file):
    path = write_file("x.837", batch(BODY))
    assert segment_spans(path, []) == {}
    assert set(segment_spans(path, [3, 5, 10_000])) == {3, 5}
    assert segment_spans(Path(path).with_name("missing.837"), [3]) == {}
    assert segment_spans(write_file("garbage.837", "Dear billing office,\n"), [1]) == {}


def test_paths_relative_to_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "in dir").mkdir()
    monkeypatch.chdir(tmp_path)
    assert display_path("in dir/a b.837") == "in dir/a b.837"
    assert display_path(str(tmp_path / "in dir" / "a b.837")) == "in dir/a b.837"
    assert artifact_location("in dir/a b.837") == {"uri": "in%20dir/a%20b.837", "uriBaseId": "%SRCROOT%"}
    outside = tmp_path.parent / "elsewhere.837"
    assert display_path(str(outside)) == outside.as_posix()
    assert artifact_location(str(outside)) == {"uri": outside.as_uri()}
    assert display_path(None) is None
    assert os.getcwd() == str(tmp_path)


def test_control_character_delimiters_keep_positions_in_step_with_the_tokenizer():
    # FS/GS/RS/US are valid X12 delimiters; str.strip() would treat them as blanks and lose a segment.
    text = batch(BODY, newline="", element="\x1d", component="\x1e", repetition="\x1f", terminator="\x1c")
    data = (text.replace("\x1cST\x1d", "\x1c\x1d\x1cST\x1d", 1)).encode("latin-1")  # a segment of one separator
    spans = list(iter_spans(io.BytesIO(data)))
    assert [s.index for s in spans] == [t.index for t in tokens(data)]
