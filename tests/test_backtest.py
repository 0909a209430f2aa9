"""The backtest on the paired fixtures: numbers worked out by hand from fixtures/paired/README.md.

The rule set is pinned to the rules the fixtures were designed for, so rules added later cannot move
the numbers without this test saying so.
"""

from __future__ import annotations

import importlib.util
import json
from decimal import Decimal

import pytest

from conftest import ROOT, run_cli

from scrubber.api import build_scrubber
from scrubber.model.remit import ClaimPayment
from scrubber.remit.backtest import Signature, denied_amount, rule_signatures, run_backtest
from scrubber.remit.classify import load_table
from scrubber.remit.match import ClaimMatch
from scrubber.rules.testing import build_case_claim

PAIRED = ROOT / "fixtures" / "paired"
CLAIMS = PAIRED / "claims.837"
REMITS = [PAIRED / "era-1.835", PAIRED / "era-2.835"]
RULES = [
    "unassigned-mandatory-assignment-service",
    "lab-only-assignment-on-non-lab-service",
    "unassigned-dual-eligible",
    "unassigned-mandatory-practitioner",
    "missing-assignment-indicator",
    "auto-accident-billed-to-health-plan",
    "auto-accident-billed-to-health-plan-tort-state",
    "secondary-claim-without-prior-payer",
    "prior-payer-paid-amount-missing",
    "prior-payer-adjudication-date-missing",
    "line-without-prior-adjudication",
]
FIELDS = ("flagged", "denied", "hits", "false_alarms", "misses", "precision", "recall", "dollars_caught")

# Matched claims: P01-P14 and P16 (P14 twice: two claims share the id) = 16; P15 has no remittance, X99 no claim.
#
# CO-111 counts CO-111, and CO-16 with MA130 (declared by missing-assignment-indicator):
#   flagged  P01 P02 P13 (unassigned lab line) + P04 (CLM07 empty)        = 4   (P15 unmatched: not counted)
#   denied   P01 (CO-111 80), P03 (CO-111 150), P04 (CO-16 + MA130 100)      = 3   (P05: CO-16 + M51 does not count;
#            P13's CO-111 was reversed and the claim paid; X99 unmatched)
#   hits P01 P04 = 2 ($80 + $100 = 180); false alarms P02 P13 = 2; misses P03 = 1; precision 2/4, recall 2/3
# CO-21 counts CO-21:
#   flagged  P06 (NY) P07 (FL) P14-of-01-05 (NY) + P08 (CA, tort-state warning) = 4
#   denied   P06 (200), P09 (200), P14-of-01-20 (90)                              = 3
#   hits P06 = 1 ($200); false alarms P07 P08 P14-of-01-05 = 3; misses P09 P14-of-01-20 = 2; 1/4, 1/3
#   (pairing the P14 payments the wrong way round would turn a false alarm and a miss into a hit)
# CO-23 counts CO-23, OA-23, CO-16 with MA04, CO-22:
#   flagged  P10 P11 = 2; denied P10 (CO-16 + MA04, 100), P11 (OA-23 120, paid 0) = 2
#   (P12 carries OA-23 but was paid: no denial)      hits 2 ($220), no false alarm, no miss: 1/1, 1/1
EXPECTED_CODES = {
    "CO-111": (4, 3, 2, 2, 1, 0.5, 0.6667, 180.0),
    "CO-21": (4, 3, 1, 3, 2, 0.25, 0.3333, 200.0),
    "CO-23": (2, 2, 2, 0, 0, 1.0, 1.0, 220.0),
}
# Per rule, "denied" uses the rule's own codes, so every CO-111 rule sees the CO-111 denials P01 and P03.
EXPECTED_RULES = {
    # flagged P01 P02 P13; denied P01 P03; hit P01 ($80); false alarms P02 P13; miss P03
    "unassigned-mandatory-assignment-service": (3, 2, 1, 2, 1, 0.3333, 0.5, 80.0),
    # flagged P04; denied P01 P03 P04 (CO-16 + MA130 counts for it); hit P04 ($100); misses P01 P03
    "missing-assignment-indicator": (1, 3, 1, 0, 2, 1.0, 0.3333, 100.0),
    "lab-only-assignment-on-non-lab-service": (0, 2, 0, 0, 2, None, 0.0, 0.0),
    "unassigned-dual-eligible": (0, 2, 0, 0, 2, None, 0.0, 0.0),
    "unassigned-mandatory-practitioner": (0, 2, 0, 0, 2, None, 0.0, 0.0),
    # flagged P06 P07 P14-of-01-05; denied P06 P09 P14-of-01-20; hit P06 ($200)
    "auto-accident-billed-to-health-plan": (3, 3, 1, 2, 2, 0.3333, 0.3333, 200.0),
    # flagged P08 (paid); the three CO-21 denials are its misses
    "auto-accident-billed-to-health-plan-tort-state": (1, 3, 0, 1, 3, 0.0, 0.0, 0.0),
    # flagged P10 P11, both denied with its declared remit codes ($100 + $120)
    "secondary-claim-without-prior-payer": (2, 2, 2, 0, 0, 1.0, 1.0, 220.0),
    "prior-payer-paid-amount-missing": (0, 2, 0, 0, 2, None, 0.0, 0.0),
    "prior-payer-adjudication-date-missing": (0, 2, 0, 0, 2, None, 0.0, 0.0),
    "line-without-prior-adjudication": (0, 2, 0, 0, 2, None, 0.0, 0.0),
}


def _load_fixture_script():
    spec = importlib.util.spec_from_file_location("make_paired", PAIRED / "make_paired.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_fixtures_are_what_the_script_writes(tmp_path):
    written = _load_fixture_script().build(tmp_path)
    assert sorted(path.name for path in written) == ["claims.837", "era-1.835", "era-2.835"]
    for path in written:
        assert path.read_bytes() == (PAIRED / path.name).read_bytes(), f"run fixtures/paired/make_paired.py ({path.name})"


@pytest.fixture(scope="module")
def result():
    scrubber = build_scrubber(select=RULES)
    assert sorted(scrubber.rules) == sorted(RULES)
    return run_backtest([CLAIMS], REMITS, scrubber)


def _row(stats) -> tuple:
    data = stats.to_dict()
    return tuple(data[field] for field in FIELDS)


def test_fixtures_read_cleanly(result):
    assert result.claims.issues == [] and result.remits.issues == []
    assert (len(result.claims.claims), len(result.remits.payments)) == (17, 19)


def test_backtest_by_denial_code(result):
    assert {code: _row(stats) for code, stats in result.codes.items()} == EXPECTED_CODES


def test_backtest_by_rule(result):
    assert {rule: _row(stats) for rule, stats in result.rules.items()} == EXPECTED_RULES


def test_matching_on_the_fixtures(result):
    matching = result.matching
    assert len(matching.matches) == 16
    assert [c.claim_id for c in matching.unmatched_claims] == ["P15"]
    assert [p.claim_id for p in matching.unmatched_payments] == ["X99"]
    (p13,) = [m for m in matching.matches if m.claim.claim_id == "P13"]
    assert [p.status for p in p13.payments] == ["1", "22", "1"] and p13.effective == [p13.payments[2]]
    assert p13.net_paid == Decimal("114.00")
    p14 = {m.claim.total_charge: m.payments[0].paid for m in matching.matches if m.claim.claim_id == "P14"}
    assert p14 == {Decimal("150"): Decimal("100.00"), Decimal("90"): Decimal("0.00")}
    (p01,) = [m for m in matching.matches if m.claim.claim_id == "P01"]
    assert [(lm.claim_line.number, lm.by) for lm in p01.lines] == [(1, "REF*6R"), (2, "REF*6R")]
    assert not any(m.ambiguous for m in matching.matches) and matching.notes == []


def test_dollars_denied(result):
    # CO-111: P01 80 + P03 150 + P04 100; CO-21: P06 200 + P09 200 + P14 90.
    assert result.codes["CO-111"].dollars_denied == Decimal("330.00")
    assert result.codes["CO-21"].dollars_denied == Decimal("490.00")


# --- what counts as "denied with" ----------------------------------------------------------------


def _match(*adjustments: tuple[str, str, str], paid: str = "0", remarks: tuple[str, ...] = ()) -> ClaimMatch:
    claim = build_case_claim({"claim_id": "C1"})
    charge = Decimal("100")
    payment = ClaimPayment.model_validate({
        "claim_id": "C1", "status": "1", "charge": charge, "paid": paid,
        "lines": [{"procedure": "99213", "charge": charge, "paid": paid, "remarks": list(remarks),
                   "adjustments": [{"group": g, "reason": r, "amount": a} for g, r, a in adjustments]}],
    })
    return ClaimMatch(claim, [payment], [payment])


def test_a_denial_code_counts_whenever_it_is_carried():
    sig = [Signature("CO-111")]
    assert denied_amount(_match(("CO", "111", "100")), sig, load_table()) == Decimal("100")
    assert denied_amount(_match(("CO", "111", "30"), ("CO", "45", "10"), paid="60"), sig, load_table()) == Decimal("30")
    assert denied_amount(_match(("CO", "45", "100")), sig, load_table()) is None


def test_an_informational_code_counts_only_when_it_left_the_line_unpaid():
    sig = [Signature("OA-23")]
    assert denied_amount(_match(("OA", "23", "100")), sig, load_table()) == Decimal("100")
    assert denied_amount(_match(("OA", "23", "80"), paid="20"), sig, load_table()) is None


def test_a_code_that_needs_a_remark_counts_only_with_the_rules_remark():
    rules = {rule.id: rule for rule in build_scrubber(select=["secondary-claim-without-prior-payer"]).rules.values()}
    sigs = rule_signatures(rules["secondary-claim-without-prior-payer"], load_table())
    assert Signature("CO-16", frozenset({"MA04"})) in sigs and Signature("OA-23") in sigs
    assert denied_amount(_match(("CO", "16", "100"), remarks=("MA04",)), sigs, load_table()) == Decimal("100")
    assert denied_amount(_match(("CO", "16", "100"), remarks=("M51",)), sigs, load_table()) is None


# --- the command line ----------------------------------------------------------------------------


def _backtest_cli(*extra: str):
    select = ",".join(RULES)
    return run_cli("backtest", "--claims", str(CLAIMS), "--remits", *map(str, REMITS), "--select", select, *extra)


def test_backtest_json_has_the_agreed_shape_and_numbers():
    result = _backtest_cli("--format", "json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    document = json.loads(result.stdout)
    for section, expected in (("codes", EXPECTED_CODES), ("rules", EXPECTED_RULES)):
        assert {name: tuple(row[f] for f in FIELDS) for name, row in document[section].items()} == expected
    assert document["codes"]["CO-23"]["counts"] == ["CO-23", "OA-23", "CO-16 with MA04", "CO-22"]
    assert document["matching"]["unmatched_claims"][0]["claim_id"] == "P15"
    assert document["matching"]["unmatched_payments"][0]["claim_id"] == "X99"
    assert document["matching"]["reversals"] == 1


def test_backtest_text():
    result = _backtest_cli()
    assert result.returncode == 0 and "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    (co111,) = [line for line in lines if line.startswith("CO-111 ")]
    assert co111.split() == ["CO-111", "4", "3", "2", "2", "1", "0.50", "0.67", "180.00"]
    assert "no remittance for claim P15" in result.stdout and "no claim for payment X99" in result.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (["--claims", "missing.837", "--remits", "fixtures/paired/era-1.835"], "no claim could be read"),
        (["--claims", "fixtures/paired/claims.837", "--remits", "missing.835"], "no claim payment could be read"),
        (["--claims", "fixtures/paired/claims.837", "--remits", "fixtures/paired/era-1.835", "--select", "NOPE"], "match no rule"),
    ],
)
def test_backtest_usage_errors_exit_2_without_a_traceback(args, words):
    result = run_cli("backtest", *args)
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr


def test_backtest_reads_claims_and_remits_that_are_broken_without_a_traceback(tmp_path):
    broken = tmp_path / "broken.835"
    broken.write_bytes((PAIRED / "era-1.835").read_bytes().replace(b"CLP*P06*4*200.00", b"CLP*P06*4*ABC"))
    result = run_cli("backtest", "--claims", str(CLAIMS), "--remits", str(broken), "--format", "json")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    document = json.loads(result.stdout)
    assert any(error["claim_id"] == "P06" and "CLP03 'ABC'" in error["message"] for error in document["errors"])


def test_the_readme_table_is_what_the_command_prints():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("<!-- backtest-example -->"):]
    command = section.split("```bash\n", 1)[1].split("\n```", 1)[0].split()
    assert command[0] == "scrubber"
    rows = [line for line in section.split("\n\n", 2)[1].splitlines() if line.startswith("| CO-")]
    result = run_cli(*command[1:], "--format", "json")
    assert result.returncode == 0, result.stderr
    codes = json.loads(result.stdout)["codes"]
    assert len(rows) == len(codes)
    for row in rows:
        code, *cells = [cell.strip() for cell in row.strip("|").split("|")]
        stats = codes[code]
        printed = [str(stats[f]) for f in ("flagged", "denied", "hits", "false_alarms", "misses")]
        printed += [f"{stats[f]:.2f}" if stats[f] is not None else "-" for f in ("precision", "recall", "dollars_caught")]
        assert cells == printed, code
