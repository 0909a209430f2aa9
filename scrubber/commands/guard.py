"""``scrubber guard PATH...``: refuse X12 files marked as production data; fail closed.

Production interchanges carry real patients' data, which does not belong in a git repository; the
pre-commit hook ``scrubber-no-production-data`` runs this. Every interchange header (ISA) in every file
is found by a byte scan (a byte-order mark, leading blanks or several interchanges in one file change
nothing), and its ISA15 usage indicator must be ``T`` (test): ``P``, a lower-case ``p``, or any other
value is refused. Directories are searched like ``check`` searches them, but for every file, whatever
its name.

Exit 1 naming each refused file; exit 2 when a path does not exist or cannot be read, or a file that
holds an ISA, or is named like X12 (``.837``, ``.835``, ``.x12``, ``.edi``), cannot be read to its
ISA15 (a guard that cannot read its input does not pass it); 0 when every interchange says ``T``. A
file with no ISA and an other name is not X12 and is left to other hooks.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from scrubber.commands.common import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE

X12_NAMES = frozenset({".837", ".835", ".x12", ".edi"})
CHUNK = 1 << 20
# An ISA at the start of the data or after a non-alphanumeric byte (a terminator, a blank, a BOM), then
# its element separator: any byte that is not a letter, a digit or a blank.
_ISA = re.compile(rb"(?<![A-Za-z0-9])ISA([^A-Za-z0-9\s])")
_ISA_SPAN = 128  # an ISA is 106 bytes; padding errors get some room


class Unreadable(Exception):
    """The file could not be read far enough to vouch for it."""


def add_parser(commands: argparse._SubParsersAction) -> None:
    guard = commands.add_parser(
        "guard", help="refuse X12 files whose ISA15 usage indicator is not T (test); exit 2 on anything unreadable",
        description="Refuse X12 interchanges marked as production data (ISA15 other than T). "
        "Exit codes: 0 every interchange is test data, 1 a file holds production data, 2 a path is missing or unreadable.",
    )
    guard.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (searched recursively)")


def usage_indicators(path: Path) -> list[str]:
    """ISA15 of every interchange in the file, in order ([] when the file holds no ISA)."""
    found: list[str] = []
    tail = b""
    try:
        with path.open("rb") as stream:
            while True:
                chunk = stream.read(CHUNK)
                data = tail + chunk
                cut = len(data) - _ISA_SPAN if chunk else len(data)  # an ISA near the end waits for the next chunk
                for match in _ISA.finditer(data):
                    if match.start() >= cut:
                        break
                    found.append(_isa15(data[match.start() : match.start() + _ISA_SPAN], match.group(1)))
                if not chunk:
                    return found
                # keep the byte before the cut too, so the next scan sees what precedes an ISA there
                tail = data[cut - 1 :] if cut > 0 else data
    except OSError as error:
        raise Unreadable(error.strerror or str(error)) from None


def _isa15(segment: bytes, separator: bytes) -> str:
    elements = segment.split(separator)
    if len(elements) < 17:  # ISA00 (the tag) to ISA16: the header was cut short
        raise Unreadable("an ISA header is cut short before ISA15")
    return elements[15].decode("latin-1").strip()


def _files(paths: list[str]) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    problems: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        elif path.is_file():
            files.append(path)
        elif path.exists():
            problems.append(f"{raw}: not a regular file")
        else:
            problems.append(f"{raw}: no such file or directory")
    return files, problems


def run(args: argparse.Namespace) -> int:
    files, problems = _files(args.paths)
    refused = []
    for path in files:
        try:
            indicators = usage_indicators(path)
        except Unreadable as error:
            problems.append(f"{path}: cannot be read ({error}); refusing it")
            continue
        if not indicators and path.suffix.lower() in X12_NAMES:
            problems.append(f"{path}: named like X12 but holds no ISA header; refusing it")
        bad = [value for value in indicators if value != "T"]
        if bad:
            refused.append((path, bad))
    for path, bad in refused:
        shown = ", ".join(sorted({repr(value) for value in bad}))
        print(
            f"{path}: ISA15 is {shown}, not 'T' (test): production data (real claims) must not be committed; "
            "use test data with ISA15 'T'",
            file=sys.stderr,
        )
    for problem in problems:
        print(f"scrubber guard: {problem}", file=sys.stderr)
    if problems:
        return EXIT_USAGE
    return EXIT_FINDINGS if refused else EXIT_CLEAN
