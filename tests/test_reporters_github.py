"""``--format github``: workflow-command annotations (capped as GitHub caps them) and the step summary."""

from __future__ import annotations

import io
import re
from pathlib import Path

from conftest import batch, segment_index
from reporter_inputs import (
    ERROR_RULE,
    INFO_RULE_ID,
    SELECT,
    WARNING_RULE,
    broken_claim,
    check,
    clean_claim,
    error_claim,
    info_claim,
    info_rule,
    mixed,
    warning_claim,
)

from scrubber.findings import ClaimResult, Finding, Summary
from scrubber.reporters import github
from scrubber.reporters.github import GithubReporter, escape_data, escape_property
from scrubber.reporters.positions import segment_spans

COMMAND = re.compile(r"^::(error|warning|notice) (.*?)::(.*)$")


def unescape(text: str) -> str:
    """What the runner does with a workflow command's escapes."""
    for escaped, plain in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, plain)
    return text


def parse(stdout: str) -> list[dict]:
    """Annotations as the runner reads them: properties split on ',' and '=', then unescaped."""
    annotations = []
    for line in stdout.splitlines():
        match = COMMAND.match(line)
        if not match:
            continue
        level, props, message = match.groups()
        properties = dict(part.split("=", 1) for part in props.split(","))
        annotations.append({"level": level, **{k: unescape(v) for k, v in properties.items()}, "message": unescape(message)})
    return annotations


def run_github(*args: str, cwd: Path, summary: Path | None = None):
    env = {"GITHUB_STEP_SUMMARY": str(summary)} if summary is not None else {}
    result = check(*args, "--format", "github", cwd=cwd, env=env)
    return result, parse(result.stdout)


# --- escaping ------------------------------------------------------------------------------------


def test_escaping_follows_the_actions_toolkit():
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"
    assert unescape(escape_property("x:,%\r\n%0A")) == "x:,%\r\n%0A"


# --- annotations -----------------------------------------------------------------------------------


def test_annotations_point_at_the_segment(tmp_path):
    text = mixed(newline="")  # one single line: columns matter
    name = "batch, one: line.837"  # a comma and a colon in the file name must survive
    (tmp_path / name).write_text(text, encoding="latin-1")
    result, annotations = run_github(name, "--rules", str(info_rule(tmp_path)), *SELECT, cwd=tmp_path)
    assert result.returncode == 1
    by_title = {a["title"]: a for a in annotations}
    assert sorted(a["level"] for a in annotations) == ["error", "error", "notice", "warning"]
    error = by_title[f"CO-111 {ERROR_RULE}"]
    assert error["level"] == "error" and error["file"] == name
    span = segment_spans(tmp_path / name, [segment_index(text, "CLM*E1*")])[segment_index(text, "CLM*E1*")]
    assert (int(error["line"]), int(error["endLine"])) == (1, 1)
    # the annotation marks the element the rule tested: CLM07 ('C') of CLM*E1*180***11:B:1*Y*C
    assert span.start_column < int(error["col"]) < span.end_column
    assert text[int(error["col"]) - 1 : int(error["endColumn"]) - 1] == "C"
    assert text[: int(error["col"]) - 1].endswith("CLM*E1*180***11:B:1*Y*")
    assert error["message"].startswith("Claim E1, line 2 (CLM07 in CLM (2300), segment ")
    assert "\nFix: Set CLM07" in error["message"]
    assert by_title[f"CO-21 {WARNING_RULE}"]["level"] == "warning"
    assert by_title[f"CO-5 {INFO_RULE_ID}"]["level"] == "notice"
    unreadable = by_title["input-error"]
    assert unreadable["level"] == "error" and "CLM02 'ABC' is not a number" in unreadable["message"]
    assert text[int(unreadable["col"]) - 1 :].startswith("CLM*B1*ABC")
    for line in result.stdout.splitlines():  # one command per line: newlines were escaped
        assert line.startswith("::") or line.startswith("claim-scrubber: ")


def test_at_most_ten_annotations_per_level(tmp_path):
    body: list[str] = []
    hl = 2
    for number in range(12):
        for make in (error_claim, warning_claim, info_claim):
            body += make(f"{make.__name__[0].upper()}{number}", hl)
            hl += 1
    body += broken_claim("B1", hl)
    (tmp_path / "many.837").write_text(batch(body), encoding="latin-1")
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    result, annotations = run_github("many.837", "--rules", str(info_rule(tmp_path)), *SELECT, cwd=tmp_path, summary=summary)
    levels = [a["level"] for a in annotations]
    assert levels.count("error") == 10 and levels.count("warning") == 10 and levels.count("notice") == 10
    assert [a["message"].split(" ")[1] for a in annotations if a["level"] == "warning"] == [f"W{n}" for n in range(10)]
    assert "claim-scrubber: 7 more annotation(s) not shown (3 error, 2 warning, 2 notice)" in result.stdout
    assert "see the job summary" in result.stdout
    # the step summary: appended (the earlier step's text stays), every finding in the table
    content = summary.read_text(encoding="utf-8")
    assert content.startswith("# earlier step\n### claim-scrubber\n")
    rows = [line for line in content.splitlines() if line.startswith("| ") and not line.startswith("| severity")]
    assert len(rows) == 12 * 3 + 1
    assert sum(f"`{ERROR_RULE}`" in row for row in rows) == 12
    assert sum("| info | many.837 |" in row for row in rows) == 12
    assert "37 claim(s): 0 clean, 36 flagged, 1 unreadable; 36 finding(s) (12 error, 12 warning, 12 info); 1 input problem(s)" in content


def test_no_summary_file_without_the_variable(tmp_path):
    (tmp_path / "b.837").write_text(batch(error_claim("E1", 2) + clean_claim("G1", 3)), encoding="latin-1")
    result, annotations = run_github("b.837", "--select", "CO-111", cwd=tmp_path)
    assert len(annotations) == 1
    assert result.stdout.splitlines()[-1].startswith("claim-scrubber: 1 file(s), 2 claim(s): 1 clean, 1 flagged")
    assert list(tmp_path.iterdir()) == [tmp_path / "b.837"]


def test_clean_run_summary(tmp_path):
    (tmp_path / "c.837").write_text(batch(clean_claim("C1", 2)), encoding="latin-1")
    summary = tmp_path / "summary.md"
    result, annotations = run_github("c.837", "--select", "CO-111", cwd=tmp_path, summary=summary)
    assert result.returncode == 0 and annotations == []
    assert "No findings and no input problems." in summary.read_text(encoding="utf-8")


def test_table_cells_are_escaped_and_the_summary_stays_under_githubs_limit(tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setattr(github, "SUMMARY_LIMIT", 40_000)
    reporter = GithubReporter(io.StringIO(), environ={"GITHUB_STEP_SUMMARY": str(summary)})
    finding = Finding("r", "n", "CO-1", (), (), "error", None, "CLM07", 3, "a | b <script>\nnext", "f", ("s",))
    for number in range(400):
        reporter.claim(ClaimResult(f"C{number}", "x.837", 3, "flagged", [finding]))
    reporter.finish(Summary(files=1, claims=400, flagged=400, findings=400))
    content = summary.read_text(encoding="utf-8")
    assert len(content.encode()) < 40_000
    assert "a \\| b &lt;script&gt;<br>next" in content
    assert "more row(s) not listed" in content
    rows = [line for line in content.splitlines() if line.startswith("| error")]
    assert 0 < len(rows) < 400
