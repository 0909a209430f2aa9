"""Shared fixtures and X12 837P text builders for the reader, tokenizer, CLI and sample tests.

Segments are written with the canonical delimiters (``*`` element, ``:`` component, ``^`` repetition,
``~`` terminator) and translated by :func:`interchange` when a test asks for other delimiters, so
builders never need to know the delimiters. Segment indexes are counted by :func:`segment_index`, an
independent (tiny) tokenizer, never by the reader under test.

Typical use::

    text = x12(billing() + subscriber(2) + claim("A1"))
    claims, issues = read_text(text)
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Sequence

import pytest

from scrubber.model import Claim, ParseIssue
from scrubber.readers.x12_837p import read

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "837p"
SAMPLES = FIXTURES / "samples"
MIXED_BATCH = FIXTURES / "mixed-batch.837"
BAD = FIXTURES / "bad"

# --- segment builders (canonical delimiters) ---------------------------------------------------


def billing(hl: int = 1, state: str = "NY", npi: str = "1234567893", taxonomy: str | None = "207Q00000X") -> list[str]:
    """1000A/1000B and the 2000A billing-provider level (HL*1**20*1), in TR3 order (PRV before NM1*85)."""
    segments = [
        "NM1*41*2*SYNTHETIC BILLING LLC*****46*SUB01",
        "PER*IC*BILLING DESK*TE*5555550100",
        "NM1*40*2*SYNTHETIC CLEARINGHOUSE*****46*RCV01",
        f"HL*{hl}**20*1",
    ]
    if taxonomy:
        segments.append(f"PRV*BI*PXC*{taxonomy}")
    segments += [
        f"NM1*85*2*SYNTHETIC CLINIC*****XX*{npi}",
        "N3*1 TEST WAY",
        f"N4*ALBANY*{state}*12201",
        "REF*EI*990000001",
    ]
    return segments


def subscriber(
    hl: int,
    parent: int = 1,
    *,
    filing: str = "CI",
    sequence: str = "P",
    state: str = "NY",
    birth: str = "19800202",
    member: str = "W000000002",
    last: str = "TESTPERSON",
    first: str = "BETA",
    payer_id: str = "CIPAYER",
    payer_name: str = "SYNTHETIC HEALTH PLAN",
    children: bool = False,
    relationship: str = "18",
) -> list[str]:
    """2000B (HL*22) + 2010BA subscriber + 2010BB payer."""
    return [
        f"HL*{hl}*{parent}*22*{1 if children else 0}",
        f"SBR*{sequence}*{relationship if not children else ''}*******{filing}",
        f"NM1*IL*1*{last}*{first}****MI*{member}",
        "N3*3 SAMPLE ST",
        f"N4*ALBANY*{state}*12201",
        f"DMG*D8*{birth}*M",
        f"NM1*PR*2*{payer_name}*****PI*{payer_id}",
    ]


def patient(
    hl: int,
    parent: int,
    *,
    state: str = "NJ",
    birth: str = "20100505",
    relationship: str = "19",
    last: str = "TESTCHILD",
    first: str = "DELTA",
) -> list[str]:
    """2000C (HL*23) + 2010CA patient."""
    return [
        f"HL*{hl}*{parent}*23*0",
        f"PAT*{relationship}",
        f"NM1*QC*1*{last}*{first}",
        "N3*5 CHILD ST",
        f"N4*TRENTON*{state}*08601",
        f"DMG*D8*{birth}*F",
    ]


def line(
    number: int = 1,
    procedure: str = "99213",
    charge: str = "100",
    date: str = "20260110",
    pointers: str = "1",
    extra: Sequence[str] = (),
) -> list[str]:
    """2400: LX + SV1 + DTP*472 (+ ``extra`` segments after the DTP)."""
    return [f"LX*{number}", f"SV1*HC:{procedure}*{charge}*UN*1***{pointers}", f"DTP*472*D8*{date}", *extra]


def claim(
    claim_id: str,
    charge: str = "100",
    *,
    pos: str = "11",
    frequency: str = "1",
    assignment: str = "A",
    related: str = "",
    accident_date: str | None = "20260102",
    diagnoses: str = "HI*ABK:J449",
    before_lines: Sequence[str] = (),
    lines: Sequence[Sequence[str]] | None = None,
) -> list[str]:
    """2300 CLM (+ HI, ``before_lines`` such as REF/2310B/2320 loops) + service lines (default: one)."""
    clm = f"CLM*{claim_id}*{charge}***{pos}:B:{frequency}*Y*{assignment}*Y*Y"
    if related:
        clm += f"**{related}"
    segments = [clm]
    if related.split(":")[0] in ("AA", "OA") and accident_date:
        segments.append(f"DTP*439*D8*{accident_date}")  # the TR3 requires it with AA or OA
    if diagnoses:
        segments.append(diagnoses)
    segments += list(before_lines)
    if lines is None:
        segments += line(charge=charge)
    else:
        for service in lines:
            segments += list(service)
    return segments


def simple_claims(ids: Iterable[str], start_hl: int = 2) -> list[str]:
    """One subscriber (HL*22) per claim, each with one clean one-line claim."""
    body: list[str] = []
    for offset, claim_id in enumerate(ids):
        body += subscriber(start_hl + offset) + claim(claim_id)
    return body


# --- envelopes ---------------------------------------------------------------------------------


def transaction(body: Sequence[str], control: str = "0001", version: str = "005010X222A1", se_count: int | None = None) -> list[str]:
    """ST + BHT + ``body`` + SE with SE01 = number of segments ST..SE (or ``se_count``)."""
    segments = [f"ST*837*{control}*{version}", f"BHT*0019*00*BATCH{control}*20260115*0930*CH", *body]
    count = len(segments) + 1
    segments.append(f"SE*{count if se_count is None else se_count}*{control}")
    return segments


def group(transactions: Sequence[Sequence[str]], control: str = "101", version: str = "005010X222A1", ge_count: int | None = None) -> list[str]:
    segments = [f"GS*HC*SUBMITTER01*RECEIVER01*20260115*0930*{control}*X*{version}"]
    for segs in transactions:
        segments += list(segs)
    segments.append(f"GE*{len(transactions) if ge_count is None else ge_count}*{control}")
    return segments


def isa_segment(
    control: str = "000000101",
    element: str = "*",
    repetition: str = "^",
    component: str = ":",
) -> str:
    """A fixed-width ISA (106 characters with its terminator) without the terminator."""
    fields = [
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SUBMITTER01".ljust(15), "ZZ", "RECEIVER01".ljust(15),
        "260115", "0930", repetition, "00501", control, "0", "T", component,
    ]
    text = element.join(fields)
    assert len(text) == 105
    return text


def interchange(
    groups: Sequence[Sequence[str]],
    control: str = "000000101",
    *,
    element: str = "*",
    component: str = ":",
    repetition: str = "^",
    terminator: str = "~",
    newline: str = "\n",
    iea: bool = True,
    iea_count: int | None = None,
) -> str:
    """ISA + groups + IEA, as text with the given delimiters; ``newline`` follows every terminator."""
    table = str.maketrans({"*": element, ":": component, "^": repetition})
    segments = [isa_segment(control, element, repetition, component)]
    for segs in groups:
        segments += [segment.translate(table) for segment in segs]
    if iea:
        segments.append(f"IEA{element}{len(groups) if iea_count is None else iea_count}{element}{control}")
    return "".join(segment + terminator + newline for segment in segments)


def x12(body: Sequence[str], *, version: str = "005010X222A1", with_billing: bool = False, **options) -> str:
    """One ISA/GS/ST around ``body`` (prefixed by :func:`billing` when ``with_billing``)."""
    segments = (billing() if with_billing else []) + list(body)
    return interchange([group([transaction(segments, version=version)], version=version)], **options)


def batch(body: Sequence[str], **options) -> str:
    """The usual file: billing provider + ``body`` in one ISA/GS/ST."""
    return x12(body, with_billing=True, **options)


# --- reading and counting ----------------------------------------------------------------------


def read_text(text: str | bytes, file: str = "test.837") -> tuple[list[Claim], list[ParseIssue]]:
    data = text.encode("latin-1") if isinstance(text, str) else text
    items = list(read(io.BytesIO(data), file))
    for item in items:
        assert isinstance(item, (Claim, ParseIssue)), item
    return [i for i in items if isinstance(i, Claim)], [i for i in items if isinstance(i, ParseIssue)]


def unreadable(issues: Iterable[ParseIssue]) -> list[ParseIssue]:
    return [issue for issue in issues if issue.unreadable_claim]


def segments_of(text: str, terminator: str = "~") -> list[str]:
    """Independent tokenizer: the non-blank segments of ``text`` (one interchange's terminator)."""
    return [piece.strip() for piece in text.split(terminator) if piece.strip()]


def segment_index(text: str, prefix: str, occurrence: int = 1, terminator: str = "~") -> int:
    """1-based index (ISA = 1) of the ``occurrence``-th segment starting with ``prefix``."""
    seen = 0
    for position, segment in enumerate(segments_of(text, terminator), start=1):
        if segment.startswith(prefix):
            seen += 1
            if seen == occurrence:
                return position
    raise AssertionError(f"no segment {prefix!r} #{occurrence}")


def count_clm(text: str, terminator: str = "~", element: str = "*") -> int:
    return sum(1 for segment in segments_of(text, terminator) if segment.split(element)[0] == "CLM")


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real command line, as CI runs it: ``python -m scrubber ...``; never a traceback on stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "scrubber", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=timeout,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def write_file(tmp_path: Path):
    """``write_file(name, text_or_bytes)`` → a path under tmp_path."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_bytes(content.encode("latin-1"))
        else:
            path.write_bytes(content)
        return path

    return write


# --- generated streams (laziness and memory tests) ------------------------------------------------


def repeated_claim_parts(count: int | None, claim_block: Sequence[str] | None = None) -> tuple[bytes, bytes, bytes]:
    """(head, block, tail) of a file whose one ST holds ``claim_block`` ``count`` times under one subscriber.

    SE01 is right for ``count`` blocks (for ``None``, an endless stream, it is never reached).
    """
    block_segments = list(claim_block or claim("X1"))
    placeholder = "@@BLOCKS@@"
    body = billing() + subscriber(2) + [placeholder]
    segments = transaction(body, se_count=0)
    se_count = len(segments) - 1 + len(block_segments) * (count or 0)
    segments[-1] = f"SE*{se_count}*0001"
    text = interchange([group([segments])])
    head, tail = text.split(placeholder + "~\n")
    block = "".join(segment + "~\n" for segment in block_segments)
    return head.encode(), block.encode(), tail.encode()


class GeneratedStream:
    """A read-only binary stream made on demand: head, ``count`` blocks (endless for None), tail.

    ``consumed`` counts the bytes handed out, so a test can tell how far a reader has read; past ``limit``
    bytes ``read`` raises AssertionError, so an eager reader fails a test instead of hanging it.
    """

    def __init__(self, head: bytes, block: bytes, count: int | None, tail: bytes, limit: int | None = None):
        self.consumed = 0
        self.limit = limit  # fail (rather than hang) when a reader reads further than this
        self._pending = b""
        self._parts = self._generate(head, block, count, tail)

    @staticmethod
    def _generate(head: bytes, block: bytes, count: int | None, tail: bytes):
        yield head
        produced = 0
        while count is None or produced < count:
            yield block
            produced += 1
        yield tail

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 30
        while len(self._pending) < size:
            part = next(self._parts, None)
            if part is None:
                break
            self._pending += part
        chunk, self._pending = self._pending[:size], self._pending[size:]
        self.consumed += len(chunk)
        if self.limit is not None and self.consumed > self.limit:
            raise AssertionError(f"read {self.consumed} bytes: the reader is not streaming")
        return chunk
