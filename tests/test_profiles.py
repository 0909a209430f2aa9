"""Payer profiles change behaviour: prior-auth requirements, filing limits, disabled rules, severities, opt-in rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scrubber.api import build_scrubber
from scrubber.profiles import ProfileLoadError, load_profiles
from scrubber.rules.testing import build_case_claim
from scrubber.writers.x12_837p import write

ROOT = Path(__file__).resolve().parents[1]


def profile_file(tmp_path, **fields):
    data = {"id": "acme-health", "name": "Acme Health", "match": {"payer_ids": ["ACME1"]}, **fields}
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def findings(claim, profiles=None, **kw):
    report = build_scrubber(profiles=profiles, **kw).run([claim])
    (result,) = [event for event in report if hasattr(event, "findings")]
    return {(f.rule, f.severity) for f in result.findings}


PSYCHOTHERAPY = {"payer": {"payer_id": "ACME1", "filing_indicator": "CI"}, "diagnoses": [{"code": "F329", "qualifier": "ABK"}],
                 "lines": [{"procedure": "90837"}]}


def test_bundled_profiles_cite_their_filing_limits():
    profiles = load_profiles()
    assert {p.id for p in profiles.profiles} >= {"medicare-part-b", "medicaid", "commercial", "tricare", "veterans-affairs"}
    limits = {p.id: (p.timely_filing_days, p.timely_filing_months) for p in profiles.profiles}
    assert limits["medicare-part-b"] == (None, 12) and limits["tricare"] == (None, 12) and limits["commercial"] == (90, None)
    assert limits["veterans-affairs"] == (180, None)
    assert limits["medicare-advantage"] == limits["auto-insurance"] == (None, None)  # the contract or the state decides
    for profile in profiles.profiles:
        if profile.timely_filing_days or profile.timely_filing_months:
            assert profile.timely_filing_source.strip()
    # each filing indicator is covered by one profile at most
    indicators = [code for p in profiles.profiles for code in p.match.filing_indicators]
    assert len(indicators) == len(set(indicators))


@pytest.mark.parametrize(
    ("service", "months", "deadline"),
    [
        ("2024-01-15", 12, "2025-01-15"),  # 366 days: 2024 holds February 29
        ("2025-01-15", 12, "2026-01-15"),  # 365 days
        ("2024-02-29", 12, "2025-02-28"),  # no February 29 in 2025: the month's last day
        ("2025-08-31", 6, "2026-02-28"),
    ],
)
def test_filing_deadline_in_calendar_months(service, months, deadline):
    import datetime as dt

    from scrubber.profiles import PayerProfile, filing_deadline

    profile = PayerProfile(id="p", name="p", match={"filing_indicators": ["CI"]}, timely_filing_months=months, timely_filing_source="s")
    assert filing_deadline(dt.date.fromisoformat(service), profile) == dt.date.fromisoformat(deadline)


def test_a_limit_is_in_days_or_months_not_both():
    from scrubber.profiles import PayerProfile

    with pytest.raises(ValueError, match="not both"):
        PayerProfile(id="p", name="p", match={"filing_indicators": ["CI"]}, timely_filing_days=90, timely_filing_months=3, timely_filing_source="s")


def test_payer_id_match_wins_over_filing_indicator(tmp_path):
    profiles = load_profiles([profile_file(tmp_path)])
    assert profiles.for_claim(build_case_claim(PSYCHOTHERAPY)).id == "acme-health"
    other = build_case_claim({"payer": {"payer_id": "OTHER", "filing_indicator": "CI"}})
    assert profiles.for_claim(other).id == "commercial"
    assert profiles.for_claim(build_case_claim({"payer": {"payer_id": "X", "filing_indicator": None}})) is None


def test_a_profile_requiring_behavioral_health_auth_makes_the_rule_fire(tmp_path):
    claim = build_case_claim(PSYCHOTHERAPY)
    assert ("behavioral-health-prior-auth-missing", "error") not in findings(claim)
    user = profile_file(tmp_path, behavioral_health_prior_auth=True)
    assert ("behavioral-health-prior-auth-missing", "error") in findings(claim, [user])


def test_a_profile_filing_limit_changes_timely_filing(tmp_path):
    claim = build_case_claim({**PSYCHOTHERAPY, "diagnoses": [{"code": "F329", "qualifier": "ABK"}],
                              "batch_date": "2026-02-20", "lines": [{"procedure": "90837", "service_date": "2026-01-10"}]})
    # 41 days old: fine under the commercial 90-day default, late under a 30-day contract.
    assert not any(rule.startswith("timely") for rule, _ in findings(claim))
    user = profile_file(tmp_path, timely_filing_days=30, timely_filing_source="Acme provider agreement §4.2")
    assert ("timely-filing-limit-passed", "error") in findings(claim, [user])


def test_disable_and_severity_change(tmp_path):
    claim = build_case_claim({**PSYCHOTHERAPY, "lines": [{"procedure": "90785"}]})
    assert ("psychotherapy-addon-without-primary", "error") in findings(claim)
    lowered = profile_file(tmp_path, severity={"psychotherapy-addon-without-primary": "warning"})
    assert ("psychotherapy-addon-without-primary", "warning") in findings(claim, [lowered])
    disabled = profile_file(tmp_path, disable=["psychotherapy-addon-without-primary"])
    assert not any(rule == "psychotherapy-addon-without-primary" for rule, _ in findings(claim, [disabled]))


def test_an_opt_in_rule_runs_only_for_the_profiles_enabling_it(tmp_path):
    overrides = {"payer": {"sequence": "S", "payer_id": "ACME1", "filing_indicator": "CI"},
                 "other_payers": [{"sequence": "P", "paid": "70"}],
                 "lines": [{"charge": "100", "adjudications": [{"paid": "70", "adjustments": [{"group": "PR", "reason": "2", "amount": "30"}]}]}]}
    acme_claim = build_case_claim(overrides)
    other_claim = build_case_claim({**overrides, "payer": {**overrides["payer"], "payer_id": "OTHER"}})
    rule = "secondary-claim-unbalanced-payer-formula"
    assert rule not in {r for r, _ in findings(acme_claim)}
    user = profile_file(tmp_path, enable=[rule])
    assert rule in {r for r, _ in findings(acme_claim, [user])}
    assert rule not in {r for r, _ in findings(other_claim, [user])}
    assert rule in {r for r, _ in findings(other_claim, select=[rule])}


def test_a_user_profile_replaces_the_bundled_one_with_its_id(tmp_path):
    path = tmp_path / "commercial.yaml"
    path.write_text(yaml.safe_dump({"id": "commercial", "name": "Our commercial contracts", "match": {"filing_indicators": ["CI"]},
                                    "timely_filing_days": 180, "timely_filing_source": "our contracts"}))
    profiles = load_profiles([path])
    assert [p.timely_filing_days for p in profiles.profiles if p.id == "commercial"] == [180]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timely_filing_days": 90}, "timely_filing_source"),
        ({"surprise": 1}, "surprise"),
        ({"match": {}}, "payer_ids or filing_indicators"),
        ({"severity": {"x": "fatal"}}, "severity"),
    ],
)
def test_bad_profiles_are_refused_naming_file_and_field(tmp_path, fields, message):
    path = profile_file(tmp_path, **fields)
    with pytest.raises(ProfileLoadError) as raised:
        load_profiles([path])
    assert str(path) in str(raised.value) and message in str(raised.value)


def test_cli_profiles_flag(tmp_path):
    batch = tmp_path / "batch.837"
    batch.write_text(write([build_case_claim(PSYCHOTHERAPY)]))
    user = profile_file(tmp_path, behavioral_health_prior_auth=True)

    def rules(*extra):
        done = subprocess.run([sys.executable, "-m", "scrubber", "check", str(batch), "--format", "json", *extra],
                              capture_output=True, text=True, cwd=ROOT)
        assert "Traceback" not in done.stderr
        return done.returncode, {f["rule"] for c in json.loads(done.stdout)["claims"] for f in c["findings"]}

    assert rules() == (0, set())
    assert rules("--profiles", str(user)) == (1, {"behavioral-health-prior-auth-missing"})
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [")
    done = subprocess.run([sys.executable, "-m", "scrubber", "check", str(batch), "--profiles", str(bad)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "bad.yaml" in done.stderr and "Traceback" not in done.stderr
