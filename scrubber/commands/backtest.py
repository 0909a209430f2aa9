"""``scrubber backtest --claims 837... --remits 835...``: how well each rule predicted what payers did."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from scrubber.commands.common import EXIT_CLEAN, EXIT_USAGE, add_rule_options, load_selected_rules
from scrubber.engine import ENGINES


def add_inputs(parser: argparse.ArgumentParser) -> None:
    """The options ``backtest`` and ``report`` share."""
    parser.add_argument("--claims", nargs="+", action="extend", required=True, metavar="PATH",
                        help="the 837P claims as submitted (files or directories)")
    parser.add_argument("--remits", nargs="+", action="extend", required=True, metavar="PATH",
                        help="the 835 remittances that answered them (files or directories)")
    add_rule_options(parser)
    parser.add_argument("--engine", choices=ENGINES, default="durable")
    parser.add_argument(
        "--redact", action="store_true",
        help="hash claim ids, payer claim numbers, names and member ids in the output, and every value that "
        "identifies a patient in its messages (key: $SCRUBBER_REDACT_KEY)",
    )


def add_parser(commands: argparse._SubParsersAction) -> None:
    backtest = commands.add_parser("backtest", help="measure each rule against 835 remittances")
    add_inputs(backtest)
    backtest.add_argument("--format", choices=("text", "json"), default="text")
    backtest.add_argument("--output", "-o", metavar="FILE", help="write the result here instead of stdout")


def run_inputs(args: argparse.Namespace) -> Any:
    """Scrub the claims and backtest against the remittances; None (after a message) when either is empty."""
    from scrubber.api import get_engine
    from scrubber.pipeline import Scrubber
    from scrubber.remit.backtest import run_backtest

    rules = load_selected_rules(args)
    result = run_backtest(args.claims, args.remits, Scrubber(rules, get_engine(rules, args.engine)))
    if getattr(args, "redact", False):  # the statistics are computed; what is shown is redacted
        from scrubber.redact import Redactor, redact_backtest

        result = redact_backtest(Redactor.from_env(), result)
    for name, count in (("claim", len(result.claims.claims)), ("claim payment", len(result.remits.payments))):
        if not count:
            for issue in result.claims.issues + result.remits.issues:
                print(f"scrubber: {issue.where()}: {issue.message}", file=sys.stderr)
            print(f"scrubber: no {name} could be read from the input", file=sys.stderr)
            return None
    return result


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def write_table(out: TextIO, title: str, rows: dict[str, Any]) -> None:
    width = max([len(title)] + [len(name) for name in rows])
    header = f"{title:<{width}}  flagged  denied  hits  false alarms  misses  precision  recall  $ caught"
    out.write(header + "\n" + "-" * len(header) + "\n")
    for name, stats in rows.items():
        out.write(
            f"{name:<{width}}  {stats.flagged:>7}  {stats.denied:>6}  {stats.hits:>4}  {stats.false_alarms:>12}  "
            f"{stats.misses:>6}  {_ratio(stats.precision):>9}  {_ratio(stats.recall):>6}  {stats.dollars_caught:>8.2f}\n"
        )


def write_text(out: TextIO, result: Any) -> None:
    write_table(out, "denial code", result.codes)
    out.write("\n")
    write_table(out, "rule", result.rules)
    matching = result.matching
    out.write(
        f"\n{len(result.claims.claims)} claim(s), {len(result.remits.payments)} claim payment(s); "
        f"{len(matching.matches)} claim(s) matched (only these are counted), "
        f"{sum(len(m.reversed) for m in matching.matches)} reversal(s) netted\n"
    )
    for claim in matching.unmatched_claims:
        out.write(f"  no remittance for claim {claim.claim_id} ({claim.source.file}, segment {claim.source.segment})\n")
    for payment in matching.unmatched_payments:
        out.write(
            f"  no claim for payment {payment.claim_id} ({payment.source.file}, segment {payment.source.segment})\n"
        )
    for note in matching.notes:
        out.write(f"  note: {note}\n")
    issues = result.claims.issues + result.remits.issues
    if issues:
        out.write("\ninput problems:\n")
        for issue in issues:
            out.write(f"  {issue.where()}: {issue.severity}: {issue.message}\n")


def run(args: argparse.Namespace) -> int:
    result = run_inputs(args)
    if result is None:
        return EXIT_USAGE
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        if args.format == "json":
            out.write(json.dumps(result.to_dict(), indent=2) + "\n")
        else:
            write_text(out, result)
    finally:
        if out is not sys.stdout:
            out.close()
    return EXIT_CLEAN
