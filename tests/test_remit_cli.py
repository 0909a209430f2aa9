"""``scrubber remit``, run for real (``python -m scrubber``)."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, run_cli

SAMPLES = ROOT / "fixtures" / "835" / "samples"
PAIRED = ROOT / "fixtures" / "paired"
ERAS = [str(PAIRED / "era-1.835"), str(PAIRED / "era-2.835")]


def remit(*args: str):
    result = run_cli("remit", *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_remit_on_the_shared_samples():
    result = remit(str(SAMPLES))
    assert result.returncode == 0, result.stderr
    for claim_id in ("0001000055", "666123", "777777", "5554555444", "8765432112", "L0004828311", "0001000053", "0001000054"):
        assert f"claim {claim_id} " in result.stdout
    assert "6 file(s), 10 claim payment(s)" in result.stdout
    assert "UNKNOWN" not in result.stdout  # every code on the samples is in our table
    assert "BPR16 '20002316'" in result.stdout  # the one bad value, reported as a warning


def test_remit_json_classifies_every_adjustment():
    result = remit(*ERAS, "--format", "json")
    assert result.returncode == 0
    document = json.loads(result.stdout)
    assert len(document["payments"]) == 19 and len(document["remittances"]) == 3  # era-1 holds two ST/SE
    p01 = document["payments"][0]
    assert (p01["claim_id"], p01["segment"], p01["status_text"]) == ("P01", 10, "processed as primary")
    (lab,) = [adj for adj in p01["adjustments"] if adj["code"] == "CO-111"]
    fields = ("level", "line", "procedure", "amount", "action", "patient_billable", "kind", "known")
    assert {key: lab[key] for key in fields} == {
        "level": "line", "line": 2, "procedure": "80053", "amount": 80.0, "action": "correct and resubmit",
        "patient_billable": False, "kind": "denial", "known": True,
    }
    # N95 is about the provider type or specialty, not assignment (the fixture pairs it with CO-111).
    assert p01["remarks"][0]["code"] == "N95" and "type or specialty" in p01["remarks"][0]["meaning"]
    (x99,) = [p for p in document["payments"] if p["claim_id"] == "X99"]
    b7 = [adj for adj in x99["adjustments"] if adj["code"] == "CO-B7"][0]
    assert (b7["known"], b7["action"], b7["who_pays"], b7["retired"]) == (True, "correct and resubmit", "provider", False)
    assert "certification or eligibility" in b7["meaning"]
    # By action, reversals netted (P13's first payment and its reversal are left out): worked out in
    # fixtures/paired/make_paired.py's amounts, e.g. write off = CO-45 and CO-253 and CO-121 and CO-122 ones.
    # CO-21 (200 + 200 + 90) is "bill other payer"; CO-B7 (20) is known now: "correct and resubmit".
    assert document["summary"]["by_action"] == {
        "write off": 247.28, "bill patient": 128.0, "correct and resubmit": 630.0, "appeal": 0.0,
        "bill other payer": 490.0, "none": 200.0, "unknown": 0.0,
    }
    assert document["summary"]["unknown_codes"] == []
    (plb,) = document["remittances"][1]["provider_adjustments"]
    assert (plb["reason"], plb["reference"], plb["amount"]) == ("L6", "INTEREST", -2.5)


def test_remit_exit_status(tmp_path):
    assert remit(str(tmp_path / "missing.835")).returncode == 2
    broken = tmp_path / "broken.835"
    broken.write_bytes((PAIRED / "era-1.835").read_bytes().replace(b"CLP*P06*4*200.00", b"CLP*P06*4*ABC"))
    result = remit(str(broken))
    assert result.returncode == 1
    assert "claim P06: 2100 CLP: CLP03 'ABC' is not a number" in result.stdout


def test_remit_output_file(tmp_path):
    out = tmp_path / "remit.json"
    result = remit(ERAS[0], "--format", "json", "--output", str(out))
    assert result.returncode == 0 and result.stdout == ""
    assert json.loads(out.read_text())["summary"]["payments"] == 16


@pytest.mark.parametrize("command", ["remit", "backtest", "report"])
def test_help(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0 and "usage" in result.stdout
