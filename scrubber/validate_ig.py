"""``scrubber check --validate``: pyx12's 837P implementation-guide validation, reported as findings.

pyx12 (the optional ``[validate]`` extra, pinned to 4.0.0) checks a file against its map of the
005010X222A1 TR3 (SNIP levels 1-2: segment order and repeats, required segments and elements, lengths,
characters, code values, dates). Each error becomes a finding of the reserved ``x12-ig-*`` rule family
(CARC CO-16, RARC MA130: the claim is returned as unprocessable), attached to the claim whose segments
hold it; an error in a subscriber, patient or billing-provider level is attached to every claim under
it, and an envelope error (ISA/GS/ST/SE/GE/IEA) is listed with the input problems.

pyx12 4.0.0 problems worked around here:
- its ``x12valid`` command's exit status does not say whether a file is valid: we call
  ``x12n_document`` and read its JSON error document instead;
- it has no map for ``005010X222A2`` (which real files declare): GS08/ST03 ``…A2`` are rewritten to
  ``…A1`` in an in-memory copy, and every finding from such a file says it was checked against A1;
- it opens files as ASCII (a non-ASCII byte raises): it is given the text decoded as latin-1;
- it logs every error with the offending value (claim data) on the ``pyx12`` logger: silenced here;
- it raises on input it cannot walk (no map, not X12): that becomes one input problem, never a crash;
- its messages carry input values bare or in parentheses (``invalid date (1947-11-23)``, ``Segment
  zz*SMITH*M123 not found``): under ``--redact`` (a ``Redactor`` given to ``with_ig_findings``) every
  message is redacted here, before it leaves this module, with the identifying values of the whole file
  (names, ids, addresses, birth dates, claim ids, REF*F8: ``redact.x12_identifying_values``) and every
  value of the segment the error is about; so is the reason validation could not run.
It also loads its XML maps again for every file (about 0.5 s a file) and parses about 190 claims/s.
"""

from __future__ import annotations

import bisect
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from scrubber.errors import UsageError
from scrubber.findings import ClaimResult, Finding
from scrubber.model import ParseIssue
from scrubber.readers.x12_tokens import Segment, X12SyntaxError, iter_segments

RULE_PREFIX = "x12-ig-"
CARC = "CO-16"
RARC = ("MA130",)
DECLARED, VALIDATED = "005010X222A2", "005010X222A1"
PYX12_VERSION = "4.0.0"
MAP_SOURCE = f"X12 005010X222A1 837P implementation guide (TR3), as encoded in pyx12 {PYX12_VERSION}'s map 837.5010.X222.A1.xml"

# X12 999 IK304 (segment) and IK403 (element) syntax error codes, as pyx12 reports them.
SEGMENT_ERRORS = {
    "1": ("unrecognized-segment", "unrecognized segment"),
    "2": ("unexpected-segment", "unexpected segment"),
    "3": ("missing-segment", "required segment or loop missing"),
    "4": ("loop-repeats-too-often", "loop occurs more often than allowed"),
    "5": ("segment-repeats-too-often", "segment occurs more often than allowed"),
    "6": ("segment-not-in-transaction", "segment not in the transaction set"),
    "7": ("segment-out-of-order", "segment not in proper sequence"),
    "8": ("segment-element-errors", "segment has data element errors"),
    "I4": ("segment-not-used", "implementation 'not used' segment present"),
    "I6": ("implementation-segment-missing", "implementation-dependent segment missing"),
    "I7": ("loop-below-minimum", "loop occurs fewer times than required"),
    "I8": ("segment-below-minimum", "segment occurs fewer times than required"),
    "I9": ("implementation-segment-not-used", "implementation-dependent 'not used' segment present"),
}
ELEMENT_ERRORS = {
    "1": ("missing-element", "required data element missing"),
    "2": ("missing-conditional-element", "conditionally required data element missing"),
    "3": ("too-many-elements", "too many data elements"),
    "4": ("element-too-short", "data element too short"),
    "5": ("element-too-long", "data element too long"),
    "6": ("invalid-character", "invalid character in data element"),
    "7": ("invalid-code", "invalid code value"),
    "8": ("invalid-date", "invalid date"),
    "9": ("invalid-time", "invalid time"),
    "10": ("exclusion-violated", "exclusion condition violated"),
    "12": ("too-many-repetitions", "too many repetitions"),
    "13": ("too-many-components", "too many components"),
    "I10": ("element-not-used", "implementation 'not used' data element present"),
    "I11": ("too-few-repetitions", "too few repetitions"),
    "I12": ("pattern-mismatch", "implementation pattern match failure"),
    "I13": ("implementation-element-not-used", "implementation-dependent 'not used' data element present"),
    "I6": ("code-not-used", "code value not used in the implementation"),
    "I9": ("implementation-element-missing", "implementation-dependent data element missing"),
}
FIX = (
    "Correct {where} to the 005010X222A1 implementation guide and resubmit: a payer or clearinghouse front "
    "end rejects a claim that fails implementation-guide edits (999/277CA) before adjudication."
)


class ValidationUnavailable(UsageError):
    """pyx12 is not installed (a usage error: exit 2 with the install command)."""


def require_pyx12() -> None:
    try:
        import pyx12.x12n_document  # noqa: F401
    except ImportError as error:
        raise ValidationUnavailable(f"--validate needs pyx12 ({error}): pip install 'claim-scrubber[validate]'") from None


@dataclass
class _Scope:
    """A transaction set, an HL level or a claim (2300 and its 2400s): the claims an error there concerns."""

    parent: "_Scope | None"
    claims: list[int] = field(default_factory=list)  # CLM segment positions


@dataclass
class _Layout:
    """Which claims each segment of the file belongs to, from our own tokenizer."""

    scopes: dict[int, _Scope] = field(default_factory=dict)  # segment position -> innermost scope
    lines: dict[int, int] = field(default_factory=dict)  # segment position -> LX01 of its 2400 loop
    claim_starts: list[int] = field(default_factory=list)  # CLM positions, ascending
    claim_ends: list[int] = field(default_factory=list)  # last segment position of each claim

    def claim_at(self, segment: int | None) -> int | None:
        """The CLM position of the claim whose 2300 block holds ``segment``."""
        if segment is None:
            return None
        at = bisect.bisect_right(self.claim_starts, segment) - 1
        if at >= 0 and segment <= self.claim_ends[at]:
            return self.claim_starts[at]
        return None


def _layout(data: bytes) -> _Layout:
    layout = _Layout()
    transaction = hl_scope = claim = None
    levels: dict[str, _Scope] = {}
    line: int | None = None
    try:
        for segment in iter_segments(io.BytesIO(data)):
            if not isinstance(segment, Segment):
                continue
            kind, index = segment.id, segment.index
            if claim is not None and kind in ("CLM", "HL", "SE", "ST"):
                layout.claim_ends.append(index - 1)
                claim = None
            if kind == "ST":
                transaction = hl_scope = _Scope(None)
                levels, line = {}, None
            elif kind == "HL" and transaction is not None:
                hl_scope = levels[segment.get(1)] = _Scope(levels.get(segment.get(2), transaction))
                line = None
            elif kind == "CLM" and hl_scope is not None:
                claim = _Scope(hl_scope)
                layout.claim_starts.append(index)
                scope: _Scope | None = claim
                while scope is not None:
                    scope.claims.append(index)
                    scope = scope.parent
                line = None
            elif kind == "LX" and claim is not None:
                line = int(segment.get(1)) if segment.get(1).isascii() and segment.get(1).isdigit() else None
            if kind in ("ISA", "GS", "GE", "IEA"):
                continue
            current = claim or (transaction if kind in ("SE", "ST") else hl_scope)
            if current is not None:
                layout.scopes[index] = current
            if claim is not None and line is not None:
                layout.lines[index] = line
            if kind == "SE":
                transaction = hl_scope = None
    except X12SyntaxError:
        pass  # our reader reports it; errors past this point stay file-level
    if claim is not None:
        layout.claim_ends.append(1 << 62)
    return layout


def _rewrite_a2(text: str) -> tuple[str, bool]:
    """GS08 / ST03 ``005010X222A2`` → ``…A1`` (same length, so segment positions do not move)."""
    if DECLARED not in text or len(text) < 106 or not text.startswith("ISA"):
        return text, False
    element, terminator = text[3], text[105]
    pieces = text.split(terminator)
    changed = False
    for position, piece in enumerate(pieces):
        stripped = piece.lstrip()
        if stripped[:3] in (f"GS{element}", f"ST{element}") and DECLARED in piece:
            elements = piece.split(element)
            pieces[position] = element.join(VALIDATED if value == DECLARED else value for value in elements)
            changed = changed or pieces[position] != piece
    return terminator.join(pieces), changed


def _run_pyx12(text: str) -> dict[str, Any]:
    require_pyx12()
    import pyx12.params
    import pyx12.x12n_document

    pyx12_log = logging.getLogger("pyx12")
    saved = pyx12_log.level
    pyx12_log.setLevel(logging.CRITICAL + 1)  # it logs each error with the offending value (its children inherit this)
    out = io.StringIO()
    try:
        valid = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=io.StringIO(text), fd_997=None, fd_html=None, fd_json=out
        )
    finally:
        pyx12_log.setLevel(saved)
    if not out.getvalue():  # it returns False without an error document when the text is not X12 to it
        raise ValueError("pyx12 does not read this file as X12" if not valid else "pyx12 wrote no error document")
    return json.loads(out.getvalue())


@dataclass(frozen=True)
class _Error:
    level: str  # interchange / group / transaction / segment / element
    code: str
    message: str
    segment: int | None
    segment_id: str | None = None
    element: str | None = None


def _errors(document: dict[str, Any]) -> Iterator[_Error]:
    for isa in document.get("interchanges", []):
        for error in isa.get("errors", []):
            yield _Error("interchange", str(error["err_cde"]), error["err_str"], isa.get("cur_line"), "ISA")
        for gs in isa.get("groups", []):
            for error in gs.get("errors", []):
                yield _Error("group", str(error["err_cde"]), error["err_str"], gs.get("cur_line"), "GS")
            for st in gs.get("transactions", []):
                for error in st.get("errors", []):
                    yield _Error("transaction", str(error["err_cde"]), error["err_str"], st.get("cur_line"), "ST")
                for seg in st.get("segments", []):
                    for error in seg.get("errors", []):
                        yield _Error("segment", str(error["err_cde"]), error["err_str"], seg.get("cur_line"), seg.get("seg_id"))
                    for ele in seg.get("elements", []):
                        name = f"{seg.get('seg_id')}{int(ele['ele_pos']):02d}" if ele.get("ele_pos") else seg.get("seg_id")
                        if ele.get("subele_pos"):
                            name += f"-{int(ele['subele_pos'])}"
                        for error in ele.get("errors", []):
                            yield _Error("element", str(error["err_cde"]), error["err_str"], seg.get("cur_line"), seg.get("seg_id"), name)


def _finding(error: _Error, line: int | None, rewritten: bool) -> Finding:
    table = ELEMENT_ERRORS if error.level == "element" else SEGMENT_ERRORS
    slug, title = table.get(error.code, (f"{error.level}-error", f"{error.level} error"))
    element = error.element or error.segment_id or ""
    message = error.message
    if rewritten:
        message += f" (checked against {VALIDATED}: the file declares {DECLARED}, for which pyx12 has no map)"
    table_name = "IK403" if error.level == "element" else "IK304"
    return Finding(
        rule=RULE_PREFIX + slug,
        name=f"X12 implementation guide: {title}",
        carc=CARC,
        rarc=RARC,
        remit_codes=(),
        severity="error",
        line=line,
        element=element,
        segment=error.segment,
        message=message,
        fix=FIX.format(where=element or "the segment"),
        sources=(MAP_SOURCE, f"X12 999 {table_name} syntax error code {error.code}"),
    )


def _segment_values(text: str) -> dict[int, list[str]]:
    """Every element, component and repetition value (3+ characters) of each segment, by 1-based position,
    split with the first ISA's delimiters: unknown segments (``zz*...``) included, which our tokenizer skips."""
    body = text.lstrip("\ufeff\xef\xbb\xbf \t\r\n")
    if len(body) < 106 or not body.startswith("ISA"):
        return {}
    element, repetition, component, terminator = body[3], body[82], body[104], body[105]
    values: dict[int, list[str]] = {}
    index = 0
    for piece in body.split(terminator):
        piece = piece.strip(" \t\r\n")
        if not piece:
            continue
        index += 1
        found: list[str] = []
        for value in piece.split(element)[1:]:
            parts = {value}
            for separator in (repetition, component):
                if separator.isalnum() or separator.isspace():
                    continue
                parts |= {part for whole in parts for part in whole.split(separator)}
            found += [part.strip() for part in parts if len(part.strip()) >= 3]
        values[index] = found
    return values


def _redacting(data: bytes, text: str, redactor: Any) -> Any:
    """``(message, segment) -> message`` with every identifying value of the file and every value of that segment hashed."""
    from scrubber.redact import x12_identifying_values

    redactor.learn(x12_identifying_values(data))
    by_segment = _segment_values(text)
    # Not the quoted-values rule of input problems: pyx12 quotes its own element names ("Subscriber Birth Date").
    return lambda message, segment=None: redactor.text(message, by_segment.get(segment, ()) if segment is not None else ())


def validate(
    data: bytes, file: str | None, redactor: Any = None
) -> tuple[dict[int, list[Finding]], list[ParseIssue], _Layout]:
    """Findings by CLM position, and input problems (envelope errors, or why validation could not run).

    ``redactor`` (``scrubber.redact.Redactor``): every message is redacted (see the module docstring).
    """
    text, rewritten = _rewrite_a2(data.decode("latin-1"))
    layout = _layout(data)
    redact = _redacting(data, text, redactor) if redactor is not None else (lambda message, segment=None: message)
    try:
        document = _run_pyx12(text)
    except ValidationUnavailable:
        raise
    except Exception as error:  # noqa: BLE001 - pyx12 raises EngineError, and worse, on input it cannot walk
        reason = str(error).strip() or type(error).__name__
        reason = redactor.free_text(redact(reason)) if redactor is not None else reason
        return {}, [ParseIssue(file=file, location="x12-ig", message=f"implementation-guide validation could not run: {reason}")], layout
    by_claim: dict[int, list[Finding]] = {}
    issues: list[ParseIssue] = []
    for error in _errors(document):
        error = _Error(error.level, error.code, redact(error.message, error.segment), error.segment, error.segment_id, error.element)
        scope = layout.scopes.get(error.segment) if error.level in ("segment", "element") else None
        claims = scope.claims if scope is not None else []
        if not claims:
            where = f"{RULE_PREFIX}{error.level}"
            note = f" (checked against {VALIDATED})" if rewritten else ""
            issues.append(ParseIssue(file=file, segment=error.segment, location=where, message=f"{error.message}{note}"))
            continue
        finding = _finding(error, layout.lines.get(error.segment) if error.segment is not None else None, rewritten)
        for clm in claims:
            found = by_claim.setdefault(clm, [])
            if finding not in found:
                found.append(finding)
    return by_claim, issues, layout


def with_ig_findings(
    files: Sequence[str | Path], events: Iterable[tuple[int, Any, Any]], enabled: bool = True, redactor: Any = None
) -> Iterator[tuple[int, Any, Any]]:
    """The check command's ``(file position, event, raw claim id)`` stream with pyx12's findings added.

    A pass-through unless ``enabled``; files that are not X12 pass through unchanged. Events of one file
    come together, so each file is validated when its first event arrives. With ``redactor`` (``--redact``)
    pyx12's messages are redacted here, and so is the claim id of an input problem made from a finding:
    needed with ``--jobs`` (events arrive already redacted and the reporter is not wrapped).
    """
    if not enabled:
        return iter(events)
    require_pyx12()  # before the first event, so a missing extra is a usage error up front
    return _with_findings(files, events, redactor)


def _with_findings(
    files: Sequence[str | Path], events: Iterable[tuple[int, Any, Any]], redactor: Any = None
) -> Iterator[tuple[int, Any, Any]]:
    current: _FileState | None = None
    for position, event, raw_id in events:
        if current is None or current.position != position:
            if current is not None:
                yield from current.leftovers()
            current = _FileState(position, files[position], redactor)
        yield position, current.attach(event), raw_id
    if current is not None:
        yield from current.leftovers()


class _FileState:
    def __init__(self, position: int, path: str | Path, redactor: Any = None):
        self.position, self.path = position, str(path)
        self.redactor = redactor
        self.by_claim: dict[int, list[Finding]] = {}
        self.issues: list[ParseIssue] = []
        self.layout = _Layout()
        try:
            data = Path(path).read_bytes()
        except OSError:
            return  # the reader reports why the file cannot be read
        if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:3] == b"ISA":
            self.by_claim, self.issues, self.layout = validate(data, self.path, redactor)

    def attach(self, event: Any) -> Any:
        if isinstance(event, ClaimResult) and self.by_claim:
            clm = event.segment if event.segment in self.by_claim else self.layout.claim_at(event.segment)
            extra = self.by_claim.pop(clm, []) if clm is not None else []
            if extra and event.status == "unreadable":  # reported with the input problems, as the claim is
                self.issues += [self._issue(finding, event.claim_id) for finding in extra]
            elif extra:
                event.findings.extend(sorted(extra, key=lambda finding: (finding.segment or 0, finding.rule)))
                if event.status == "clean":
                    event.status = "flagged"
        return event

    def _issue(self, finding: Finding, claim_id: str | None) -> ParseIssue:
        if claim_id and self.redactor is not None:
            claim_id = self.redactor.token(claim_id)
        return ParseIssue(
            file=self.path, segment=finding.segment, location=f"{finding.rule} {finding.element}".strip(),
            claim_id=claim_id, message=finding.message,
        )

    def leftovers(self) -> Iterator[tuple[int, ParseIssue, None]]:
        """Envelope errors, and findings for a claim the reader did not report, as input problems."""
        for findings in self.by_claim.values():
            self.issues += [self._issue(finding, None) for finding in findings]
        self.by_claim = {}
        for issue in self.issues:
            yield self.position, issue, None
        self.issues = []
