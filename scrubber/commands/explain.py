"""``scrubber explain RULE-or-CARC``: documentation generated from the rule files."""

from __future__ import annotations

import argparse

from scrubber.commands.common import EXIT_CLEAN, UsageError
from scrubber.rules import load_rules


def add_parser(commands: argparse._SubParsersAction) -> None:
    explain = commands.add_parser("explain", help="explain a rule or a denial code such as CO-111")
    explain.add_argument("name", metavar="RULE-or-CARC")
    explain.add_argument("--rules", action="append", metavar="PATH", help="rule files or directories to add")


def run(args: argparse.Namespace) -> int:
    from scrubber.explain import explain

    rules = load_rules(args.rules, include_bundled=True)
    text = explain(args.name, rules)
    if text is None:
        raise UsageError(f"{args.name!r} is neither a rule id nor a denial code of any rule (see `scrubber rules`)")
    print(text)
    return EXIT_CLEAN
