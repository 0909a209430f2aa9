"""``scrubber explain``: a rule's or a denial code's documentation, generated from the rule files."""

from __future__ import annotations

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


def explain_code(code: str, rules: Sequence[RuleSpec]) -> str | None:
    """A denial signature: what it means, who pays, what to do, and the rules that predict it.

    The meaning comes from the remittance classification table (``scrubber/remit/carc.yaml``), so
    `explain` and `scrubber remit` never disagree about a code.
    """
    from scrubber.remit.classify import classify

    group, _, reason = code.partition("-")
    info = classify(group, reason) if reason else None
    known = info is not None and info.known
    predicting = [rule for rule in rules if code in (rule.carc, *rule.derived_from)]
    seen_on_remits = [rule for rule in rules if code in rule.remit_codes and rule not in predicting]
    if not known and not predicting and not seen_on_remits:
        return None
    lines = [f"{code}: {info.name if known else '(no description on file for this code)'}", ""]
    if known:
        lines += ["What it means:", _wrap(info.meaning), ""]
        correction = _correction(reason)
        if correction:
            lines += ["Where the usual write-ups are wrong:", _wrap(correction), ""]
        billable = {True: "yes", False: "no", None: "cannot tell"}[info.patient_billable]
        lines += [
            f"Group {group}:          {info.group_meaning}",
            f"Who pays:          {info.who_pays}",
            f"What to do:        {info.action}",
            f"Bill the patient?  {billable}",
        ]
        if info.note:
            lines += ["Appeal or correct:", _wrap(info.note)]
        lines += ["", "Sources:", *(f"  - {source}" for source in info.sources), ""]
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
    lines += ["", "Run `scrubber explain RULE` for one rule's explanation, fix, sources and all its examples."]
    return "\n".join(lines)


def _correction(reason: str) -> str | None:
    from scrubber.remit.classify import load_table

    entry = load_table().data.codes.get(reason)
    return entry.correction if entry else None


def explain(name: str, rules: Sequence[RuleSpec]) -> str | None:
    for rule in rules:
        if name == rule.id or name in rule.aliases:
            return explain_rule(rule)
    return explain_code(name.upper(), rules)
