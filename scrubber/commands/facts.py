"""``scrubber facts``: the facts rule conditions can test, with their X12 origin."""

from __future__ import annotations

import argparse

from scrubber.commands.common import EXIT_CLEAN


def add_parser(commands: argparse._SubParsersAction) -> None:
    commands.add_parser("facts", help="list the facts rules can test")


def run(args: argparse.Namespace) -> int:
    from scrubber.facts import describe, element_labels

    for spec in describe():
        elements = " / ".join(element_labels(spec))
        print(f"{spec.name:<42} {spec.kind:<9} {spec.scope:<6} {elements:<28} {spec.description}")
    return EXIT_CLEAN
