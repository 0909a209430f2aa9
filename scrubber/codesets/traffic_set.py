"""Write the ``traffic-accident-icd10cm`` code set from the generated traffic-code list.

``scripts/build_traffic_codes.py`` classifies the ICD-10-CM V-codes from the tabular titles and writes
``data/traffic_accident_codes.txt``; this turns that list into the set file the scrubber reads,
``sets/traffic-accident-icd10cm.yaml`` (each code a prefix: the list is closed under descendants).
After regenerating the list::

    python scripts/build_traffic_codes.py
    python -m scrubber.codesets.traffic_set        # rewrites sets/traffic-accident-icd10cm.yaml
"""

from __future__ import annotations

import json
import sys
from importlib.resources import files
from pathlib import Path

from ._data import read_code_list

NAME = "traffic-accident-icd10cm"
LIST_FILE = "traffic_accident_codes.txt"
PER_ROW = 10


def render() -> str:
    """The set file's text for the shipped list (sorted codes, ten to a row)."""
    codes, meta = read_code_list(LIST_FILE)
    ordered = sorted(codes)
    rows = [", ".join(f'"{code}"' for code in ordered[i:i + PER_ROW]) for i in range(0, len(ordered), PER_ROW)]
    lines = [
        "# Generated from data/traffic_accident_codes.txt (scripts/build_traffic_codes.py) by",
        "# `python -m scrubber.codesets.traffic_set`; do not edit by hand.",
        f"# rule: {meta['rule']}",
        "# Each code is a prefix: the list is closed under descendants, so a 7th character or a longer",
        "# subcategory of a listed code is a traffic code too.",
        f"name: {NAME}",
        'description: "ICD-10-CM external-cause codes (V00-V99) for traffic accidents, without 7th characters"',
        "source: " + json.dumps(f"{meta['source']}; classified from the tabular titles by "
                                "scripts/build_traffic_codes.py"),
        f"as_of: {meta['as_of']}",
        "kind: diagnosis",
        "prefixes: [",
        *(f"  {row}," for row in rows),
        "]",
    ]
    return "\n".join(lines) + "\n"


def target() -> Path:
    return Path(str(files(__package__).joinpath("sets", f"{NAME}.yaml")))


def main() -> int:
    path = target()
    path.write_text(render(), encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
