"""``--format junit``: JUnit XML, as GitLab (``artifacts:reports:junit``) and Jenkins (``junit`` step) read it.

- ``<testsuites>`` with the totals; one ``<testsuite>`` per input file (``name`` and ``file`` = the path);
- one ``<testcase>`` per claim: ``classname`` = the file, ``name`` = ``<claim id> (segment <n>)``;
  - a clean claim passes;
  - a flagged claim has one ``<failure>``: ``type`` = the severity of its most severe finding,
    ``message`` = that finding, and every finding of the claim (rule, denial code, line, element,
    segment, message, fix) as the text;
  - an unreadable claim has one ``<error type="unreadable">`` saying why;
- an input problem that is not one claim (an envelope segment, a missing file) is a testcase named
  ``input problem (segment <n>)``: an ``<error type="input-error">``, or, for warnings (input read,
  but not as its envelope declared), a passing testcase with the warning in ``<system-out>``;
- nothing is ever ``<skipped>``.

Validated against Jenkins' ``junit-10.xsd`` in the tests (which is why testcases carry no ``file``
attribute: that schema has none; the suite has it). Jenkins splits ``classname`` at its last dot into
package and class, so a file ``a/b.837`` shows as package ``a/b``, class ``837``.

Streaming: a suite's testcases go to a temporary file (in memory up to 1 MiB, then on disk) until the
file changes, because the suite's counts are attributes written before its testcases; finished suites go
to a second temporary file, copied out after the ``<testsuites>`` totals at the end.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from scrubber.findings import ClaimResult, Finding, Report, Summary
from scrubber.model import ParseIssue
from scrubber.rules.spec import SEVERITY_RANK

_SPOOL = 1 << 20
# characters XML 1.0 cannot hold at all (input problems may quote binary garbage)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def _text(text: str) -> str:
    return escape(_clean(text))


def _attr(text: str) -> str:
    return quoteattr(_clean(text), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _spool() -> tempfile.SpooledTemporaryFile:
    return tempfile.SpooledTemporaryFile(max_size=_SPOOL, mode="w+", encoding="utf-8", newline="")


def describe(finding: Finding) -> str:
    place = f"line {finding.line}, " if finding.line is not None else ""
    return f"{finding.severity} {finding.carc} {finding.rule} ({place}{finding.where()}): {finding.message}"


class _Suite:
    def __init__(self, file: str | None):
        self.file = file
        self.tests = self.failures = self.errors = 0
        self.body = _spool()


class JunitReporter:
    def __init__(self, out: TextIO):
        self.out = out
        self.suites = _spool()  # finished suites
        self.suite: _Suite | None = None
        self.tests = self.failures = self.errors = 0

    def _suite_for(self, file: str | None) -> _Suite:
        if self.suite is None or self.suite.file != file:
            self._close_suite()
            self.suite = _Suite(file)
        return self.suite

    def _testcase(self, file: str | None, name: str, inner: str = "", kind: str | None = None) -> None:
        suite = self._suite_for(file)
        suite.tests += 1
        self.tests += 1
        if kind == "failure":
            suite.failures += 1
            self.failures += 1
        elif kind == "error":
            suite.errors += 1
            self.errors += 1
        head = f"    <testcase classname={_attr(file or '<input>')} name={_attr(name)}"
        suite.body.write(f"{head}>\n{inner}    </testcase>\n" if inner else f"{head}/>\n")

    def claim(self, result: ClaimResult) -> None:
        name = f"{result.claim_id or '?'}" + (f" (segment {result.segment})" if result.segment is not None else "")
        if result.row is not None and result.segment is None:
            name += f" (row {result.row})"
        if result.status == "unreadable":
            message = result.error or "claim could not be read"
            inner = f"      <error type=\"unreadable\" message={_attr(message)}>{_text(message)}</error>\n"
            self._testcase(result.file, name, inner, "error")
        elif result.status == "flagged" and result.findings:
            worst = max(result.findings, key=lambda f: SEVERITY_RANK.get(f.severity, 0))
            text = "\n\n".join(f"{describe(finding)}\nfix: {finding.fix}" for finding in result.findings)
            inner = (
                f"      <failure type={_attr(worst.severity)} message={_attr(describe(worst))}>"
                f"{_text(text)}</failure>\n"
            )
            self._testcase(result.file, name, inner, "failure")
        else:
            self._testcase(result.file, name)

    def issue(self, issue: ParseIssue) -> None:
        if issue.unreadable_claim:
            return  # its claim's testcase carries the error
        name = "input problem" + (f" (segment {issue.segment})" if issue.segment is not None else "")
        text = f"{issue.where()}: {issue.message}"
        if issue.severity == "warning":
            self._testcase(issue.file, name, f"      <system-out>{_text('warning: ' + text)}</system-out>\n")
        else:
            inner = f"      <error type=\"input-error\" message={_attr(issue.message)}>{_text(text)}</error>\n"
            self._testcase(issue.file, name, inner, "error")

    def _close_suite(self) -> None:
        suite = self.suite
        if suite is None:
            return
        self.suite = None
        name = suite.file or "<input>"
        self.suites.write(
            f"  <testsuite name={_attr(name)} tests=\"{suite.tests}\" failures=\"{suite.failures}\" "
            f"errors=\"{suite.errors}\" skipped=\"0\" file={_attr(name)}>\n"
        )
        suite.body.seek(0)
        shutil.copyfileobj(suite.body, self.suites)
        suite.body.close()
        self.suites.write("  </testsuite>\n")

    def finish(self, summary: Summary) -> None:
        self._close_suite()
        out = self.out
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(
            f'<testsuites name="claim-scrubber" tests="{self.tests}" failures="{self.failures}" errors="{self.errors}">\n'
        )
        self.suites.seek(0)
        shutil.copyfileobj(self.suites, out)
        self.suites.close()
        if summary.tables:  # the reference tables of the run, so a result can be reproduced
            out.write('  <testsuite name="reference tables" tests="0" failures="0" errors="0" skipped="0">\n    <properties>\n')
            for table in summary.tables:
                value = f"{table['version']} ({table['source']}, {table['rows']} rows)"
                out.write(f"      <property name={_attr('table.' + table['name'])} value={_attr(value)}/>\n")
            out.write("    </properties>\n  </testsuite>\n")
        out.write("</testsuites>\n")


def render(report: Report) -> str:
    from scrubber.reporters import render_with

    return render_with(JunitReporter, report)
