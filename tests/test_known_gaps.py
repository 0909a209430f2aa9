"""Known reader-integrity gaps, pinned as strict xfails: each test states what must hold, fails today, and
turns into an error (XPASS) the day the gap is closed, so the marker cannot outlive the fix."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from scrubber.model import Adjustment, Claim, LineAdjudication
from scrubber.readers.x12_837p import read
from scrubber.writers.x12_837p import write

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def secondary_claim(tmp_path_factory) -> tuple[Claim, list[Claim]]:
    path = tmp_path_factory.mktemp("gaps") / "batch.837"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate_837p.py"), "200", str(path), "--seed", "11"],
                   check=True, capture_output=True)
    with open(path, "rb") as stream:
        claims = [item for item in read(stream, str(path)) if isinstance(item, Claim)]
    found = next(claim for claim in claims if claim.other_payers and claim.lines[0].adjudications)
    return found, [claim for claim in claims if claim is not found][:3]


@pytest.mark.xfail(strict=True, reason="a lost 2430 SVD after an adjudication without CAS/DTP lets the next payer's "
                   "CAS and DTP*573 attach to it; telling them apart needs SVD02 + CAS = SV102 balancing in the reader")
def test_a_lost_svd_never_gives_one_payers_adjustments_to_another(secondary_claim):
    secondary_claim, others = secondary_claim
    line = secondary_claim.lines[0]
    first = LineAdjudication(payer_id="PAYERA", paid=line.charge, procedure=line.procedure, units=line.units)
    second = LineAdjudication(
        payer_id="PAYERB", paid=Decimal("0"), procedure=line.procedure, units=line.units,
        adjustments=(Adjustment(group="CO", reason="45", amount=line.charge),), adjudication_date=dt.date(2025, 5, 1),
    )
    claim = secondary_claim.model_copy(update={"lines": (line.model_copy(update={"adjudications": (first, second)}), *secondary_claim.lines[1:])})
    # the claim first, others after it: the SE01 count broken by the lost segment must not be what catches it
    segments = write([claim, *others], date=dt.datetime(2025, 6, 1, 12, 0)).split("~")
    svds = [i for i, segment in enumerate(segments) if segment.strip().startswith("SVD*PAYERB")]
    assert len(svds) == 1
    del segments[svds[0]]
    items = list(read(io.BytesIO("~".join(segments).encode("latin-1")), "gap.837"))
    for item in items:
        if isinstance(item, Claim) and item.claim_id == claim.claim_id:
            adjudications = item.lines[0].adjudications
            assert [a.payer_id for a in adjudications] == ["PAYERA"]
            assert adjudications[0].adjustments == () and adjudications[0].adjudication_date is None
