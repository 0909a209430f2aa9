"""``scrubber explain RULE-or-CODE``: documentation generated from the rule files and the code tables.

CODE is a denial code with its group (``CO-97``), a bare CARC (``97``) or a remark code (``N95``,
``MA02``). A code the tables do not list is a usage error (exit 2) that names the X12 list and the
date it was checked against.
"""

from __future__ import annotations

import argparse

from scrubber.commands.common import EXIT_CLEAN, UsageError
from scrubber.rules import load_rules


def add_parser(commands: argparse._SubParsersAction) -> None:
    explain = commands.add_parser(
        "explain", help="explain a rule, a denial code (CO-111, or a bare CARC such as 97) or a remark code (N95)"
    )
    explain.add_argument("name", metavar="RULE-or-CODE")
    explain.add_argument("--rules", action="append", metavar="PATH", help="rule files or directories to add")


def run(args: argparse.Namespace) -> int:
    from scrubber.explain import explain, unknown_code_message

    rules = load_rules(args.rules, include_bundled=True)
    text = explain(args.name, rules)
    if text is None:
        why = unknown_code_message(args.name)
        if why:
            raise UsageError(f"{why}; not a rule id either (see `scrubber rules`)")
        raise UsageError(f"{args.name!r} is neither a rule id nor a denial or remark code (see `scrubber rules`)")
    print(text)
    return EXIT_CLEAN
