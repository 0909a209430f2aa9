"""``scrubber tables import KIND FILE... [--store PATH]`` and ``scrubber tables list [--store PATH]``.

The NCCI edit files CMS publishes (procedure pairs, unit limits, add-on codes), or tables in the neutral
CSV layout, imported once into one SQLite store that ``check --table NAME=STORE`` then reads. The store
records each table's version (quarter), source files and import date; ``list`` shows them.
"""

from __future__ import annotations

import argparse
import os
import sys

DEFAULT_STORE = "scrubber-tables.sqlite"
STORE_ENV = "SCRUBBER_TABLES"


def _default_store() -> str:
    return os.environ.get(STORE_ENV) or DEFAULT_STORE


def add_parser(commands: argparse._SubParsersAction) -> None:
    from scrubber.options import TABLE_NAMES

    tables = commands.add_parser(
        "tables", help="import the CMS NCCI edit files (or neutral CSV tables) into a table store; list it",
        description="Reference tables for the table edits (ncci-ptp-pair, mue-units-exceeded, addon-without-primary).",
    )
    actions = tables.add_subparsers(dest="action", required=True, metavar="ACTION")
    importing = actions.add_parser(
        "import", help="read table files into the store (replacing that table's rows)",
        description="Read the practitioner PTP, MUE or add-on code edit files as CMS publishes them (text, CSV or .zip, "
        "preamble lines included) or a neutral CSV, and make them the store's table of that kind, in one transaction.",
    )
    importing.add_argument("kind", choices=TABLE_NAMES, help="which table the files hold")
    importing.add_argument("files", nargs="+", metavar="FILE", help="the table's files (all of one quarter)")
    importing.add_argument("--store", metavar="PATH", default=None, help=f"the store (default: ${STORE_ENV} or {DEFAULT_STORE})")
    listing = actions.add_parser("list", help="what the store holds: each table's version, source files, import date, rows")
    listing.add_argument("--store", metavar="PATH", default=None, help=f"the store (default: ${STORE_ENV} or {DEFAULT_STORE})")


def run(args: argparse.Namespace) -> int:
    from scrubber.tables import import_files, list_tables

    store = args.store or _default_store()
    if args.action == "import":
        result = import_files(args.kind, args.files, store)
        for problem in result.problems:  # at most 200 per file, then one remark counting the rest
            print(f"{problem}" + (": row skipped" if problem.row else ""), file=sys.stderr)
        print(
            f"{result.store}: {result.kind} {result.version}: {result.rows} rows from {', '.join(result.sources)} "
            f"(imported {result.imported_at}; {result.problem_count} row(s) skipped)"
        )
        return 0
    infos = list_tables(store)
    if not infos:
        print(f"{store}: no tables imported yet (scrubber tables import KIND FILE...)")
        return 0
    print(f"{store}:")
    for info in infos:
        print(
            f"  {info.kind:<9} {info.version:<20} {info.rows:>9} rows  imported {info.imported_at}  "
            f"from {', '.join(info.sources)}" + (f"  ({info.problems} row(s) skipped)" if info.problems else "")
        )
    return 0
