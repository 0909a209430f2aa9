"""What several commands share: exit codes, usage errors, loading and selecting rules."""

from __future__ import annotations

import argparse
from typing import Sequence

from scrubber.errors import UsageError  # defined there so lower layers can raise it; commands import it here
from scrubber.rules import RuleSpec, load_rules
from scrubber.rules.select import select_rules, unknown_selectors

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def split_values(values: Sequence[str] | None) -> list[str]:
    """Repeatable, comma-separated option values as one flat list."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def add_rule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--select", action="append", metavar="RULE-PREFIX",
        help="only these rules: a comma-separated list of rule ids, id prefixes or denial codes "
        "(--select CO-16,timely-filing); repeatable",
    )
    parser.add_argument(
        "--ignore", action="append", metavar="RULE-PREFIX",
        help="skip these rules: a comma-separated list of rule ids, id prefixes or denial codes; repeatable",
    )
    parser.add_argument(
        "--rules", action="append", metavar="PATH", help="your own rule files or directories, added to the bundled rules"
    )
    parser.add_argument(
        "--profiles", action="append", metavar="PATH", help="your own payer profiles (YAML files or directories); they win over the bundled ones"
    )


def load_selected_rules(args: argparse.Namespace, include_opt_in: bool = False) -> list[RuleSpec]:
    return load_rule_selection(args, include_opt_in)[1]


def load_rule_selection(args: argparse.Namespace, include_opt_in: bool = False) -> tuple[list[RuleSpec], list[RuleSpec]]:
    """All loaded rules, and the ones --select/--ignore choose (unknown selectors are a usage error)."""
    rules = load_rules(args.rules, include_bundled=True)
    select = split_values(getattr(args, "select", None))
    ignore = split_values(getattr(args, "ignore", None))
    unknown = unknown_selectors(rules, select + ignore)
    if unknown:
        raise UsageError(f"--select/--ignore {', '.join(unknown)} match no rule (see `scrubber rules`)")
    return rules, select_rules(rules, select, ignore, include_opt_in=include_opt_in)


def add_table_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--table", action="append", metavar="NAME=PATH", type=table_option, default=None,
        help="a reference table for the table edits: ncci-ptp, mue or addon = a neutral CSV, a CMS file or a "
        "store from `scrubber tables import` (repeat for each table; wins over the configuration's)",
    )


def table_option(text: str) -> tuple[str, str]:
    """``ncci-ptp=ncci.sqlite`` → ('ncci-ptp', 'ncci.sqlite')."""
    from scrubber.options import TABLE_NAMES

    name, equals, path = text.partition("=")
    if not equals or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: write NAME=PATH, NAME one of {', '.join(TABLE_NAMES)}")
    if name not in TABLE_NAMES:
        raise argparse.ArgumentTypeError(f"unknown table {name!r}; the tables are {', '.join(TABLE_NAMES)}")
    return name, path
