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
        f"  denial: {rule.carc}" + (f"  RARC: {', '.join(rule.rarc)}" if rule.rarc else "")
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
        verdict = {"flag": "flags", "pass": "passes", "near-miss": "near miss, passes"}[case.expect]
        parts.append(f"  {case.name} ({verdict}): {yaml.safe_dump(case.claim, default_flow_style=True, width=1000).strip()}")
        if case.note:
            parts.append(f"      {case.note}")
    return "\n".join(parts)


def explain(name: str, rules: Sequence[RuleSpec]) -> str | None:
    for rule in rules:
        if name == rule.id or name in rule.aliases:
            return explain_rule(rule)
    code = name.upper()
    matching = [rule for rule in rules if rule.carc == code or code in rule.remit_codes]
    if not matching:
        return None
    lines = [f"{code}: predicted by {len(matching)} rule(s)", ""]
    for rule in matching:
        lines.append(f"  {rule.severity:<8} {rule.id}: {rule.name}")
    lines.append("")
    lines.append(f"Run `scrubber explain RULE` for one rule's explanation, fix, sources and examples.")
    return "\n".join(lines)
