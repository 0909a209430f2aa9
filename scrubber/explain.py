"""``scrubber explain``: a rule's, a denial code's or a remark code's documentation, generated from the
rule files and the code tables (``scrubber/remit/carc.yaml`` and ``rarc.yaml``).

Codes take the forms ``CO-97`` (group code + CARC), ``97`` (a CARC under every group code it is
described with) and ``N95`` / ``MA02`` (a remittance advice remark code, RARC). A code the tables do
not list is never guessed: ``explain`` returns None and ``unknown_code_message`` says why.
"""

from __future__ import annotations

import re
import textwrap
from typing import Sequence

import yaml

from scrubber.rules.conditions import to_data
from scrubber.rules.spec import RuleSpec


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.indent(textwrap.fill(" ".join(text.split()), 92), indent)


def explain_rule(rule: RuleSpec) -> str:
    parts = [
        f"{rule.id}: {rule.name}",
        f"  denial: {rule.carc}" + (f"  (derived from {', '.join(rule.derived_from)})" if rule.derived_from else "")
        + (f"  RARC: {', '.join(rule.rarc)}" if rule.rarc else "")
        + (f"  seen on remits as: {', '.join(rule.remit_codes)}" if rule.remit_codes else ""),
        f"  severity: {rule.severity}   scope: {rule.scope}   points at: {rule.element}   status: {rule.status}",
        "",
        "Why:",
        _wrap(rule.explanation),
        "",
        "Fix:",
        _wrap(rule.fix),
        "",
        "Condition:",
        textwrap.indent(yaml.safe_dump(to_data(rule.condition), sort_keys=False).rstrip(), "  "),
        "",
        "Sources:",
        *(f"  - {source}" for source in rule.sources),
        "",
        "Examples:",
    ]
    for case in rule.cases:
        parts.append(f"  {_case_line(case)}")
        if case.note:
            parts.append(f"      {case.note}")
    return "\n".join(parts)


def _case_line(case) -> str:
    verdict = {
        "flag": "flags",
        "pass": "passes",
        "near-miss": "near miss, passes",
        "todo-flag": "should flag, does not yet",
        "todo-pass": "should pass, flags today",
    }[case.expect]
    claim = yaml.safe_dump(case.claim, default_flow_style=True, width=1000).strip()
    return f"{case.name} ({verdict}): {claim}"


GROUPED = re.compile(r"([A-Z]{2})-([A-Z0-9]{1,3})")


def _table():
    from scrubber.remit.classify import load_table

    return load_table()


LABEL = " " * len("Bill the patient?  ")


def _retired_lines(kind: str, stop_date: str | None, replaced_by: Sequence[str] = ()) -> list[str]:
    when = f"on {stop_date}" if stop_date and stop_date[0].isdigit() else f"({stop_date})"
    instead = f"; X12 names {', '.join(replaced_by)} instead" if replaced_by else ""
    text = (
        f"X12 deactivated this {kind} {when}{instead}. An older remittance (or the reversal of an old "
        "payment) may still carry it; a new adjudication should not."
    )
    return textwrap.wrap(text, 100, initial_indent="Retired:           ", subsequent_indent=LABEL)


def _status_lines(entry, kind: str, code_list) -> list[str]:
    if entry.retired:
        return _retired_lines(kind, entry.stop_date, getattr(entry, "replaced_by", ()))
    return [f"Status:            active in the X12 list (as of {code_list.as_of.isoformat()})"] if code_list else []


def _predicting(reason: str | None, code: str | None, rules: Sequence[RuleSpec]):
    """Rules whose predicted code is ``code`` (or, for a bare CARC ``reason``, any group with it)."""

    def matches(denial: str) -> bool:
        return denial == code if code else denial.partition("-")[2] == reason

    predicting = [rule for rule in rules if any(matches(c) for c in (rule.carc, *rule.derived_from))]
    seen = [rule for rule in rules if any(matches(c) for c in rule.remit_codes) and rule not in predicting]
    return predicting, seen


RULE_HINT = "Run `scrubber explain RULE` for one rule's explanation, fix, sources and all its examples."


def _rule_lines(predicting, seen_on_remits, hint: str = RULE_HINT) -> list[str]:
    lines = []
    if predicting:
        lines.append(f"Rules that predict it ({len(predicting)}):")
        for rule in predicting:
            lines.append(f"  {rule.severity:<8} {rule.id}: {rule.name}")
            examples = [
                next(case for case in rule.cases if case.expect == expect) for expect in ("flag", "pass", "near-miss")
            ]
            lines += [f"      e.g. {_case_line(case)}" for case in examples]
    else:
        lines.append("No rule predicts it before submission.")
    if seen_on_remits:
        lines.append("")
        lines.append("Rules whose denials are reported on remits with this code:")
        lines += [f"  {rule.severity:<8} {rule.id} (predicts {rule.carc})" for rule in seen_on_remits]
    lines += ["", hint]
    return lines


def explain_code(code: str, rules: Sequence[RuleSpec]) -> str | None:
    """A denial signature: what it means, who pays, what to do, and the rules that predict it.

    The meaning comes from the remittance classification table (``scrubber/remit/carc.yaml``), so
    `explain` and `scrubber remit` never disagree about a code.
    """
    from scrubber.remit.classify import classify

    group, _, reason = code.partition("-")
    info = classify(group, reason) if reason else None
    known = info is not None and info.known
    predicting, seen_on_remits = _predicting(None, code, rules)
    if not known and not predicting and not seen_on_remits:
        return None
    lines = [f"{code}: {info.name if known else '(no description on file for this code)'}", ""]
    if known:
        table = _table()
        entry = table.data.codes[reason]
        lines += ["What it means:", _wrap(info.meaning), ""]
        if entry.correction:
            lines += ["Where the usual write-ups are wrong:", _wrap(entry.correction), ""]
        billable = {True: "yes", False: "no", None: "cannot tell"}[info.patient_billable]
        lines += [
            f"Group {group}:          {info.group_meaning}",
            f"Who pays:          {info.who_pays}",
            f"What to do:        {info.action}",
            f"Bill the patient?  {billable}",
        ]
        if entry.x12_groups:
            lines.append(f"X12 allows it:     only with group {' or '.join(entry.x12_groups)}")
        lines += _status_lines(entry, "code", table.data.code_list)
        if info.note:
            lines += ["Appeal or correct:", _wrap(info.note)]
        lines += ["", "Sources:", *(f"  - {source}" for source in info.sources), ""]
    return "\n".join(lines + _rule_lines(predicting, seen_on_remits))


def explain_carc(reason: str, rules: Sequence[RuleSpec]) -> str | None:
    """A CARC without its group code: what it means and how each group code it comes with is handled."""
    table = _table()
    entry = table.data.codes.get(reason)
    if entry is None:
        return None
    lines = [f"CARC {reason}: {entry.name}", "", "What it means:", _wrap(entry.meaning), ""]
    if entry.correction:
        lines += ["Where the usual write-ups are wrong:", _wrap(entry.correction), ""]
    lines += _status_lines(entry, "code", table.data.code_list)
    if entry.x12_groups:
        lines.append(f"X12 allows it:     only with group {' or '.join(entry.x12_groups)}")
    lines += ["", "By group code:"]
    notes: dict[str, list[str]] = {}
    for group, treatment in entry.groups.items():
        billable = "yes" if treatment.patient_billable else "no"
        lines.append(
            f"  {group + '-' + reason:<8} {treatment.kind}; who pays: {treatment.who_pays}; what to do: "
            f"{treatment.action}; bill the patient? {billable}"
        )
        note = treatment.note or entry.note
        if note:
            notes.setdefault(note, []).append(group)
    if notes:
        lines.append("Appeal or correct:")
        for note, groups in notes.items():
            lines.append(_wrap(f"{', '.join(groups)}: {note}" if len(notes) > 1 else note))
    lines += ["", "Sources:", *(f"  - {source}" for source in entry.sources), ""]
    predicting, seen_on_remits = _predicting(reason, None, rules)
    hint = (f"Run `scrubber explain {next(iter(entry.groups))}-{reason}` for one group code, or `scrubber explain RULE` "
            "for a rule's explanation, fix, sources and examples.")
    return "\n".join(lines + _rule_lines(predicting, seen_on_remits, hint))


def explain_remark(code: str, rules: Sequence[RuleSpec]) -> str | None:
    """A remittance advice remark code (RARC): what it means, whether X12 still lists it, the rules naming it."""
    table = _table()
    entry = table.remark_entry(code)
    if entry is None:
        return None
    kind = "alert (informational remark)" if entry.alert else "remark code"
    lines = [f"{code}: remittance advice {kind}{' (retired)' if entry.retired else ''}", "",
             "What it means:", _wrap(entry.meaning), ""]
    if entry.note:
        lines += ["Note:", _wrap(entry.note), ""]
    lines += _status_lines(entry, "remark code", table.rarc.code_list if table.rarc else None)
    url = f" ({table.rarc.code_list.url})" if table.rarc else ""
    lines += ["", "Sources:", f"  - {entry.source}{url}", ""]
    naming = [rule for rule in rules if code in rule.rarc]
    if naming:
        lines.append(f"Rules that list it with their denial ({len(naming)}):")
        lines += [f"  {rule.severity:<8} {rule.id} (predicts {rule.carc})" for rule in naming]
    else:
        lines.append("No rule lists it.")
    return "\n".join(lines)


def unknown_code_message(name: str) -> str | None:
    """Why ``name`` looks like a code but is not explained, with the list date; None when it is no code."""
    from scrubber.remit.classify import CARC_PATTERN, RARC_PATTERN

    table = _table()
    code = name.upper()
    grouped = GROUPED.fullmatch(code)
    carc_list = table.data.code_list
    rarc_list = table.rarc.code_list if table.rarc else None
    if grouped or CARC_PATTERN.fullmatch(code):
        group, reason = grouped.groups() if grouped else (None, code)
        if group and group not in ("CO", "PR", "OA", "PI", "CR"):
            return f"{name!r}: {group!r} is not a claim adjustment group code (CO, PR, OA, PI or CR)"
        as_of = f" (as of {carc_list.as_of.isoformat()}, {carc_list.url})" if carc_list else ""
        return f"{name!r}: CARC {reason} is not in the X12 claim adjustment reason code list we ship{as_of}"
    if RARC_PATTERN.fullmatch(code):
        as_of = (f" ({len(table.remarks)} codes of the X12 list as of {rarc_list.as_of.isoformat()}, "
                 f"{rarc_list.url})") if rarc_list else ""
        return f"{name!r}: remark code {code} is not in the X12 remark code list we ship{as_of}"
    return None


def explain(name: str, rules: Sequence[RuleSpec]) -> str | None:
    from scrubber.remit.classify import CARC_PATTERN, RARC_PATTERN

    for rule in rules:
        if name == rule.id or name in rule.aliases:
            return explain_rule(rule)
    code = name.upper()
    if RARC_PATTERN.fullmatch(code):
        return explain_remark(code, rules)
    if CARC_PATTERN.fullmatch(code):
        return explain_carc(code, rules)
    return explain_code(code, rules)
