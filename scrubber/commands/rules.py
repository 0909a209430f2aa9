"""``scrubber rules``: list the rules, as text or JSON."""

from __future__ import annotations

import argparse
import json

from scrubber.commands.common import EXIT_CLEAN, add_rule_options, load_selected_rules
from scrubber.rules.conditions import to_data


def add_parser(commands: argparse._SubParsersAction) -> None:
    rules = commands.add_parser("rules", help="list the rules")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    add_rule_options(rules)


def run(args: argparse.Namespace) -> int:
    rules = load_selected_rules(args, include_opt_in=True)  # opt-in rules are listed, marked as such
    if args.format == "json":
        listing = [
            {
                "id": rule.id,
                "name": rule.name,
                "carc": rule.carc,
                "rarc": rule.rarc,
                "remit_codes": rule.remit_codes,
                "severity": rule.severity,
                "status": rule.status,
                "default_enabled": rule.default_enabled,
                "derived_from": rule.derived_from,
                "scope": rule.scope,
                "element": rule.element,
                "when": to_data(rule.condition),
                "sources": rule.sources,
                "file": rule.file,
            }
            for rule in rules
        ]
        print(json.dumps(listing, indent=2))
        return EXIT_CLEAN
    for rule in sorted(rules, key=lambda r: (r.carc, r.id)):
        opt_in = "" if rule.default_enabled else " (opt-in)"
        print(f"{rule.carc:<8} {rule.severity:<8} {rule.id:<48} {rule.name}{opt_in}")
    return EXIT_CLEAN
