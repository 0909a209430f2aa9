"""``--format sarif``: SARIF 2.1.0, as GitHub code scanning reads it (``github/codeql-action/upload-sarif``).

One run. ``tool.driver`` names claim-scrubber and describes in ``rules`` every rule it is given (id, a
PascalCase ``name``, the readable name as ``shortDescription``, the explanation as ``fullDescription``,
``help`` from the explanation, fix and sources, ``defaultConfiguration.level`` from the severity, and
``properties`` with ``carc``, ``rarc``, ``remit_codes``, ``sources``, ``tags``). The reporter does not
load rules itself: ``scrubber check`` passes every rule that ran, a library caller passes them to
``render(report, rules)``; a rule met in a finding but not given is described from the finding.

Each finding is a result with ``ruleId``/``ruleIndex``, ``level`` (error → error, warning → warning,
info → note), a message (claim, line, element, what was found, the fix), one location and
``partialFingerprints``:

- ``physicalLocation``: the file as a URI relative to the working directory (``uriBaseId`` ``%SRCROOT%``;
  run the scrubber from the repository root) and a ``region`` covering the finding's segment: start/end
  line and column *and* ``charOffset``/``charLength``, since X12 files are often one single line;
- ``logicalLocations``: ``ST02=0001/CLM01=A1`` for a claim finding, ``ST02=0001/CLM01=A1/SV1@3`` for a
  finding on service line 3 (LX01);
- ``partialFingerprints["claimScrubber/v1"]``: the first 32 hex digits of SHA-256 over
  ``rule id, claim id (CLM01), line number (LX01, empty for claim findings), element`` joined by
  U+001F. It leaves out the file and the segment position, so an alert survives a file being renamed,
  reordered or batched with other claims; two claims with the same CLM01 and the same problem share it.

Input problems (a file, an envelope segment or a claim that cannot be read) are results too, of the
reserved rule ``input-error`` (level ``error``, or ``warning`` for input read differently from what its
envelope declared): results show in GitHub's alert list, where tool notifications would not. Their
fingerprint hashes ``input-error, claim id, message`` (plus the segment when no claim is known). An
unreadable claim appears once, as its input-error result.

SARIF is one JSON document, so the results wait in memory as small dicts until ``finish`` (no claim
objects are kept); positions are then found with one scan per file that has results (``positions.py``).
"""

from __future__ import annotations

import hashlib
import json
import string
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from scrubber import __version__
from scrubber.findings import ClaimResult, Finding, Report, Summary
from scrubber.model import ParseIssue
from scrubber.reporters.positions import Span, artifact_location, resolve
from scrubber.rules.spec import RuleSpec

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
INPUT_RULE = "input-error"
FINGERPRINT_KEY = "claimScrubber/v1"
TOOL_NAME = "claim-scrubber"


def fingerprint(*parts: object) -> str:
    text = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def finding_fingerprint(finding: Finding, claim_id: str | None) -> str:
    return fingerprint(finding.rule, claim_id, finding.line, finding.element)


def issue_fingerprint(issue: ParseIssue) -> str:
    if issue.claim_id:
        return fingerprint(INPUT_RULE, issue.claim_id, issue.message)
    return fingerprint(INPUT_RULE, "", issue.segment, issue.message)


def logical_name(st_control: str | None, claim_id: str | None, line: int | None) -> str | None:
    """``ST02=0001/CLM01=A1/SV1@3``: transaction set, claim and service line, the parts that are known."""
    parts = []
    if st_control:
        parts.append(f"ST02={st_control}")
    if claim_id:
        parts.append(f"CLM01={claim_id}")
    if line is not None:
        parts.append(f"SV1@{line}")
    return "/".join(parts) or None


class SarifReporter:
    wants_rules = True

    def __init__(self, out: TextIO, rules: Sequence[RuleSpec] | None = None):
        self.out = out
        self.rules = list(rules) if rules is not None else None
        self.results: list[dict[str, Any]] = []
        self.wanted: dict[str | None, set[int]] = defaultdict(set)  # file → segments to locate
        self.seen_rules: dict[str, Finding] = {}  # rules met in findings, for rules not passed in
        self.artifacts: dict[str | None, dict[str, str]] = {}

    # --- events -----------------------------------------------------------------------------------

    def claim(self, result: ClaimResult) -> None:
        if result.status == "unreadable":
            return  # reported by its input problem, which follows
        for finding in result.findings:
            self.seen_rules.setdefault(finding.rule, finding)
            where = f"Claim {result.claim_id}" + (f", line {finding.line}" if finding.line is not None else "")
            where += f" ({finding.where()})"
            self._add(
                rule=finding.rule,
                level=LEVELS.get(finding.severity, "warning"),
                text=f"{where}: {finding.message}\nFix: {finding.fix}",
                file=result.file,
                segment=finding.segment,
                row=result.row,
                element=(finding.position, finding.component) if finding.position is not None else None,
                logical=logical_name(result.st_control, result.claim_id, finding.line),
                fingerprint=finding_fingerprint(finding, result.claim_id),
                properties={
                    "claimId": result.claim_id,
                    "line": finding.line,
                    "element": finding.element,
                    "segment": finding.segment,
                    "carc": finding.carc,
                    "rarc": list(finding.rarc),
                    "severity": finding.severity,
                    "fix": finding.fix,
                },
            )

    def issue(self, issue: ParseIssue) -> None:
        where = issue.where() + (f", claim {issue.claim_id}" if issue.claim_id else "")
        self._add(
            rule=INPUT_RULE,
            level="warning" if issue.severity == "warning" else "error",
            text=f"{where}: {issue.message}",
            file=issue.file,
            segment=issue.segment,
            row=None,
            logical=logical_name(None, issue.claim_id, None),
            fingerprint=issue_fingerprint(issue),
            properties={
                "claimId": issue.claim_id,
                "segment": issue.segment,
                "location": issue.location,
                "unreadableClaim": issue.unreadable_claim,
                "severity": issue.severity,
            },
        )

    def _add(self, *, rule, level, text, file, segment, row, logical, fingerprint, properties, element=None) -> None:
        if file not in self.artifacts:
            self.artifacts[file] = artifact_location(file)
        location: dict[str, Any] = {"physicalLocation": {"artifactLocation": dict(self.artifacts[file])}}
        if logical:
            location["logicalLocations"] = [{"fullyQualifiedName": logical, "name": logical.rsplit("/", 1)[-1], "kind": "element"}]
        self.results.append(
            {
                "ruleId": rule,
                "level": level,
                "message": {"text": _escape(text)},
                "locations": [location],
                "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
                "properties": {key: value for key, value in properties.items() if value is not None},
                "_where": (file, segment, row, element),
            }
        )
        if segment is not None:
            self.wanted[file].add(segment)

    # --- the document -----------------------------------------------------------------------------

    def finish(self, summary: Summary) -> None:
        descriptors = self._descriptors()
        index = {descriptor["id"]: position for position, descriptor in enumerate(descriptors)}
        spans = resolve(self.wanted)
        for result in self.results:
            file, segment, row, element = result.pop("_where")
            result["ruleIndex"] = index[result["ruleId"]]
            span: Span | None = spans.get((file, segment)) if segment is not None else None
            if span is not None and element is not None and "\n" not in span.text and "\r" not in span.text:
                region = span.element_region(*element)  # the element the rule tested, within its segment
            elif span is not None:
                region = span.region()
            elif row is not None:
                region = {"startLine": row}  # a CSV row / JSONL line
            else:
                region = {"startLine": 1}  # the file as a whole (GitHub needs a start line)
            result["locations"][0]["physicalLocation"]["region"] = region
        # ruleIndex right after ruleId reads better; JSON objects are unordered anyway
        results = [{"ruleId": r.pop("ruleId"), "ruleIndex": r.pop("ruleIndex"), **r} for r in self.results]
        driver: dict[str, Any] = {"name": TOOL_NAME, "version": __version__, "semanticVersion": __version__}
        uri = _information_uri()
        if uri:
            driver["informationUri"] = uri
        driver["rules"] = descriptors
        document = {
            "$schema": SCHEMA_URI,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": driver},
                    "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
                    "columnKind": "unicodeCodePoints",
                    "invocations": [{"executionSuccessful": True}],
                    "results": results,
                    "properties": {"summary": summary.to_dict()},
                }
            ],
        }
        json.dump(document, self.out, indent=2)
        self.out.write("\n")
        self.results = []

    def _descriptors(self) -> list[dict[str, Any]]:
        descriptors = [rule_descriptor(rule) for rule in self.rules or ()]
        known = {descriptor["id"] for descriptor in descriptors}
        for rule_id, finding in self.seen_rules.items():
            if rule_id not in known:
                descriptors.append(_finding_descriptor(finding))
                known.add(rule_id)
        descriptors.append(INPUT_DESCRIPTOR)
        return descriptors


# --- rule descriptors -----------------------------------------------------------------------------


def _pascal(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))


def _template(text: str) -> str:
    """A message/fix template with its ``{fact}`` placeholders shown as ``<fact>``."""
    out = []
    for literal, field, _, _ in string.Formatter().parse(text):
        out.append(literal)
        if field:
            out.append(f"<{field}>")
    return "".join(out)


def _escape(text: str) -> str:
    """SARIF message strings write literal braces doubled (§3.11.5: braces mark placeholders)."""
    return text.replace("{", "{{").replace("}", "}}")


def rule_descriptor(rule: RuleSpec) -> dict[str, Any]:
    fix = _template(rule.fix)
    codes = ", ".join([rule.carc, *rule.rarc])
    sources_text = "\n".join(f"- {source}" for source in rule.sources)
    remit = f"\nSeen on remittances as: {', '.join(rule.remit_codes)}" if rule.remit_codes else ""
    text = f"{rule.explanation}\n\nFix: {fix}\n\nDenial: {codes}{remit}\n\nSources:\n{sources_text}"
    markdown = (
        f"**{rule.name}** ({codes})\n\n{rule.explanation}\n\n**Fix:** {fix}\n\n"
        + (f"Seen on remittances as: {', '.join(rule.remit_codes)}\n\n" if rule.remit_codes else "")
        + f"**Sources:**\n\n{sources_text}\n\nPoints at X12 element `{rule.element}` ({rule.scope} rule)."
    )
    return {
        "id": rule.id,
        "name": _pascal(rule.id),
        "shortDescription": {"text": _escape(rule.name)},
        "fullDescription": {"text": _escape(rule.explanation)},
        "help": {"text": _escape(text), "markdown": _escape(markdown)},
        "defaultConfiguration": {"level": LEVELS.get(rule.severity, "warning")},
        "properties": {
            "carc": rule.carc,
            "rarc": list(rule.rarc),
            "remit_codes": list(rule.remit_codes),
            "sources": list(rule.sources),
            "scope": rule.scope,
            "element": rule.element,
            "tags": _tags(rule.carc, rule.rarc, rule.scope),
        },
    }


def _tags(carc: str, rarc: Sequence[str], scope: str) -> list[str]:
    return ["denial-risk", carc, *rarc, f"{scope}-rule"]


def _finding_descriptor(finding: Finding) -> dict[str, Any]:
    """A rule known only from its findings (a report made with rules that were not passed in)."""
    sources = "\n".join(f"- {source}" for source in finding.sources)
    return {
        "id": finding.rule,
        "name": _pascal(finding.rule),
        "shortDescription": {"text": _escape(finding.name)},
        "fullDescription": {"text": _escape(finding.name)},
        "help": {"text": _escape(f"{finding.name}\n\nSources:\n{sources}"), "markdown": _escape(f"**{finding.name}**\n\n**Sources:**\n\n{sources}")},
        "defaultConfiguration": {"level": LEVELS.get(finding.severity, "warning")},
        "properties": {
            "carc": finding.carc,
            "rarc": list(finding.rarc),
            "remit_codes": list(finding.remit_codes),
            "sources": list(finding.sources),
            "element": finding.element,
            "tags": _tags(finding.carc, finding.rarc, "line" if finding.line is not None else "claim"),
        },
    }


INPUT_DESCRIPTOR: dict[str, Any] = {
    "id": INPUT_RULE,
    "name": "InputError",
    "shortDescription": {"text": "Input that could not be read"},
    "fullDescription": {
        "text": "A file, an envelope segment (ISA/GS/ST/SE/GE/IEA) or a claim could not be read as X12 837P. "
        "A claim that cannot be read is reported as unreadable and is not checked by any rule."
    },
    "help": {
        "text": "Fix the input at the segment named in the message and scrub the file again. "
        "Warnings mean the input was read, but not as its envelope declared.",
        "markdown": "Fix the input at the segment named in the message and scrub the file again. "
        "*Warnings* mean the input was read, but not as its envelope declared.",
    },
    "defaultConfiguration": {"level": "error"},
    "properties": {"tags": ["input"]},
}


def _information_uri() -> str | None:
    """The project's home page from the installed package metadata (``[project.urls]``), if it has one."""
    from importlib import metadata

    try:
        meta = metadata.metadata("claim-scrubber")
    except metadata.PackageNotFoundError:
        return None
    urls = {}
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        urls[label.strip().lower()] = url.strip()
    for label in ("homepage", "home", "repository", "source", "documentation"):
        if urls.get(label):
            return urls[label]
    return next(iter(urls.values()), None) or meta.get("Home-page") or None


def render(report: Report, rules: Sequence[RuleSpec] | None = None) -> str:
    """A collected report as a SARIF document; ``rules`` (e.g. ``scrubber.rules.load_rules()``, or the rules
    the scrub ran) are described in ``tool.driver.rules`` besides those met in findings."""
    from scrubber.reporters import render_with

    return render_with(SarifReporter, report, rules=rules)
