"""``scrubber``: the command line. Thin: flags mirror ``api.scrub``'s arguments.

Exit status of ``check``: 0 nothing at or above --fail-on; 1 something was (or a claim was
unreadable); 2 usage error, or no claim could be read at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from scrubber.engine import ENGINES
from scrubber.findings import Summary
from scrubber.rules import RuleLoadError, RuleSpec, load_rules
from scrubber.rules.select import select_rules, unknown_selectors

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad flags or arguments: reported in one line, exit 2."""


def _split(values: Sequence[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def _parser() -> argparse.ArgumentParser:
    from scrubber.reporters import FORMATS

    parser = argparse.ArgumentParser(
        prog="scrubber", description="Flag US healthcare claims likely to be denied, before they are submitted."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="scrub X12 837P files or directories")
    check.add_argument("paths", nargs="+", metavar="PATH", help="837P files or directories of them")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--output", "-o", metavar="FILE", help="write the report here instead of stdout")
    check.add_argument("--fail-on", choices=("error", "warning", "info"), default="error")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings are reported")
    _add_rule_options(check)
    check.add_argument("--engine", choices=ENGINES, default="durable")

    rules = commands.add_parser("rules", help="list the rules")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    _add_rule_options(rules)

    explain = commands.add_parser("explain", help="explain a rule or a denial code such as CO-111")
    explain.add_argument("name", metavar="RULE-or-CARC")
    explain.add_argument("--rules", action="append", metavar="PATH", help="rule files or directories to add")

    test = commands.add_parser("test", help="run the inline cases of rule files")
    test.add_argument("paths", nargs="*", metavar="RULE_FILE", help="rule files or directories (default: bundled)")
    test.add_argument("--engine", choices=ENGINES + ("both",), default="both")

    commands.add_parser("facts", help="list the facts rules can test")
    return parser


def _add_rule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--select", action="append", metavar="RULE-PREFIX", help="only these rules (id prefix or CARC)")
    parser.add_argument("--ignore", action="append", metavar="RULE-PREFIX", help="skip these rules")
    parser.add_argument("--rules", action="append", metavar="PATH", help="your own rule files or directories, added to the bundled rules")


def _load(args: argparse.Namespace) -> list[RuleSpec]:
    rules = load_rules(args.rules, include_bundled=True) if args.rules else load_rules()
    selectors = _split(getattr(args, "select", None)) + _split(getattr(args, "ignore", None))
    unknown = unknown_selectors(rules, selectors)
    if unknown:
        raise UsageError(f"--select/--ignore {', '.join(unknown)} match no rule (see `scrubber rules`)")
    return select_rules(rules, _split(getattr(args, "select", None)), _split(getattr(args, "ignore", None)))


def _check(args: argparse.Namespace) -> int:
    from scrubber.api import get_engine
    from scrubber.findings import ClaimResult
    from scrubber.inputs import discover, read_file
    from scrubber.pipeline import Scrubber
    from scrubber.reporters import get_reporter

    rules = _load(args)
    scrubber = Scrubber(rules, get_engine(rules, args.engine))
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


def _rules(args: argparse.Namespace) -> int:
    from scrubber.rules.conditions import to_data

    rules = _load(args)
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
        print(f"{rule.carc:<8} {rule.severity:<8} {rule.id:<48} {rule.name}")
    return EXIT_CLEAN


def _explain(args: argparse.Namespace) -> int:
    from scrubber.explain import explain

    rules = load_rules(args.rules, include_bundled=True) if args.rules else load_rules()
    text = explain(args.name, rules)
    if text is None:
        raise UsageError(f"{args.name!r} is neither a rule id nor a denial code of any rule (see `scrubber rules`)")
    print(text)
    return EXIT_CLEAN


def _test(args: argparse.Namespace) -> int:
    from scrubber.rules.testing import run_rule_cases

    rules = load_rules(args.paths) if args.paths else load_rules()
    engines = ENGINES if args.engine == "both" else (args.engine,)
    results = run_rule_cases(rules, engines)
    failed = 0
    for result in results:
        mark = "ok  " if result.passed else "FAIL"
        failed += not result.passed
        print(f"{mark} [{result.engine}] {result.rule}::{result.case} ({result.expect})"
              + ("" if result.passed else f": {result.detail}"))
    print(f"\n{len(results) - failed} passed, {failed} failed ({len(rules)} rules)")
    return EXIT_FINDINGS if failed else EXIT_CLEAN


def _facts(args: argparse.Namespace) -> int:
    from scrubber.facts import describe

    for spec in describe():
        print(f"{spec.name:<42} {spec.type.__name__:<5} {spec.scope:<6} {spec.element:<20} {spec.description}")
    return EXIT_CLEAN


_COMMANDS = {"check": _check, "rules": _rules, "explain": _explain, "test": _test, "facts": _facts}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (UsageError, RuleLoadError) as error:
        print(f"scrubber: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:  # e.g. --output into a missing directory
        print(f"scrubber: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_CLEAN
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
