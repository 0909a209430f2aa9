"""``scrubber test [RULE_FILES]``: run the inline cases of bundled or user rule files."""

from __future__ import annotations

import argparse

from scrubber.commands.common import EXIT_CLEAN, EXIT_FINDINGS
from scrubber.engine import ENGINES
from scrubber.profiles import load_profiles
from scrubber.rules import load_rules


def add_parser(commands: argparse._SubParsersAction) -> None:
    test = commands.add_parser("test", help="run the inline cases of rule files")
    test.add_argument("paths", nargs="*", metavar="RULE_FILE", help="rule files or directories (default: bundled)")
    test.add_argument("--engine", choices=ENGINES + ("both",), default="both")
    test.add_argument("--profiles", action="append", metavar="PATH", help="payer profiles to test under (besides the bundled)")


def run(args: argparse.Namespace) -> int:
    from scrubber.rules.testing import run_rule_cases

    rules = load_rules(args.paths) if args.paths else load_rules()
    engines = ENGINES if args.engine == "both" else (args.engine,)
    results = run_rule_cases(rules, engines, load_profiles(args.profiles))
    failed = 0
    for result in results:
        mark = "ok  " if result.passed else "FAIL"
        failed += not result.passed
        detail = "" if result.passed else f": {result.detail}"
        print(f"{mark} [{result.engine}] {result.rule}::{result.case} ({result.expect}){detail}")
    print(f"\n{len(results) - failed} passed, {failed} failed ({len(rules)} rules)")
    return EXIT_FINDINGS if failed else EXIT_CLEAN
