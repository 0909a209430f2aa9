"""``scrubber facts``: the facts rule conditions can test, with their X12 origin."""

from __future__ import annotations

import argparse

from scrubber.commands.common import EXIT_CLEAN


def add_parser(commands: argparse._SubParsersAction) -> None:
    commands.add_parser("facts", help="list the facts rules can test")


def run(args: argparse.Namespace) -> int:
    from scrubber.facts import MODEL_FACTS, describe, element_labels

    # Facts named from the model first, then the derived ones (computed in Python, with domain logic).
    specs = sorted(describe(), key=lambda spec: spec.name not in MODEL_FACTS)
    for spec in specs:
        elements = " / ".join(element_labels(spec))
        origin = "model" if spec.name in MODEL_FACTS else "derived"
        print(f"{spec.name:<42} {spec.kind:<9} {spec.scope:<6} {origin:<8} {elements:<28} {spec.description}")
    return EXIT_CLEAN
