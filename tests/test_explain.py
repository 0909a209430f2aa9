"""`scrubber explain` for each seed denial code and for rules; `scrubber rules --format json`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scrubber.explain import explain
from scrubber.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]
RULES = load_rules()


@pytest.mark.parametrize("code", ["CO-111", "CO-21", "CO-23", "CO-122", "CO-121"])
def test_each_seed_code_is_explained_with_who_pays_what_to_do_and_its_rules(code):
    text = explain(code, RULES)
    assert text is not None
    for part in ("What it means:", "Who pays:", "What to do:", "Bill the patient?", "Rules that predict it"):
        assert part in text, part
    predicting = [rule.id for rule in RULES if code in (rule.carc, *rule.derived_from)]
    assert predicting and all(rule_id in text for rule_id in predicting)
    assert "(flags)" in text and "(passes)" in text


@pytest.mark.parametrize(
    ("code", "correction"),
    [("CO-122", "CARC 253"), ("CO-23", "only with group OA"), ("CO-121", "remittance side")],
)
def test_the_design_corrections_are_stated(code, correction):
    assert correction in explain(code, RULES)


def test_a_rule_is_explained_with_its_sources_and_every_case():
    rule = next(rule for rule in RULES if rule.id == "timely-filing-limit-passed")
    text = explain(rule.id, RULES)
    assert "derived from CO-121" in text
    assert all(source in text for source in rule.sources)
    assert all(case.name in text for case in rule.cases)


def test_unknown_code_is_not_guessed():
    assert explain("CO-999", RULES) is None


def test_rules_json_lists_the_documented_fields():
    done = subprocess.run([sys.executable, "-m", "scrubber", "rules", "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT)
    listing = json.loads(done.stdout)
    assert len(listing) == len(RULES)
    for entry in listing:
        assert {"id", "name", "carc", "severity", "status", "sources"} <= set(entry)
        assert entry["sources"]


# --- remark codes, bare CARCs, retired and unknown codes --------------------------------------------


def test_n95_is_the_provider_type_remark_not_assignment():
    text = explain("N95", RULES)
    meaning = text.split("What it means:", 1)[1].split("\n\n", 1)[0]
    assert "provider of this type or specialty" in meaning and "assign" not in meaning
    assert "Status:            active in the X12 list (as of 2026-08-17)" in text
    assert explain("n95", RULES) == text  # codes are not case sensitive


def test_n479_asks_for_the_other_payers_explanation_of_benefits():
    text = explain("N479", RULES)
    assert "explanation of benefits from another payer" in text and "N305" in text
    assert "accident" not in text.split("What it means:", 1)[1].split("\n\n", 1)[0]


@pytest.mark.parametrize(
    ("code", "date"), [("CO-A2", "2008-01-01"), ("OA-A7", "2015-07-01"), ("A2", "2008-01-01"), ("M33", "2004-08-01")]
)
def test_a_retired_code_says_so_with_its_stop_date(code, date):
    text = explain(code, RULES)
    assert "Retired:           X12 deactivated this" in text and f"on {date}" in text
    assert "(retired)" in text.splitlines()[0]


def test_a_retired_code_without_a_sourced_date_still_says_retired():
    text = explain("CO-165", RULES)
    assert "X12 deactivated this code (date not in our sources)" in text


def test_ma02_is_an_active_appeal_rights_alert():
    text = explain("MA02", RULES)
    assert text.startswith("MA02: remittance advice alert") and "appeal" in text and "Retired" not in text


def test_a_bare_carc_is_explained_under_each_group_code():
    text = explain("27", RULES)
    assert text.startswith("CARC 27: Expenses after coverage ended")
    assert "  PR-27    patient share; who pays: patient; what to do: bill patient; bill the patient? yes" in text
    assert "  CO-27    denial; who pays: provider; what to do: correct and resubmit; bill the patient? no" in text
    assert explain("97", RULES).startswith("CARC 97: ")
    # A bare CARC finds the rules predicting it under any group.
    assert "ncci-ptp-pair" in explain("97", RULES)


def test_a_remark_the_rules_list_names_those_rules():
    text = explain("MA04", RULES)
    naming = [rule.id for rule in RULES if "MA04" in rule.rarc]
    assert naming and all(rule_id in text for rule_id in naming)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("CO-999", "CARC 999 is not in the X12 claim adjustment reason code list we ship (as of 2026-08-17"),
        ("999", "CARC 999 is not in the X12 claim adjustment reason code list we ship (as of 2026-08-17"),
        ("N999", "remark code N999 is not in the X12 remark code list we ship (904 codes of the X12 list as of 2026-08-17"),
        ("XX-45", "'XX' is not a claim adjustment group code"),
        ("no-such-rule", "is neither a rule id nor a denial or remark code"),
    ],
)
def test_an_unknown_code_is_a_usage_error_naming_the_list_date(name, message):
    assert explain(name, RULES) is None or name == "XX-45"
    done = subprocess.run([sys.executable, "-m", "scrubber", "explain", name], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    if name == "XX-45":  # a known CARC under a made-up group: explained from the CARC, group unknown
        assert done.returncode == 0 and "'XX' is not a claim adjustment group code" in done.stdout
        return
    assert done.returncode == 2 and message in done.stderr and done.stdout == ""


def test_explain_on_the_command_line_takes_remark_codes():
    done = subprocess.run([sys.executable, "-m", "scrubber", "explain", "N95"], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    assert done.returncode == 0 and done.stdout.startswith("N95: remittance advice remark code")
