"""X12 tokenizer (scrubber.readers.x12_tokens): delimiters from ISA, segment indexes, layout, streaming."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrubber.readers import x12_tokens
from scrubber.readers.x12_tokens import (
    Delimiters,
    Segment,
    TokenIssue,
    X12SyntaxError,
    iter_segments,
    parse_isa_delimiters,
)

from conftest import batch, interchange, group, isa_segment, segments_of, simple_claims, transaction, billing


def tokens(text: str | bytes) -> list[Segment | TokenIssue]:
    data = text.encode("latin-1") if isinstance(text, str) else text
    return list(iter_segments(io.BytesIO(data)))


def ids(items) -> list[str]:
    return [item.id if isinstance(item, Segment) else "!" for item in items]


# --- ISA delimiters -------------------------------------------------------------------------------


def test_standard_isa_delimiters():
    assert parse_isa_delimiters(isa_segment() + "~") == Delimiters("*", ":", "^", "~")


@pytest.mark.parametrize(
    ("element", "repetition", "component", "terminator"),
    [
        ("|", "^", ">", "\n"),
        ("^", "{", "\\", "'"),
        ("!", "*", "@", "~"),
        pytest.param("\x1d", "\x1f", "\x1e", "\x1c", id="control-characters"),
    ],
)
def test_delimiters_come_from_isa_positions(element, repetition, component, terminator):
    head = isa_segment(element=element, repetition=repetition, component=component) + terminator + "GS"
    assert head[3] == element
    assert parse_isa_delimiters(head) == Delimiters(element, component, repetition, terminator)


def test_isa11_that_is_not_a_separator_means_no_repetition():
    head = isa_segment(repetition="U") + "~"  # 004010 style: ISA11 is the standards id 'U'
    assert parse_isa_delimiters(head).repetition is None


@pytest.mark.parametrize(
    "head",
    [
        "",
        "ISA",
        "GS*HC*X~",
        "ISA000*",  # element separator alphanumeric
        "ISA 00 ",  # element separator blank
        isa_segment()[:60],  # fewer than 16 elements
        isa_segment(),  # no terminator after ISA16
        isa_segment() + "X",  # alphanumeric terminator
        isa_segment() + " ",  # blank terminator
        isa_segment() + ":",  # terminator equal to the component separator
    ],
)
def test_bad_isa_raises_syntax_error_at_segment_1(head):
    with pytest.raises(X12SyntaxError) as caught:
        parse_isa_delimiters(head)
    assert caught.value.segment == 1
    assert str(caught.value)


# --- segments and indexes -------------------------------------------------------------------------


def test_segment_indexes_are_one_based_from_isa():
    text = batch(simple_claims(["A1"]))
    items = tokens(text)
    assert all(isinstance(item, Segment) for item in items)
    assert [item.index for item in items] == list(range(1, len(items) + 1))
    assert items[0].id == "ISA" and items[-1].id == "IEA"
    assert ["*".join(item.elements) for item in items] == segments_of(text)


def test_segment_get_and_components():
    items = tokens(batch(simple_claims(["A1"])))
    clm = next(item for item in items if item.id == "CLM")
    assert clm.get(1) == "A1"
    assert clm.get(99) == ""
    assert clm.components(5) == ["11", "B", "1"]
    assert clm.delimiters == Delimiters("*", ":", "^", "~")


@pytest.mark.parametrize("newline", ["", "\n", "\r\n", "\n\n", "\r\n  "])
def test_whitespace_after_terminators_is_ignored(newline):
    reference = tokens(batch(simple_claims(["A1", "A2"]), newline=""))
    got = tokens(batch(simple_claims(["A1", "A2"]), newline=newline))
    assert [(s.index, s.elements) for s in got] == [(s.index, s.elements) for s in reference]


def test_whole_file_on_one_line():
    text = batch(simple_claims(["A1", "A2"]), newline="")
    assert "\n" not in text
    items = tokens(text)
    assert ids(items).count("CLM") == 2 and ids(items)[-1] == "IEA"


def test_stray_terminators_are_not_segments():
    text = batch(simple_claims(["A1"])).replace("HI*ABK:J449~", "HI*ABK:J449~~\n~")
    items = tokens(text)
    assert all(isinstance(item, Segment) for item in items)
    assert [item.index for item in items] == list(range(1, len(items) + 1))
    assert len(items) == len(segments_of(text))


def test_several_interchanges_with_their_own_delimiters():
    first = batch(simple_claims(["A1"]))
    second = interchange(
        [group([transaction(billing() + simple_claims(["B1"]))])],
        control="000000102",
        element="|",
        component=">",
        repetition="!",
        terminator="\n",
        newline="",
    )
    items = tokens(first + second)
    count_first = len(segments_of(first))
    assert [item.index for item in items] == list(range(1, len(items) + 1))
    assert items[count_first].id == "ISA" and items[count_first].index == count_first + 1
    clms = [item for item in items if item.id == "CLM"]
    assert [clm.get(1) for clm in clms] == ["A1", "B1"]
    assert clms[0].delimiters == Delimiters("*", ":", "^", "~")
    assert clms[1].delimiters == Delimiters("|", ">", "!", "\n")
    assert clms[1].components(5) == ["11", "B", "1"]


def test_garbage_segment_is_a_token_issue_and_keeps_its_index():
    text = batch(simple_claims(["A1"])).replace("HI*ABK:J449~", "HI*ABK:J449~##junk##*1~")
    items = tokens(text)
    issues = [item for item in items if isinstance(item, TokenIssue)]
    assert len(issues) == 1
    assert issues[0].index == ids(items).index("HI") + 2
    assert "junk" in issues[0].message
    assert [item.index for item in items] == list(range(1, len(items) + 1))  # the junk counts as a segment


@pytest.mark.parametrize("segment_id", ["lx", "L", "LXXX", "1LX", "L-X"])
def test_malformed_segment_ids(segment_id):
    text = batch(simple_claims(["A1"])).replace("LX*1~", f"{segment_id}*1~")
    assert sum(isinstance(item, TokenIssue) for item in tokens(text)) == 1


def test_empty_and_blank_inputs_yield_nothing():
    assert tokens(b"") == []
    assert tokens(b" \r\n\t\n") == []


@pytest.mark.parametrize("data", [b"hello, world" * 20, bytes(range(256)), b"GS*HC*X~ST*837~"])
def test_input_without_isa_raises_syntax_error(data):
    with pytest.raises(X12SyntaxError) as caught:
        tokens(data)
    assert caught.value.segment == 1


def test_garbage_after_iea_raises_with_next_index():
    text = batch(simple_claims(["A1"]))
    count = len(segments_of(text))
    stream = iter_segments(io.BytesIO((text + "this is not an interchange").encode()))
    seen = []
    with pytest.raises(X12SyntaxError) as caught:
        for item in stream:
            seen.append(item)
    assert len(seen) == count
    assert caught.value.segment == count + 1


def test_unterminated_tail_raises_after_every_complete_segment():
    text = batch(simple_claims(["A1"]))
    cut = text.index("SV1*") + 8
    seen = []
    with pytest.raises(X12SyntaxError) as caught:
        for item in iter_segments(io.BytesIO(text[:cut].encode())):
            seen.append(item)
    assert seen[-1].id == "LX"
    assert caught.value.segment == seen[-1].index + 1
    assert "SV1" in str(caught.value)


def test_missing_final_terminator_after_whitespace_only_is_fine():
    text = batch(simple_claims(["A1"])) + "\r\n\r\n"
    assert ids(tokens(text))[-1] == "IEA"


def test_text_streams_work_too():
    text = batch(simple_claims(["A1"]))
    assert [s.elements for s in iter_segments(io.StringIO(text))] == [s.elements for s in tokens(text)]


# --- streaming: chunk boundaries change nothing ---------------------------------------------------


def _two_interchanges() -> str:
    return batch(simple_claims(["A1", "A2"])) + interchange(
        [group([transaction(billing() + simple_claims(["B1"]))])],
        control="000000102",
        element="|",
        component=">",
        terminator="\n",
        newline="",
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunk=st.integers(min_value=1, max_value=300))
def test_chunk_size_does_not_change_tokens(monkeypatch, chunk):
    text = _two_interchanges()
    expected = [(s.index, s.elements, s.delimiters) for s in tokens(text)]
    monkeypatch.setattr(x12_tokens, "CHUNK_SIZE", chunk)
    got = [(s.index, s.elements, s.delimiters) for s in tokens(text)]
    assert got == expected


def _with_long_segments(length: int) -> str:
    """A batch whose claim carries an NTE and an SV1 description each ``length`` characters long."""
    body = simple_claims(["L1"])
    clm = next(i for i, segment in enumerate(body) if segment.startswith("CLM*"))
    body.insert(clm + 1, "NTE*ADD*" + "N" * length)
    sv1 = next(i for i, segment in enumerate(body) if segment.startswith("SV1*"))
    elements = body[sv1].split("*")
    elements[1] += "::::::" + "D" * length  # SV101-7, the procedure description
    body[sv1] = "*".join(elements)
    return batch(body)


def test_segment_split_across_many_small_chunks_is_tokenized_whole(monkeypatch):
    text = _with_long_segments(50_000)
    expected = [(s.index, s.elements) for s in tokens(text)]
    monkeypatch.setattr(x12_tokens, "CHUNK_SIZE", 7)  # the NTE alone spans about 7000 chunks
    got = [(s.index, s.elements) for s in tokens(text)]
    assert got == expected
    note = next(elements for _, elements in got if elements[0] == "NTE")
    assert note == ["NTE", "ADD", "N" * 50_000]
    assert any(elements[0] == "SV1" and elements[1].endswith("D" * 50_000) for _, elements in got)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunk=st.integers(min_value=1, max_value=5000), length=st.integers(min_value=0, max_value=20_000))
def test_chunk_size_does_not_change_tokens_of_long_segments(monkeypatch, chunk, length):
    text = _with_long_segments(length)
    expected = [(s.index, s.elements, s.delimiters) for s in tokens(text)]
    monkeypatch.setattr(x12_tokens, "CHUNK_SIZE", chunk)
    assert [(s.index, s.elements, s.delimiters) for s in tokens(text)] == expected


def test_unterminated_long_tail_raises_after_reading_to_the_end(monkeypatch):
    text = _with_long_segments(10)
    text = text[: text.index("\nSE*") + 1] + "NTE*ADD*" + "X" * 5000  # no terminator: the file ends in it
    monkeypatch.setattr(x12_tokens, "CHUNK_SIZE", 64)
    seen = []
    with pytest.raises(X12SyntaxError) as caught:
        seen.extend(tokens_lazily(text))
    assert caught.value.segment == seen[-1].index + 1 and "no terminator" in str(caught.value)


def tokens_lazily(text: str):
    yield from iter_segments(io.BytesIO(text.encode("latin-1")))


class _CountingStream(io.RawIOBase):
    def __init__(self, data: bytes):
        self.inner = io.BytesIO(data)
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.inner.read(size)
        self.consumed += len(chunk)
        return chunk


def test_tokenizer_is_lazy():
    text = batch(simple_claims([f"C{i}" for i in range(3000)])).encode()
    stream = _CountingStream(text)
    iterator = iter_segments(stream)
    first = next(iterator)
    assert first.id == "ISA"
    assert stream.consumed <= x12_tokens.CHUNK_SIZE * 2 < len(text)


# --- never anything but segments, token issues or X12SyntaxError ---------------------------------


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=600))
def test_arbitrary_bytes_only_raise_x12_syntax_error(data):
    try:
        for item in iter_segments(io.BytesIO(data)):
            assert isinstance(item, (Segment, TokenIssue))
    except X12SyntaxError as error:
        assert error.segment is not None and error.segment >= 1


@settings(max_examples=200, deadline=None)
@given(tail=st.binary(max_size=400), element=st.sampled_from("*|^!"), terminator=st.sampled_from("~\n'"))
def test_valid_isa_then_arbitrary_bytes(tail, element, terminator):
    head = isa_segment(element=element, repetition="^" if element != "^" else "{") + terminator
    index = 0
    try:
        for item in iter_segments(io.BytesIO(head.encode() + tail)):
            index += 1
            assert item.index == index
    except X12SyntaxError as error:
        assert error.segment == index + 1
