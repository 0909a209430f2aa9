"""``--redact`` on every value a claim file names a patient with, in every command and format; keyed
baselines; the baseline's suppressed count. (A value is checked as a substring of every output.)"""

from __future__ import annotations

import contextlib
import io
import json
import os
import string
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import batch, claim, subscriber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from remit_builders import era, payment, service, transaction

from scrubber.baseline import Baseline, BaselineError, BaselineWriter, finding_key
from scrubber.findings import ClaimResult, Finding, Summary
from scrubber.model import ParseIssue
from scrubber.redact import PREFIX, Redactor, x12_identifying_values

ROOT = Path(__file__).resolve().parents[1]
KEY = "test-key-not-a-secret"


def phi_claim(claim_id: str, hl: int, who: dict, charge: str = "100") -> list[str]:
    """A subscriber level (name, member id, address, birth date) + a claim with REF*F8."""
    segments = subscriber(hl, last=who["last"], first=who["first"], member=who["member"], birth=who["birth"])
    segments[3] = f"N3*{who['street']}"
    segments[4] = f"N4*{who['city']}*NY*12201"
    body = claim(claim_id, charge=charge)
    return segments + body[:1] + [f"REF*F8*{who['pcn']}"] + body[1:]


def dob_forms(raw: str) -> list[str]:
    y, m, d = raw[:4], raw[4:6], raw[6:]
    return [raw, f"{y}-{m}-{d}", f"{m}/{d}/{y}"]


def secrets_of(who: dict, claim_id: str) -> list[str]:
    return [claim_id, who["last"], who["first"], who["member"], who["street"], who["city"], who["pcn"], *dob_forms(who["birth"])]


WHO = {
    "last": "ZZTOPNAME", "first": "ZZFIRSTNM", "member": "ZZMEMBER12345", "birth": "19471123",
    "street": "42 ZZSTREET RD", "city": "ZZCITYNAME", "pcn": "ZZPAYERNO77",
}


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("GITHUB_STEP_SUMMARY", "SCRUBBER_REDACT_KEY")}
    done = subprocess.run([sys.executable, "-m", "scrubber", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env={**environ, **(env or {})}, timeout=300)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def assert_hidden(secrets: list[str], *outputs: str) -> None:
    for output in outputs:
        for secret in secrets:
            assert secret not in output, (secret, output[:3000])


# --- 1. pyx12's messages: bare and parenthesized values ----------------------------------------------


def test_redactor_hashes_known_values_bare_in_parentheses_and_in_every_date_form():
    redactor = Redactor(KEY)
    from conftest import read_text

    claims, _ = read_text(batch(phi_claim("ZZCLAIM7", 2, WHO)), "f.837")
    list(redactor.watch(claims))
    for message in (
        "Segment zz ZZTOPNAME ZZMEMBER12345 not found",
        "contains an invalid date (1947-11-23)",
        "born 11/23/1947, 19471123",
        "invalid character(ZZMEMBER12345) for ZZTOPNAME",
        "payer claim ZZPAYERNO77 of claim ZZCLAIM7",
    ):
        out = redactor.free_text(message)
        assert_hidden(secrets_of({**WHO, "street": "-", "city": "-"}, "ZZCLAIM7"), out)
        assert PREFIX in out
    # an input problem that comes with no claim at all still has them hashed (learned from earlier claims)
    issue = redactor.parse_issue(ParseIssue(file="f", message="NM1 ZZFIRSTNM ZZTOPNAME (1947-11-23)"))
    assert_hidden(["ZZFIRSTNM", "ZZTOPNAME", "1947-11-23"], issue.message)


def test_validate_redacts_pyx12_messages_with_the_files_values(write_file):
    pytest.importorskip("pyx12")
    from scrubber.validate_ig import validate

    segments = phi_claim("ZZCLAIM7", 2, WHO, charge="ZZBADCHARGE")
    segments.insert(5, "zz*ZZRANDOMVALUE*ZZMEMBER12345")  # an unknown segment: its values are raw input
    other = {**WHO, "birth": "19471123", "last": "ZZOTHERNAME"}
    body = segments + subscriber(3, birth="1947-11-23", last=other["last"]) + claim("ZZCLAIM8")
    data = batch(body).encode()
    plain = validate(data, "f.837")
    plain_text = " ".join(f.message for found in plain[0].values() for f in found) + " ".join(i.message for i in plain[1])
    assert "ZZBADCHARGE" in plain_text and "1947-11-23" in plain_text  # pyx12 does quote them
    by_claim, issues, _ = validate(data, "f.837", Redactor(KEY))
    messages = [f.message for found in by_claim.values() for f in found] + [i.message for i in issues]
    assert_hidden(["ZZBADCHARGE", "1947-11-23", "ZZTOPNAME", "ZZMEMBER12345", "ZZRANDOMVALUE", "ZZSTREET", "ZZCITYNAME"], *messages)
    assert any('"Total Claim Charge Amount" (CLM02)' in m for m in messages)  # pyx12's own words are kept


def test_raw_x12_values_include_addresses_dates_and_ids():
    values = x12_identifying_values(batch(phi_claim("ZZCLAIM7", 2, WHO)).encode())
    assert {"ZZTOPNAME", "ZZFIRSTNM", "ZZMEMBER12345", "42 ZZSTREET RD", "ZZCITYNAME", "ZZCLAIM7", "ZZPAYERNO77",
            "19471123", "1947-11-23", "11/23/1947"} <= values
    assert "SYNTHETIC HEALTH PLAN" not in values  # the payer identifies no one


def test_a_name_that_is_a_word_does_not_leave_every_sentence():
    redactor = Redactor(KEY)
    redactor.learn(["MAY"])
    assert redactor.text("the patient may be billed; NM103 MAY") == f"the patient may be billed; NM103 {redactor.token('MAY')}"


# --- 2. FHIR references ------------------------------------------------------------------------------


def test_fhir_reference_in_a_message_is_redacted(tmp_path):
    pytest.importorskip("fhir.resources")
    from test_reader_fhir import base_claim

    resource = base_claim()
    resource["patient"] = {"reference": "#ZZTOPNAME-ZZMEMBER12345"}
    resource["contained"][1]["beneficiary"] = {"reference": "Patient/ZZTOPNAME-1947"}
    (tmp_path / "claim.json").write_text(json.dumps(resource))
    plain = run("check", "claim.json", "--format", "json", cwd=tmp_path)
    assert "ZZTOPNAME" in plain.stdout
    for fmt in ("json", "text", "sarif"):
        done = run("check", "claim.json", "--format", fmt, "--redact", cwd=tmp_path)
        assert_hidden(["ZZTOPNAME", "ZZMEMBER12345"], done.stdout, done.stderr)
    assert "#" + PREFIX in run("check", "claim.json", "--format", "json", "--redact", cwd=tmp_path).stdout


# --- 3. remit, backtest, report --html -----------------------------------------------------------------


def era_for(claims: list[tuple[str, dict]]) -> str:
    payments = []
    for claim_id, who in claims:
        segs = payment(claim_id, "100", "0", [service("99213", "100", "0", cas=["CO*16*100"], date="20260110")],
                       status="4", pcn=who["pcn"])
        segs = [s if not s.startswith("NM1*QC") else f"NM1*QC*1*{who['last']}*{who['first']}****MI*{who['member']}" for s in segs]
        payments.append(segs)
    return era([transaction(*payments, amount="0")])


def write_pair(directory: Path, claims: list[tuple[str, dict]]) -> None:
    hl = 2
    body = []
    for claim_id, who in claims:
        body += phi_claim(claim_id, hl, who)
        hl += 1
    (directory / "claims.837").write_text(batch(body), encoding="latin-1")
    (directory / "remits.835").write_text(era_for(claims), encoding="latin-1")
    # an unmatched payment and an input problem quoting a value
    extra = era([transaction(payment("ZZLONELY99", "50", "0", status="4", pcn="ZZLONEPCN"), amount="0", control="0002")])
    (directory / "more.835").write_text(extra.replace("CLP*ZZLONELY99*4*50", "CLP*ZZLONELY99*4*5Z0"), encoding="latin-1")


def test_remit_backtest_and_report_hide_every_value(tmp_path):
    write_pair(tmp_path, [("ZZCLAIM7", WHO)])
    secrets = [*secrets_of(WHO, "ZZCLAIM7"), "ZZLONELY99", "ZZLONEPCN"]
    plain = run("remit", "remits.835", "more.835", "--format", "json", cwd=tmp_path)
    assert "ZZPAYERNO77" in plain.stdout and "ZZCLAIM7" in plain.stdout
    for args in (
        ["remit", "remits.835", "more.835", "--format", "json"],
        ["remit", "remits.835", "more.835"],
        ["backtest", "--claims", "claims.837", "--remits", "remits.835", "more.835", "--format", "json"],
        ["backtest", "--claims", "claims.837", "--remits", "remits.835", "more.835"],
        ["report", "--claims", "claims.837", "--remits", "remits.835", "more.835", "--html", "out.html"],
    ):
        done = run(*args, "--redact", cwd=tmp_path, env={"SCRUBBER_REDACT_KEY": KEY})
        assert done.returncode in (0, 1), done.stderr
        html = (tmp_path / "out.html").read_text() if args[0] == "report" else ""
        assert_hidden(secrets, done.stdout, done.stderr, html)
        assert PREFIX in done.stdout + html


def test_report_html_without_redact_shows_them(tmp_path):
    write_pair(tmp_path, [("ZZCLAIM7", WHO)])
    run("report", "--claims", "claims.837", "--remits", "remits.835", "more.835", "--html", "out.html", cwd=tmp_path)
    assert "ZZLONELY99" in (tmp_path / "out.html").read_text()


# --- 4-6. baselines ------------------------------------------------------------------------------------


def finding(rule: str = "r1") -> Finding:
    return Finding(rule, "n", "CO-16", (), (), "error", None, "CLM01", 3, "m", "f", ("s",))


def test_baseline_is_keyed_with_the_redaction_key(tmp_path):
    path = tmp_path / "b.json"
    writer = BaselineWriter(environ={"SCRUBBER_REDACT_KEY": KEY})
    writer.add(ClaimResult("1234567", "f", 3, "flagged", [finding()]))
    writer.write(path)
    document = json.loads(path.read_text())
    assert document["keyed"] is True and finding_key("1234567", finding()) not in document["findings"]
    assert list(document["findings"]) == [finding_key("1234567", finding(), KEY.encode())]
    baseline = Baseline.load(path, environ={"SCRUBBER_REDACT_KEY": KEY})
    assert baseline.filter(ClaimResult("1234567", "f", 3, "flagged", [finding()])).status == "clean"
    assert baseline.suppressed == 1
    with pytest.raises(BaselineError, match="written with"):
        Baseline.load(path, environ={})
    with pytest.raises(BaselineError, match="another"):
        Baseline.load(path, environ={"SCRUBBER_REDACT_KEY": "other"})


def test_plain_and_version_1_baselines_are_still_read_with_a_warning_under_a_key(tmp_path, capsys):
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"version": 1, "findings": {finding_key("C1", finding()): 1}}))
    baseline = Baseline.load(path, environ={"SCRUBBER_REDACT_KEY": KEY})
    assert "rewrite it" in capsys.readouterr().err
    assert baseline.filter(ClaimResult("C1", "f", 3, "flagged", [finding(), finding("r2")])).findings == [finding("r2")]
    assert baseline.suppressed == 1 and baseline.last_suppressed == 1


@pytest.mark.parametrize(
    "document",
    [
        {"version": 2, "findings": {"abc": "1"}},
        {"version": 2, "findings": {"abc": 0}},
        {"version": 2, "findings": {"abc": True}},
        {"version": 2, "findings": ["abc"]},
        {"version": 1},
        ["abc"],
        {"version": 2, "keyed": "yes", "findings": {}},
    ],
)
def test_a_bad_baseline_entry_is_a_usage_error_naming_file_and_entry(tmp_path, document):
    path = tmp_path / "bad-baseline.json"
    path.write_text(json.dumps(document))
    with pytest.raises(BaselineError) as raised:
        Baseline.load(path, environ={})
    assert "bad-baseline.json" in str(raised.value)
    if isinstance(document, dict) and isinstance(document.get("findings"), dict) and document["findings"]:
        assert "'abc'" in str(raised.value)


def test_a_bad_baseline_entry_exits_2_without_a_traceback(tmp_path):
    shutil_copy = (ROOT / "fixtures" / "837p" / "seeds" / "co-121-timely-and-indemnification.837").read_text()
    (tmp_path / "batch.837").write_text(shutil_copy)
    (tmp_path / "baseline.json").write_text(json.dumps({"version": 1, "findings": {"0123": "two"}}))
    done = run("check", "batch.837", "--baseline", "baseline.json", cwd=tmp_path)
    assert done.returncode == 2 and "baseline.json" in done.stderr and "'0123'" in done.stderr


def test_summary_counts_suppressed_findings():
    from scrubber.reporters.github import summary_line
    from scrubber.reporters.text import TextReporter

    summary = Summary(files=1, claims=1, clean=1, suppressed=3)
    assert summary.to_dict()["suppressed"] == 3
    assert "3 finding(s) suppressed by the baseline" in summary_line(summary)
    out = io.StringIO()
    reporter = TextReporter(out) if "rules" not in TextReporter.__init__.__code__.co_varnames else TextReporter(out, rules={})
    reporter.finish(summary)
    assert "3 finding(s) suppressed by the baseline" in out.getvalue()
    assert "suppressed" not in summary_line(Summary(files=1, claims=1, clean=1))


# --- 7. property: random PHI through every command and format ------------------------------------------

_ALPHA = string.ascii_uppercase
_name = st.text(_ALPHA, min_size=6, max_size=12).map(lambda s: "QX" + s)  # distinctive: never a word we print
_ident = st.text(_ALPHA + string.digits, min_size=7, max_size=12).map(lambda s: "QK" + s)
_dob = st.dates(min_value=__import__("datetime").date(1920, 1, 1), max_value=__import__("datetime").date(2005, 12, 31))
_person = st.fixed_dictionaries({
    "last": _name, "first": _name, "member": _ident, "pcn": _ident,
    "birth": _dob.map(lambda d: d.strftime("%Y%m%d")),
    "street": _ident.map(lambda s: f"9 {s} AVE"), "city": _name,
})


def _main(argv: list[str]) -> tuple[int, str, str]:
    """The CLI in this process (stdout, stderr captured)."""
    from scrubber.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit:  # argparse
            code = exit.code
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(people=st.lists(st.tuples(_ident, _person), min_size=1, max_size=3, unique_by=lambda t: t[0]))
def test_no_phi_value_in_any_output(tmp_path_factory, people):
    directory = tmp_path_factory.mktemp("phi")
    claims = [(claim_id, who) for claim_id, who in people]
    write_pair(directory, claims)
    secrets = [value for claim_id, who in claims for value in secrets_of(who, claim_id)] + ["ZZLONELY99", "ZZLONEPCN"]
    (directory / "claims.837").write_text((directory / "claims.837").read_text().replace("ZZBAD", ""))
    summary = directory / "summary.md"
    old = {name: os.environ.get(name) for name in ("SCRUBBER_REDACT_KEY", "GITHUB_STEP_SUMMARY")}
    os.environ["SCRUBBER_REDACT_KEY"] = KEY
    os.environ["GITHUB_STEP_SUMMARY"] = str(summary)
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        validate = [["--validate"]] if _has_pyx12() else []
        runs = [["check", "claims.837", "--redact", "--format", fmt, "-o", f"out.{fmt}"] for fmt in ("text", "json", "jsonl", "sarif", "junit", "github")]
        runs += [["check", "claims.837", "--redact", "--format", "json", *extra] for extra in validate]
        runs += [
            ["check", "claims.837", "--redact", "--write-baseline", "b.json"],
            ["remit", "remits.835", "more.835", "--redact", "--format", "json"],
            ["remit", "remits.835", "more.835", "--redact"],
            ["backtest", "--claims", "claims.837", "--remits", "remits.835", "more.835", "--redact", "--format", "json"],
            ["backtest", "--claims", "claims.837", "--remits", "remits.835", "more.835", "--redact"],
            ["report", "--claims", "claims.837", "--remits", "remits.835", "more.835", "--redact", "--html", "out.html"],
        ]
        for argv in runs:
            code, out, err = _main(argv)
            assert code in (0, 1), (argv, code, err)
            files = [p.read_text(encoding="utf-8") for p in directory.iterdir() if p.name.startswith("out.") or p.name in ("summary.md", "b.json")]
            assert_hidden(secrets, out, err, *files)
    finally:
        os.chdir(cwd)
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _has_pyx12() -> bool:
    try:
        import pyx12  # noqa: F401
    except ImportError:
        return False
    return True
