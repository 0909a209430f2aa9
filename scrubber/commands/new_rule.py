"""``scrubber new-rule ID [--scope claim|line] [--dir DIR]``: write ``DIR/ID.yaml``, a rule to fill in.

The template has every rule field, each with a comment saying what it is, and the three cases every
rule needs (flag, pass, near-miss) plus a commented ``todo-flag`` example. As written it loads and its
cases pass ``scrubber test``, so an author starts from a green rule and changes it step by step.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from scrubber.commands.common import EXIT_CLEAN, UsageError

_RULE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # as RuleSpec.id

_HEAD = """\
# A claim-scrubber rule: one payer edit, written as data (no Python). After each change run
#   scrubber test {path}
# `scrubber facts` lists the facts a condition can test and the X12 element each comes from;
# `scrubber explain RULE-ID` and the bundled rules show finished rules.

# id: lowercase words joined by '-'; unique across every rule file, the bundled ones included.
id: {id}
# name: what the rule catches, in one line a billing analyst recognises.
name: "TODO: what this rule catches"
# carc: the denial the rule predicts: group code + claim adjustment reason code (CO-16, CO-111, PR-204, ...).
carc: CO-16
# rarc: remittance advice remark codes that usually come with the denial (may stay empty).
rarc: []
# remit_codes: other codes real remittances show for this denial, where they differ from carc.
remit_codes: []
# severity: error (the claim will be denied), warning (may be denied or delayed), info (worth a look).
severity: error
# status: active, experimental or deprecated.
status: active
# default_enabled: false makes an opt-in rule: it runs only when selected (--select) or enabled by a payer profile.
default_enabled: true
# derived_from: seed denial codes the rule was derived from, when they differ from carc.
derived_from: []
# scope: claim (at most one finding per claim) or line (one finding per service line; line facts available).
scope: {scope}
# element: the X12 element a finding points at, as the element map names it: CLM07, SV101-2, '2000B SBR09'.
element: {element}
# when: the condition. A test is {{fact: NAME, OPERATOR: VALUE}} (eq, ne, in, not_in, gt, lt, exists, ...);
# combine tests with all: [...], any: [...] and not: {{...}}. Every test of a fact the claim lacks is false.
when:
  all:
{when}
# message: what is wrong on this claim; {{fact_name}} placeholders are filled in from the claim's facts.
message: "{message}"
# fix: what the biller changes, and in which element, to get the claim paid.
fix: "TODO: what to change, and where"
# explanation: why the payer denies such a claim: the policy, in plain words.
explanation: >-
  TODO: the payer policy behind this edit.
# sources: where the edit comes from (payer manual section, CMS IOM chapter, X12 005010X222A1 element); one or more.
sources:
  - "TODO: cite the payer manual, CMS IOM chapter or X12 element this rule enforces"
# aliases: earlier ids of this rule, so that --select, --ignore and baselines keep working after a rename.
aliases: []
# cases: small claims and the verdict the rule must give on them (`scrubber test` runs them on both engines).
# A case's claim lists only what differs from the base claim (scrubber/rules/testing.py: a commercial payer,
# SBR09 CI; assignment A; one 99213 line dated 2026-01-10). Every rule needs a case that flags, one that
# passes, and a near miss (a claim that almost fits but must not flag). A flag case may pin the lines that
# flag (lines: [2]), where the finding points (segment:, element:) and its text (message_contains:).
cases:
{cases}
  # A known gap: expect todo-flag (should flag, does not yet) or todo-pass (should not flag, does today).
  # It is reported as "todo", not failed, while the gap is there; once the rule gets it right it fails as
  # "fixed" until you turn it into a flag (or pass) case.
  # - name: medicare-advantage-claim
  #   expect: todo-flag
  #   note: Medicare Advantage plans file as HMO or PPO (SBR09 HM, 16); the rule does not see them yet
  #   claim:
  #     payer: {{filing_indicator: "16"}}
"""

_CLAIM_CASES = """\
  - name: medicare-claim
    expect: flag
    claim:
      payer: {filing_indicator: MB}
    element: SBR09
    message_contains: SBR09 is MB
  - name: commercial-claim
    expect: pass
    claim: {}
  - name: medicaid-claim
    expect: near-miss
    note: Medicaid is a government payer too, but this edit is Medicare's
    claim:
      payer: {filing_indicator: MC}"""

_LINE_CASES = """\
  - name: medicare-minimal-visit
    expect: flag
    lines: [2]
    element: SV101-2
    claim:
      payer: {filing_indicator: MB}
      lines: [{procedure: "99213"}, {procedure: "99211"}]
  - name: commercial-minimal-visit
    expect: pass
    claim:
      lines: [{procedure: "99211"}]
  - name: medicare-other-visit
    expect: near-miss
    note: the claim is Medicare's, but its line is not the code the rule is about
    claim:
      payer: {filing_indicator: MB}
      lines: [{procedure: "99213"}]"""


def add_parser(commands: argparse._SubParsersAction) -> None:
    new = commands.add_parser(
        "new-rule", help="write a rule file to fill in (every field, with flag, pass and near-miss cases)",
        description="Write DIR/ID.yaml: a rule template with every field explained, that loads and passes "
        "`scrubber test` as written. Never overwrites a file.",
    )
    new.add_argument("id", metavar="ID", help="the rule id: lowercase words joined by '-' (e.g. mri-brain-needs-prior-auth)")
    new.add_argument("--scope", choices=("claim", "line"), default="claim", help="one finding per claim or per line (default: claim)")
    new.add_argument("--dir", default=".", metavar="DIR", help="where to write ID.yaml (default: the current directory)")


def run(args: argparse.Namespace) -> int:
    if not _RULE_ID.match(args.id):
        raise UsageError(f"rule id {args.id!r}: use lowercase letters and digits in words joined by '-' (e.g. mri-needs-auth)")
    _refuse_bundled_id(args.id)
    directory = Path(args.dir)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory}: not a directory")
    path = directory / f"{args.id}.yaml"
    if path.exists():
        raise UsageError(f"{path} already exists; not overwriting it")
    directory.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as out:
            out.write(template(args.id, args.scope, path))
    except FileExistsError:
        raise UsageError(f"{path} already exists; not overwriting it") from None
    print(f"wrote {path}: fill in the TODOs, then run `scrubber test {path}`")
    return EXIT_CLEAN


def _refuse_bundled_id(rule_id: str) -> None:
    from scrubber.rules import load_rules

    for rule in load_rules():
        if rule_id == rule.id or rule_id in rule.aliases:
            raise UsageError(f"rule id {rule_id!r} is used by a bundled rule ({rule.file}); choose another")


def template(rule_id: str, scope: str, path: Path | str) -> str:
    """The text of a new rule file for ``rule_id`` and ``scope``."""
    if scope == "line":
        when = (
            "    - {fact: payer.filing_indicator, eq: MB}\n"
            "    - {fact: line.procedure, in: [\"99211\"]}\n"
            "    # - {fact: line.procedure, in_set: clinical-lab}   (see `scrubber facts` and docs/writing-rules.md)"
        )
        message = "TODO: what is wrong (line {line.number}, {line.procedure})"
        element, cases = "SV101-2", _LINE_CASES
    else:
        when = "    - {fact: payer.filing_indicator, eq: MB}\n    # - {fact: assignment, eq: C}"
        message, element, cases = "TODO: what is wrong (SBR09 is {payer.filing_indicator})", "2000B SBR09", _CLAIM_CASES
    return _HEAD.format(
        id=rule_id, path=path, scope=scope, element=element, when=when, message=message, cases=cases
    )


