"""``scrubber guard FILE...``: refuse X12 files marked as production data (ISA15 = P).

Production interchanges carry real patients' data, which does not belong in a git repository; the
pre-commit hook ``scrubber-no-production-data`` runs this. Exit 1 naming each production file, 0
otherwise; a file that is not X12 is ignored (other hooks judge it).
"""

from __future__ import annotations

import argparse
import sys

from scrubber.commands.common import EXIT_CLEAN, EXIT_FINDINGS


def add_parser(commands: argparse._SubParsersAction) -> None:
    guard = commands.add_parser("guard", help="refuse X12 files whose ISA15 usage indicator is P (production)")
    guard.add_argument("paths", nargs="*", metavar="FILE")


def usage_indicators(path: str) -> list[str]:
    """ISA15 of every interchange in the file ('' for a file that is not X12)."""
    from scrubber.readers.x12_tokens import X12SyntaxError, iter_segments

    found = []
    try:
        with open(path, "rb") as stream:
            for token in iter_segments(stream):
                elements = getattr(token, "elements", None)
                if elements and elements[0] == "ISA":
                    found.append(elements[15].strip() if len(elements) > 15 else "")
    except (OSError, X12SyntaxError):
        pass
    return found


def run(args: argparse.Namespace) -> int:
    refused = [path for path in args.paths if "P" in usage_indicators(path)]
    for path in refused:
        print(f"{path}: ISA15 is 'P' (production data): do not commit real claims; use test data (ISA15 'T')", file=sys.stderr)
    return EXIT_FINDINGS if refused else EXIT_CLEAN
