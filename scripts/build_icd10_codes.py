"""Build scrubber/codesets/data/icd10cm_codes.txt.gz from the tabular list shipped in simple-icd-10-cm.

One code per line (no dot), a tab, then B (billable: a leaf, 7th character included) or H (a valid
header that is not billable). The scrubber reads this file instead of importing the library, which
takes ~3 s to parse its XML: `scrubber check` on one claim must start in well under a second.

    python scripts/build_icd10_codes.py [OUT]
"""

from __future__ import annotations

import datetime as dt
import gzip
import sys
import warnings
from importlib import metadata
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "scrubber" / "codesets" / "data" / "icd10cm_codes.txt.gz"


def build_lines() -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd
    lines = []
    for code in icd.get_all_codes(with_dots=False):
        if "-" in code or len(code) < 3 or not code[0].isalpha():
            continue  # chapters ("1") and blocks ("A00-A09") are not codes
        lines.append(f"{code}\t{'B' if icd.is_leaf(code) else 'H'}")
    return sorted(set(lines))


def write(out: Path) -> int:
    lines = build_lines()
    version = metadata.version("simple-icd-10-cm")
    header = [
        "# ICD-10-CM codes: B billable (leaf), H valid header (not billable)",
        "# source: CMS/NCHS ICD-10-CM tabular list as shipped in simple-icd-10-cm "
        f"{version} (MIT); built by scripts/build_icd10_codes.py",
    ]
    # mtime=0 keeps the gzip bytes reproducible, so a rebuild can be compared byte for byte.
    with out.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as stream:
        stream.write(("\n".join(header + lines) + "\n").encode("ascii"))
    return len(lines)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    count = write(target)
    print(f"wrote {count} codes to {target} ({dt.date.today()})")
