"""``scrubber test [RULE_FILES]``: run the inline cases of bundled or user rule files.

The rules are loaded as ``check`` loads them: the bundled rules, the configuration's ``rules`` and the
files named here, all at once, so a rule id used twice is refused here as it would be there (with
every problem of every file). Only the named files' rules are tested (all of them when none is named),
under the payer profiles ``check`` would apply (the configuration's ``profiles``, or ``--profiles``,
then the bundled ones): a profile's ``disable`` drops a rule's findings on its claims, and an opt-in rule
that a profile enables runs only for that profile's claims.

Each case prints one line: ``ok``, ``FAIL``, ``todo`` (a known gap, reported, not failed) or ``fixed``
(a todo case the rule now gets right: it fails until the case is turned into a flag or pass case); then
``N passed, M failed, K todo (R rules)``. Exit 1 when any case failed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from scrubber.commands.common import EXIT_CLEAN, EXIT_FINDINGS
from scrubber.engine import ENGINES

if TYPE_CHECKING:
    from scrubber.pipeline import Scrubber
    from scrubber.rules import RuleCase, RuleSpec
    from scrubber.rules.testing import CaseResult

MARKS = {"ok": "ok   ", "fail": "FAIL ", "todo": "todo ", "fixed": "fixed"}

# Called after each case with what it ran on: the place for per-case extras such as ``--trace``
# (the facts the rule saw, which condition was false). Return the lines to print under the case.
CaseHook = Callable[["RuleSpec", "RuleCase", "Scrubber", "CaseResult"], list[str]]


def add_parser(commands: argparse._SubParsersAction) -> None:
    test = commands.add_parser(
        "test", help="run the inline cases of rule files",
        description="Run the inline cases of rule files (default: the bundled rules and the configuration's), "
        "under the payer profiles that `check` applies.",
    )
    test.add_argument("paths", nargs="*", metavar="RULE_FILE", help="rule files or directories (default: bundled)")
    test.add_argument("--engine", choices=ENGINES + ("both",), default="both")
    test.add_argument(
        "--profiles", action="append", metavar="PATH",
        help="payer profiles to test under (besides the bundled; default: the configuration's)",
    )
    test.add_argument("--config", metavar="FILE", help="scrubber.toml or pyproject.toml (default: found upward from here)")
    test.add_argument(
        "--trace", nargs="?", const="*", metavar="RULE",
        help="for each case (of RULE, or of every rule), show the facts the rule saw and which part of its condition was false",
    )


def run(args: argparse.Namespace) -> int:
    from scrubber.profiles import load_profiles

    options = _options(args)
    rules, tested = _rules_to_test(args.paths, options.rulesets)
    engines = ENGINES if args.engine == "both" else (args.engine,)
    for rule in tested:
        for warning in rule.warnings:
            print(f"warning: {rule.file}: rule {rule.id!r}: {warning}")
    counts = _run_cases(tested, engines, load_profiles(options.profiles), _case_hook(args))
    passed, failed, todo = counts["ok"], counts["fail"] + counts["fixed"], counts["todo"]
    print(f"\n{passed} passed, {failed} failed, {todo} todo ({len(tested)} rules)")
    return EXIT_FINDINGS if failed else EXIT_CLEAN


def _options(args: argparse.Namespace):
    """The configuration's scrub options (rules, profiles), with ``--profiles`` winning, as in ``check``."""
    from scrubber.config import find_config, load_config

    config = load_config(Path(args.config) if args.config else find_config())
    return config.scrub_options(profiles=args.profiles)


def _rules_to_test(paths: list[str], rulesets) -> tuple[list, list]:
    """Every rule ``check`` would load (bundled, configured, named: a duplicate id anywhere is refused),
    and the ones to test: those of the named files, or all of them."""
    from scrubber.rules import load_rules
    from scrubber.rules.load import expand_rule_paths

    rules = load_rules([*(rulesets or ()), *paths], include_bundled=True)
    if not paths:
        return rules, rules
    files, _ = expand_rule_paths(paths)  # a missing path was refused by load_rules
    named = {file.resolve() for file in files}
    return rules, [rule for rule in rules if rule.file is not None and Path(rule.file).resolve() in named]


def _case_hook(args: argparse.Namespace) -> CaseHook | None:
    """Per-case extras the flags ask for: ``--trace``."""
    wanted = getattr(args, "trace", None)
    if wanted is None:
        return None

    def trace(rule, case, scrubber, result) -> list[str]:
        if wanted != "*" and wanted not in (rule.id, *rule.aliases):
            return []
        if scrubber.engine.name != "python" and "python" in ENGINES and getattr(args, "engine", "both") == "both":
            return []  # trace each case once, on the reference engine's turn
        return _trace_case(rule, case, scrubber)

    return trace


def _trace_case(rule, case, scrubber) -> list[str]:
    """The facts the rule read and each part of its condition with its verdict, per claim or line."""
    from pydantic import ValidationError

    from scrubber.facts import claim_facts
    from scrubber.rules.evaluate import group_by_claim, trace
    from scrubber.rules.spec import show
    import tempfile

    from scrubber.rules.testing import build_case_claim, case_tables, through_x12

    try:
        claim = through_x12(build_case_claim(case.claim))
    except ValidationError:
        return ["      (the case's claim is malformed)"]
    profile = scrubber.profiles.for_claim(claim) if scrubber.profiles is not None else None
    (facts,) = list(group_by_claim(claim_facts(claim, "0", profile, scrubber.model_facts)))
    records = [(facts.claim, None, "claim")] if rule.scope == "claim" else [
        (line, index, f"line {line.get('line.number', index + 1)}") for index, line in enumerate(facts.lines)
    ]
    out = []
    with tempfile.TemporaryDirectory(prefix="scrubber-trace-") as directory:
        tables = case_tables(case, directory) if case.tables else scrubber.tables
        for record, index, label in records:
            seen = {name: show(name, record[name]) for name in sorted(rule.facts) if name in record}
            missing = sorted(name for name in rule.facts if name not in record)
            out.append(f"      {label}: facts {seen}" + (f"; missing {missing}" if missing else ""))
            out += [f"        {line}" for line in trace(rule.condition, record, facts, index, tables=tables)]
    return out


def _run_cases(rules, engines, profiles, hook: CaseHook | None) -> dict[str, int]:
    """Run and print every case; the number of cases per status."""
    from scrubber.rules.testing import iter_rule_cases

    counts = dict.fromkeys(MARKS, 0)
    for rule, case, scrubber, result in iter_rule_cases(rules, engines, profiles):
        counts[result.status] += 1
        print(_case_line(result))
        if hook is not None:
            for extra in hook(rule, case, scrubber, result):
                print(f"      {extra}")
    return counts


def _case_line(result: CaseResult) -> str:
    detail = "" if result.status == "ok" else f": {result.detail}"
    return f"{MARKS[result.status]} [{result.engine}] {result.rule}::{result.case} ({result.expect}){detail}"
