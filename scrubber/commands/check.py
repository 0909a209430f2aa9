"""``scrubber check PATH...``: scrub 837P files or directories and report every claim."""

from __future__ import annotations

import argparse
import sys

from scrubber.commands.common import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_USAGE,
    add_rule_options,
    load_rule_selection,
    split_values,
)
from scrubber.engine import ENGINES
from scrubber.findings import ClaimResult, Summary
from scrubber.reporters import FORMATS


def add_parser(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser("check", help="scrub X12 837P files or directories")
    check.add_argument("paths", nargs="+", metavar="PATH", help="837P files or directories of them")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--output", "-o", metavar="FILE", help="write the report here instead of stdout")
    check.add_argument("--fail-on", choices=("error", "warning", "info"), default="error")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings are reported")
    add_rule_options(check)
    check.add_argument("--engine", choices=ENGINES, default="durable")


def run(args: argparse.Namespace) -> int:
    from scrubber.api import assemble_scrubber
    from scrubber.profiles import load_profiles
    from scrubber.inputs import discover, read_file
    from scrubber.reporters import get_reporter

    all_rules, rules = load_rule_selection(args)
    scrubber = assemble_scrubber(all_rules, rules, load_profiles(args.profiles), args.engine, split_values(args.ignore))
    files, problems = discover(args.paths)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    summary = Summary(files=len(files))
    try:
        reporter = get_reporter(args.format)(out)
        for problem in problems:
            summary.errors += 1
            reporter.issue(problem)
        for file in files:
            for event in scrubber.run(read_file(file)):
                if isinstance(event, ClaimResult):
                    summary.add(event)
                    reporter.claim(event)
                else:
                    summary.errors += 1
                    reporter.issue(event)
        reporter.finish(summary)
    finally:
        if out is not sys.stdout:
            out.close()
    if summary.claims == 0:
        print("scrubber: no claim could be read from the input", file=sys.stderr)
        return EXIT_USAGE
    code = summary.exit_code(args.fail_on)
    return EXIT_CLEAN if args.exit_zero and code == EXIT_FINDINGS else code
