"""Every finding of every bundled rule points at the element the rule tested, in real X12.

Each flag case of each bundled rule is written as an 837P, read back and checked with the rule alone. Each
finding must name a segment of that file whose tag is the one the finding says (``NM1*85``); when the
element is present, that segment is the element map's segment for it and holds a value at the element's
position; when it is missing, the claim really has no value there.
"""

from __future__ import annotations

import io

import pytest

from scrubber.engine import make_engine
from scrubber.findings import Finding
from scrubber.model import Claim
from scrubber.pipeline import Scrubber
from scrubber.profiles import load_profiles
from scrubber.readers.x12_837p import read
from scrubber.readers.x12_tokens import Segment, iter_segments
from scrubber.rules import load_rules
from scrubber.rules.testing import build_case_claim, case_tables
from scrubber.writers.x12_837p import write

RULES = load_rules()
CASES = [(rule, case) for rule in RULES for case in rule.cases if case.expect == "flag"]


def _tag(segment: Segment) -> str:
    qualified = {"NM1", "REF", "DTP", "AMT", "PRV"}
    return f"{segment.id}*{segment.get(1)}" if segment.id in qualified else segment.id


def _findings(rule, claim: Claim, tables: dict | None = None, before: list[Claim] = ()) -> tuple[list[Finding], dict[int, Segment], Claim]:
    text = write([*before, claim], date=claim.batch_date)
    segments = {t.index: t for t in iter_segments(io.BytesIO(text.encode())) if isinstance(t, Segment)}
    read_back = [item for item in read(io.BytesIO(text.encode()), "case.837") if isinstance(item, Claim)][-1]
    scrubber = Scrubber([rule], make_engine([rule], "python", tables), profiles=load_profiles(), tables=tables)
    return scrubber.check([read_back])[0], segments, read_back


@pytest.mark.parametrize(("rule", "case"), CASES, ids=[f"{rule.id}::{case.name}" for rule, case in CASES])
def test_each_finding_points_at_its_element(rule, case, tmp_path):
    before = [build_case_claim(other) for other in case.batch]
    findings, segments, claim = _findings(rule, build_case_claim(case.claim), case_tables(case, str(tmp_path)), before)
    assert findings, "a flag case flags"
    row = rule.element_row
    for finding in findings:
        assert finding.element == row.name and finding.loop == row.loop
        assert finding.segment is not None, finding.where()
        segment = segments[finding.segment]
        assert _tag(segment) == finding.segment_id, f"{finding.where()}: segment {finding.segment} is {_tag(segment)}"
        if finding.present:
            assert finding.segment_id == row.segment
            value = segment.get(row.position)
            if row.component is not None:
                value = value.split(":")[row.component - 1] if value else ""
            assert value, f"{finding.where()}: no value at {row.name}"
        elif finding.segment_id == row.segment:  # the segment is there, the element empty
            value = segment.get(row.position)
            if row.component is not None and value:
                parts = value.split(":")
                value = parts[row.component - 1] if row.component <= len(parts) else ""
            assert not value, f"{finding.where()} says empty but {row.name} is {value!r}"


def test_every_bundled_rule_has_a_flag_case_here():
    assert {rule.id for rule, _ in CASES} == {rule.id for rule in RULES}


def test_invalid_npi_points_at_the_billing_provider_nm1():
    """The issue's measurement: invalid-npi pointed at the CLM (21) instead of the NM1*85 (10)."""
    rule = next(rule for rule in RULES if rule.id == "invalid-npi")
    claim = build_case_claim({"billing_provider": {"npi": "1234567890"}})
    (finding,), segments, _ = _findings(rule, claim)
    assert finding.segment_id == "NM1*85" and finding.element == "NM109" and finding.present
    assert segments[finding.segment].get(9) == "1234567890"


def test_missing_element_points_at_its_record():
    """REF*G1 missing on a line: the finding points at that line's LX, and says the element is missing."""
    rule = next(rule for rule in RULES if rule.id == "behavioral-health-prior-auth-missing")
    case = next(case for case in rule.cases if case.expect == "flag")
    findings, segments, claim = _findings(rule, build_case_claim(case.claim))
    for finding in findings:
        assert not finding.present and finding.segment_id == "LX"
        assert segments[finding.segment].get(1) == str(finding.line)
        assert "missing" in finding.where()
