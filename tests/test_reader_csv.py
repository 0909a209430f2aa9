"""CSV exports through a column mapping (scrubber/readers/csv.py), the bundled mappings and the writer."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

from conftest import ROOT, run_cli
from scrubber.mappings import csv_columns
from scrubber.model import Claim, ParseIssue, Provider
from scrubber.readers import csv as csv_reader
from scrubber.readers.csv import MappingError, load_mapping
from scrubber.writers import csv as csv_writer
from scrubber.x12map import element_map
from strategies import claims as claim_strategy
from strategies import comparable
from test_cross_format import model_paths, without

MAPPING = {
    "claim_id": "claim",
    "fields": {
        "assignment": {"column": "assign", "values": {"Y": "A", "N": "C"}},
        "payer.filing_indicator": "fin",
        "diagnoses": {"column": "dx", "split": "|"},
        "accident_date": "acc_date",
        "line.procedure": "cpt",
        "line.charge": "fee",
        "line.modifiers": {"column": "mods", "split": ":"},
        "line.diagnosis_pointers": {"column": "ptr", "split": ":"},
        "line.service_date": "dos",
    },
}
HEADER = "claim,assign,fin,dx,acc_date,cpt,fee,mods,ptr,dos\n"


def read_text(text: str, mapping=MAPPING, file: str = "export.csv") -> list[Claim | ParseIssue]:
    return list(csv_reader.read(io.BytesIO(text.encode("utf-8")), file, mapping))


def test_rows_group_into_claims_with_claim_fields_lines_and_diagnoses():
    claims = read_text(
        HEADER
        + "A1,N,MB,E11.9|i10,,99213,$95.00,25:59,1:2,2026-01-10\n"
        + "A1,N,MB,,,80053,\"1,040.25\",,1,01/10/2026\n"
        + "A2,Y,CI,Z00.00,,99214,120,,1,20260110\n"
    )
    first, second = claims
    assert first.claim_id == "A1" and first.assignment == "C" and first.payer.filing_indicator == "MB"
    assert [(d.code, d.qualifier) for d in first.diagnoses] == [("E119", "ABK"), ("I10", "ABF")]
    assert [(l.number, l.procedure, l.charge, l.modifiers, l.diagnosis_pointers) for l in first.lines] == [
        (1, "99213", Decimal("95.00"), ("25", "59"), (1, 2)),
        (2, "80053", Decimal("1040.25"), (), (1,)),
    ]
    assert first.total_charge == Decimal("1135.25")
    assert {line.service_date for line in first.lines} == {dt.date(2026, 1, 10)}
    assert (first.source.file, first.source.row, second.source.row) == ("export.csv", 2, 4)
    assert second.assignment == "A" and second.lines[0].service_date == dt.date(2026, 1, 10)


def test_bad_cell_names_row_and_column_and_other_claims_are_read():
    items = read_text(
        HEADER
        + "A1,Y,CI,E119,,99213,80,,1,2026-01-10\n"
        + "B1,Y,CI,E119,,99213,eighty,,1,2026-13-45\n"
        + "B1,maybe,CI,E119,,99213,80,,1,2026-01-10\n"
        + "C1,Y,CI,E119,,99213,80,,1,2026-01-10\n"
    )
    assert [type(item).__name__ for item in items] == ["Claim", "ParseIssue", "Claim"]
    issue = items[1]
    assert issue.unreadable_claim and issue.claim_id == "B1" and issue.file == "export.csv"
    assert issue.location == "row 3, column fee"
    assert "row 3, column 'fee': 'eighty' is not an amount" in issue.message
    assert "row 3, column 'dos'" in issue.message and "row 4, column 'assign'" in issue.message


def test_claim_level_values_that_disagree_make_the_claim_unreadable():
    (issue,) = read_text(HEADER + "A1,Y,MB,E119,,99213,80,,1,\nA1,Y,CI,,,99213,80,,1,\n")
    assert issue.location == "row 3, column fin" and "'CI' differs from 'MB' on row 2" in issue.message


def test_contiguous_grouping_reports_a_claim_that_comes_back():
    items = read_text(HEADER + "A1,Y,CI,E119,,99213,80,,1,\nB1,Y,CI,E119,,99213,80,,1,\nA1,Y,CI,E119,,99214,90,,1,\n")
    assert [item.claim_id for item in items] == ["A1", "B1", "A1"]
    assert isinstance(items[2], ParseIssue) and items[2].unreadable_claim
    assert "row 4: claim A1 comes back" in items[2].message and "grouping: scattered" in items[2].message


def test_scattered_grouping_reads_the_whole_file_first():
    mapping = {**MAPPING, "grouping": "scattered"}
    items = read_text(HEADER + "A1,Y,CI,E119,,99213,80,,1,\nB1,Y,CI,E119,,99213,80,,1,\nA1,Y,CI,E119,,99214,90,,1,\n", mapping)
    assert [(c.claim_id, [l.procedure for l in c.lines]) for c in items] == [("A1", ["99213", "99214"]), ("B1", ["99213"])]


def test_contiguous_grouping_streams(monkeypatch):
    """The first claim comes out before the rows of the last one are read."""
    rows = iter([
        {"claim": "A1", "cpt": "99213", "fee": "80"},
        {"claim": "B1", "cpt": "99213", "fee": "80"},
    ])
    consumed = []

    def source():
        for row in rows:
            consumed.append(row["claim"])
            yield row

    reader = csv_reader.read_rows(source(), {"claim_id": "claim", "fields": {"line.procedure": "cpt", "line.charge": "fee"}})
    first = next(reader)
    assert first.claim_id == "A1" and consumed == ["A1", "B1"]
    assert next(reader).claim_id == "B1"


def test_rows_without_claim_id_or_procedure():
    items = read_text(HEADER + ",Y,CI,E119,,99213,80,,1,\nA1,Y,CI,E119,,,80,,1,\n")
    assert items[0].location == "row 2, column claim" and not items[0].unreadable_claim
    assert items[1].unreadable_claim and items[1].location == "row 3, column cpt"


def test_header_missing_required_column_is_a_file_error_and_optional_ones_a_warning():
    (issue,) = read_text("claim,fee\nA1,80\n")
    assert issue.severity == "error" and "'cpt'" in issue.message and issue.location == "row 1"
    warning, claim = read_text("claim,cpt,fee\nA1,99213,80\n")
    assert warning.severity == "warning" and "'assign'" in warning.message
    assert isinstance(claim, Claim) and claim.assignment is None


def test_not_utf8_and_not_csv_never_raise():
    items = list(csv_reader.read(io.BytesIO(HEADER.encode() + b"A1,Y,CI,\xff\xfe,,99213,80,,1,\n"), "x.csv", MAPPING))
    assert items and all(isinstance(item, ParseIssue) for item in items)
    assert "UTF-8" in items[-1].message
    (issue,) = read_text("")
    assert "no CSV header" in issue.message


def _kinds(items) -> list[str]:
    return [f"{type(item).__name__}:{item.claim_id}" for item in items]


def test_a_non_utf8_byte_costs_its_row_not_the_file():
    data = (
        HEADER.encode()
        + b"A1,Y,CI,E119,,99213,80,,1,2026-01-10\n"
        + b"B1,Y,CI,\xff\xfe,,99213,80,,1,2026-01-10\n"  # a cell the mapping reads: the claim is unreadable
        + b"C1,Y,CI,E119,,99213,80,,1,2026-01-10\n"
        + b"D\xe91,Y,CI,E119,,99213,80,,1,2026-01-10\n"  # the claim id itself: the row is not read
        + b"E1,Y,CI,E119,,99213,80,,1,2026-01-10\n"
    )
    items = list(csv_reader.read(io.BytesIO(data), "x.csv", MAPPING))
    # (a claim is passed on when the next one starts: the row's issue comes before C1)
    assert _kinds(items) == ["Claim:A1", "ParseIssue:B1", "ParseIssue:None", "Claim:C1", "Claim:E1"]
    bad_claim, bad_row = items[1], items[2]
    assert bad_claim.unreadable_claim and bad_claim.location == "row 3, column dx"
    assert "row 3, column 'dx': not UTF-8 text (byte ff" in bad_claim.message
    assert bad_row.severity == "error" and bad_row.location == "row 5" and bad_row.file == "x.csv"
    assert "row 5: not UTF-8 text (byte e9" in bad_row.message and "not read" in bad_row.message
    assert [item.source.row for item in items if isinstance(item, Claim)] == [2, 4, 6]


def test_a_non_utf8_byte_in_a_column_the_mapping_does_not_read_is_a_warning():
    data = b"claim,cpt,fee,notes\nA1,99213,80,caf\xe9\nA2,99213,90,ok\n"
    mapping = {"claim_id": "claim", "fields": {"line.procedure": "cpt", "line.charge": "fee"}}
    warning, first, second = csv_reader.read(io.BytesIO(data), "x.csv", mapping)
    assert warning.severity == "warning" and "row 2, column 'notes': not UTF-8" in warning.message
    assert (first.claim_id, second.claim_id) == ("A1", "A2")


def test_an_over_long_field_costs_its_row_not_the_file():
    huge = "x" * (csv.field_size_limit() + 10)
    text = (
        HEADER
        + "A1,Y,CI,E119,,99213,80,,1,2026-01-10\n"
        + f"B1,Y,CI,E119,,99213,80,{huge},1,2026-01-10\n"
        + f'C1,Y,CI,E119,,99213,80,"{huge}\nstill, the same field\n",1,2026-01-10\n'  # quoted, over 3 lines
        + "D1,Y,CI,E119,,99213,80,,1,2026-01-10\n"
    )
    items = read_text(text)
    claims = [item for item in items if isinstance(item, Claim)]
    issues = [item for item in items if isinstance(item, ParseIssue)]
    assert [(claim.claim_id, claim.source.row) for claim in claims] == [("A1", 2), ("D1", 5)]
    assert [issue.location for issue in issues] == ["row 3", "row 4"]
    for issue, row in zip(issues, (3, 4)):
        assert issue.severity == "error" and issue.claim_id is None
        assert f"row {row}: a field is longer than" in issue.message and "the row is not read" in issue.message


def test_bad_rows_through_the_cli_keep_the_other_claims(tmp_path: Path):
    source = ROOT / "fixtures" / "csv" / "cross-format.csv"
    lines = source.read_bytes().splitlines(keepends=True)
    export = tmp_path / "export.csv"
    export.write_bytes(b"".join([*lines[:-1], lines[-1].replace(b",", b",\xff", 1)]))  # the 2nd cell of the last row
    last_claim = lines[-1].split(b",", 1)[0].decode()
    expected = json.loads(run_cli("check", str(source), "--format", "json", "--no-progress").stdout)
    result = run_cli("check", str(export), "--format", "json", "--no-progress")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["summary"]["claims"] == expected["summary"]["claims"] > 1
    statuses = {claim["claim_id"]: claim["status"] for claim in document["claims"]}
    assert statuses.pop(last_claim) == "unreadable"
    assert statuses == {c["claim_id"]: c["status"] for c in expected["claims"] if c["claim_id"] != last_claim}
    (error,) = document["errors"]
    assert error["file"] == str(export) and f"row {len(lines)}, column " in error["message"]
    assert "not UTF-8 text (byte ff" in error["message"]


def test_line_diagnosis_codes_build_pointers_and_diagnosis_rows_add_codes():
    mapping = {
        "claim_id": "enc",
        "diagnosis_rows": {"column": "type", "values": ["ICD10"], "code": "code"},
        "fields": {
            "line.procedure": "code",
            "line.charge": "fee",
            "line.diagnosis_codes": {"column": "justify", "split": ":", "prefix": "ICD10|"},
        },
    }
    text = (
        "enc,type,code,fee,justify\n"
        "7,CPT4,99213,80,ICD10|I10:ICD10|E11.9:\n"
        "7,ICD10,Z79.4,,\n"
        "7,CPT4,80053,40,ICD10|E11.9\n"
    )
    (claim,) = read_text(text, mapping)
    assert [d.code for d in claim.diagnoses] == ["I10", "E119", "Z794"]
    assert [line.diagnosis_pointers for line in claim.lines] == [(1, 2), (2,)]
    assert [line.number for line in claim.lines] == [1, 2]


def test_patient_self_is_the_subscriber():
    mapping = {"claim_id": "c", "fields": {"line.procedure": "p", "patient.relationship": {"column": "rel", "values": {"self": "18", "child": "19"}},
                                           "patient.state": "st", "subscriber.member_id": "m"}}
    own, child = read_text("c,p,rel,st,m\nA,99213,self,NY,M1\nB,99213,child,NJ,M2\n", mapping)
    assert own.patient is None and own.subscriber.state == "NY" and own.subscriber.member_id == "M1"
    assert child.patient is not None and child.patient.relationship == "19" and child.patient.state == "NJ"


def test_read_rows_takes_python_values():
    rows = [{"claim": "A1", "cpt": 99213, "fee": Decimal("80.5"), "dos": dt.date(2026, 1, 10), "assign": None}]
    (claim,) = csv_reader.read_rows(rows, MAPPING)
    assert claim.lines[0].procedure == "99213" and claim.lines[0].charge == Decimal("80.5")
    assert claim.lines[0].service_date == dt.date(2026, 1, 10) and claim.assignment is None


def test_prior_payer_line_payment_needs_the_other_payer():
    mapping = {"claim_id": "c", "fields": {"line.procedure": "p", "line.prior_payer_paid": "paid", "other_payer.payer_id": "prior"}}
    ok, bad = read_text("c,p,paid,prior\nA,99213,60,MCR\nB,99213,60,\n", mapping)
    assert ok.lines[0].adjudications[0].payer_id == "MCR" and ok.lines[0].adjudications[0].paid == Decimal(60)
    assert isinstance(bad, ParseIssue) and bad.location == "row 3, column line.prior_payer_paid"


# --- mappings -------------------------------------------------------------------------------------


def test_bundled_mappings_load_and_fill_only_known_targets():
    assert csv_reader.bundled_mappings() == ["charge-export", "openemr"]
    for name in csv_reader.bundled_mappings():
        mapping = load_mapping(name)
        assert set(mapping.fields) <= set(csv_reader.TARGETS)
    assert load_mapping(None).name == "charge-export"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"claim_id": "c", "fields": {"line.procedure": "p", "line.bogus": "x"}}, "unknown target(s) line.bogus"),
        ({"claim_id": "c", "fields": {"line.charge": "x"}}, "line.procedure must be mapped"),
        ({"fields": {"line.procedure": "p"}}, "claim_id"),
        ({"claim_id": "c", "fields": {"line.procedure": "p", "assignment": {"column": "a", "values": {True: "A"}}}}, "quote it"),
        ("/nonexistent/mapping.yaml", "cannot read it"),
    ],
)
def test_bad_mappings_are_one_clear_error(mapping, message):
    with pytest.raises(MappingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_mapping(mapping)


def test_a_bad_mapping_is_a_parse_issue_for_the_reader_and_a_usage_error_for_the_cli(tmp_path: Path):
    (issue,) = read_text(HEADER, {"claim_id": "c", "fields": {}})
    assert "line.procedure must be mapped" in issue.message
    bad = tmp_path / "bad.yaml"
    bad.write_text("claim_id: c\nfields: {line.procedure: p, nonsense: q}\n", encoding="utf-8")
    result = run_cli("check", str(ROOT / "fixtures" / "csv" / "cross-format.csv"), "--mapping", str(bad))
    assert result.returncode == 2 and "unknown target(s) nonsense" in result.stderr


def test_header_chooses_the_bundled_mapping():
    assert csv_reader.mapping_for_header(["encounter", "code", "fee", "justify"]).name == "openemr"
    assert csv_reader.mapping_for_header(["claim_id", "procedure_code"]).name == "charge-export"


def test_yaml_mapping_file_and_cli_flag(tmp_path: Path):
    mapping = tmp_path / "my-ehr.yaml"
    mapping.write_text(
        "claim_id: Encounter No\n"
        "date_format: '%d.%m.%Y'\n"
        "fields:\n"
        "  payer.filing_indicator: Payer Type\n"
        "  assignment: {column: Accept, values: {'Y': A, 'N': C}}\n"
        "  line.procedure: CPT\n"
        "  line.charge: Charge\n"
        "  line.service_date: DOS\n",
        encoding="utf-8",
    )
    export = tmp_path / "export.txt"
    export.write_text("Encounter No,Payer Type,Accept,CPT,Charge,DOS\nE1,MB,N,80053,25,10.01.2026\n", encoding="utf-8")
    result = run_cli("check", str(export), "--mapping", str(mapping), "--format", "json", "--select", "CO-111")
    report = json.loads(result.stdout)
    (claim,) = report["claims"]
    assert claim["claim_id"] == "E1" and claim["row"] == 2
    assert [(f["rule"], f["line"]) for f in claim["findings"]] == [("unassigned-mandatory-assignment-service", 1)]
    assert result.returncode == 1


# --- the writer -----------------------------------------------------------------------------------


def _fixture_claims() -> list[Claim]:
    from scrubber.readers import json as json_reader

    return [c for c in json_reader.read_path(ROOT / "fixtures" / "json" / "cross-format.json") if isinstance(c, Claim)]


def test_charge_export_round_trip_keeps_every_field_the_mapping_carries():
    claims = _fixture_claims()
    back = list(csv_reader.read(io.BytesIO(csv_writer.write(claims, "charge-export").encode()), None, "charge-export"))
    for original, read_back in zip(claims, back, strict=True):
        expected = comparable(original.model_copy(update={"implementation": None}))
        assert comparable(read_back) == expected


def test_writer_refuses_what_a_mapping_cannot_say():
    claim = _fixture_claims()[0]
    with pytest.raises(ValueError, match="no entry for 'ZZ'"):
        csv_writer.write([claim.model_copy(update={"assignment": "ZZ"})], "charge-export")
    two = claim.model_copy(update={"other_payers": (_fixture_claims()[2].other_payers[0],) * 2})
    with pytest.raises(ValueError, match="one other payer"):
        csv_writer.write([two], "charge-export")
    employer_id = claim.model_copy(update={"billing_provider": Provider(npi="123456789", id_qualifier="24")})
    with pytest.raises(ValueError, match="billing_provider.npi: NM108 '24' is not XX"):
        csv_writer.write([employer_id], "charge-export")


def test_schema_command_lists_the_csv_targets():
    result = run_cli("schema", "--csv-targets")
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert result.returncode == 0 and names == list(csv_reader.TARGETS)
    assignment = next(line for line in result.stdout.splitlines() if line.startswith("assignment "))
    assert assignment.split()[1:] == ["text", "assignment", "2300", "CLM07"]


# --- targets, the element map and what CSV cannot carry --------------------------------------------


def test_targets_name_model_paths_and_take_their_x12_elements_from_the_element_map():
    emap = element_map("837p")
    known = model_paths()
    for name, target in csv_reader.TARGETS.items():
        assert set(target.paths) <= known, name
        assert target.x12 == ", ".join(element.label for element in emap.for_path(target.path)), name
    assert csv_reader.TARGETS["assignment"].element == emap.for_path("assignment")[0].label
    assert csv_reader.TARGETS["line.ndc"].x12 == emap.for_path("lines[].ndc")[0].label
    assert csv_reader.TARGETS["total_charge"].element.endswith("(default: the sum of the line charges)")


def test_every_element_of_the_map_is_a_target_or_documented_as_not_carried():
    targets = {path for target in csv_reader.TARGETS.values() for path in target.paths} | {"claim_id"}  # the claim_id column
    documented = set(csv_columns.NOT_CARRIED) | set(csv_columns.PARTLY_CARRIED)
    assert documented <= model_paths()
    assert not set(csv_columns.NOT_CARRIED) & targets, "a path is either a target's or not carried"
    missing = {element.path for element in element_map("837p").elements} - targets - documented
    assert not missing, f"add a target, or say why CSV cannot carry: {sorted(missing)}"


def test_a_mapping_does_not_carry_the_targets_it_leaves_out():
    openemr = csv_columns.not_carried(load_mapping("openemr"))
    assert {"accident_date", "lines[].ndc", "other_payers[].paid", "implementation"} <= openemr
    assert not {"diagnoses", "lines[].diagnosis_pointers", "patient.sex", "onset_date"} & openemr
    assert "rendering_provider.id_qualifier" not in openemr  # implied by provider_npi
    charge_export = csv_columns.not_carried(load_mapping("charge-export"))
    assert charge_export >= set(csv_columns.NOT_CARRIED) and "lines[].ndc_unit" not in charge_export


def test_csv_mapping_doc_is_generated_from_the_targets():
    committed = (ROOT / "docs" / "csv-mapping.md").read_text(encoding="utf-8")
    assert committed == csv_columns.targets_markdown(), "regenerate: scrubber schema --csv-mapping > docs/csv-mapping.md"
    assert run_cli("schema", "--csv-mapping").stdout == committed
    for path in csv_columns.NOT_CARRIED:
        assert f"| {path} | {csv_columns.x12_label(path)} |" in committed


def test_new_targets_read_sex_dates_providers_drug_and_prior_payer_amounts():
    mapping = {
        "claim_id": "c",
        "fields": {
            "line.procedure": "p",
            "subscriber.sex": {"column": "sex", "values": {"Female": "F", "Male": "M"}},
            "delay_reason": "delay",
            "onset_date": "onset",
            "initial_treatment_date": "first",
            "referring_provider.npi": "ref",
            "service_facility.npi": "fac",
            "other_payer.payer_id": "prior",
            "other_payer.noncovered": "noncov",
            "other_payer.remaining_patient_liability": "owes",
            "line.ndc": "ndc",
            "line.ndc_quantity": "qty",
            "line.ndc_unit": "unit",
            "line.ordering_provider.npi": "ord",
        },
    }
    text = (
        "c,p,sex,delay,onset,first,ref,fac,prior,noncov,owes,ndc,qty,unit,ord\n"
        "A,J3301,Female,7,2026-01-05,01/06/2026,1765432103,1333444556,MCR,$25.00,30.5,00003029320,1,ML,1887654329\n"
        "A,99213,Female,7,,,,,,,,,,,\n"
    )
    (claim,) = read_text(text, mapping)
    assert (claim.subscriber.sex, claim.delay_reason) == ("F", "7")
    assert (claim.onset_date, claim.initial_treatment_date) == (dt.date(2026, 1, 5), dt.date(2026, 1, 6))
    assert claim.referring_provider == Provider(npi="1765432103", id_qualifier="XX")  # an NPI column: NM108 XX
    assert claim.service_facility == Provider(npi="1333444556", id_qualifier="XX")
    (other,) = claim.other_payers
    assert (other.noncovered, other.remaining_patient_liability) == (Decimal("25.00"), Decimal("30.5"))
    drug, office = claim.lines
    assert (drug.ndc, drug.ndc_quantity, drug.ndc_unit) == ("00003029320", Decimal(1), "ML")
    assert drug.ordering_provider == Provider(npi="1887654329", id_qualifier="XX")
    assert (office.ndc, office.ordering_provider) == (None, None)


_CHARGE_EXPORT = load_mapping("charge-export")


def _charge_export_projection(claim: Claim) -> dict:
    """What the charge export carries of a claim: its unmapped targets and NOT_CARRIED dropped, and each
    PARTLY_CARRIED loss applied (one prior payment per line, with the line's procedure; NM108 XX)."""
    data = without(comparable(claim), csv_columns.not_carried(_CHARGE_EXPORT))
    for line in data["lines"]:
        line["adjudications"] = [{**a, "procedure": line["procedure"]} for a in line["adjudications"]]
    return data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(claim_strategy())
def test_charge_export_round_trip_keeps_what_the_mapping_carries(claim):
    assume(len(claim.other_payers) <= 1)  # PARTLY_CARRIED: one other payer
    assume(claim.patient is None or claim.patient.relationship in ("01", "19", "G8"))  # the mapping's values
    text = csv_writer.write([claim], _CHARGE_EXPORT)
    (back,) = list(csv_reader.read(io.BytesIO(text.encode()), None, _CHARGE_EXPORT))
    assert isinstance(back, Claim), back
    assert without(comparable(back), csv_columns.not_carried(_CHARGE_EXPORT)) == _charge_export_projection(claim)
