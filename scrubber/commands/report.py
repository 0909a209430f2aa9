"""``scrubber report --claims 837... --remits 835... --html FILE``: one self-contained HTML report."""

from __future__ import annotations

import argparse
import sys

from scrubber.commands.backtest import add_inputs, run_inputs
from scrubber.commands.common import EXIT_CLEAN, EXIT_USAGE


def add_parser(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report", help="write an HTML report: denials by code and payer, dollars by action, the backtest"
    )
    add_inputs(report)
    report.add_argument("--html", required=True, metavar="FILE", help="where to write the report")


def run(args: argparse.Namespace) -> int:
    from scrubber.remit.html import render_to

    result = run_inputs(args)
    if result is None:
        return EXIT_USAGE
    render_to(args.html, result)
    print(
        f"wrote {args.html}: {len(result.claims.claims)} claim(s), {len(result.remits.payments)} claim payment(s), "
        f"{len(result.matching.matches)} matched",
        file=sys.stderr,
    )
    return EXIT_CLEAN
