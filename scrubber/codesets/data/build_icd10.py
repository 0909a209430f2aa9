"""Build ``icd10cm_editions.txt.xz``: every ICD-10-CM code of each edition shipped, billable or header.

The scrubber judges a diagnosis code against the edition in force on the date of service
(``scrubber.codesets.icd10``). This script turns the official CMS / CDC (NCHS) release files of each
edition into one small file: for every code, one character per edition (``B`` billable, i.e. a leaf
of the tabular list with its 7th character; ``H`` a valid header that is not billable; ``-`` not a
code in that edition). Codes that share a history share a line, so the file is a few dozen lines
and about 50 KB (xz).

Regenerate (or add a year):

1. Download each file of ``SOURCES`` below from its ``url`` and save it under its ``file`` name in
   one directory (``--download`` does it with urllib); the SHA-256 of each is checked.
   For a new fiscal year, append its row first: the CMS "Code Descriptions in Tabular Order" zip of
   https://www.cms.gov/medicare/coding-billing/icd-10-codes (effective October 1), and the April 1
   update when CMS publishes one (an update that changes no code is checked and folded into the
   edition before it).
2. ``python scrubber/codesets/data/build_icd10.py --sources DIR``
   (writes ``scrubber/codesets/data/icd10cm_editions.txt.xz``; ``--out PATH`` to write elsewhere).
3. ``python -m pytest -q tests/test_icd10_years.py`` and review ``--diff`` output (the codes added,
   deleted and changed between editions) before committing.

Inputs understood: a CMS/CDC order-file zip (``icd10cm_order_YYYY.txt`` or ``icd10cm-order-*.txt``
inside: fixed width, code in columns 7-13, column 15 ``1`` billable / ``0`` header), or a
``simple-icd-10-cm`` wheel (its ``data/code-list-*.txt``; a code is billable when no other code
extends it, which the build checks against the order files wherever both cover one edition).
Only code numbers are kept: no titles.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import lzma
import re
import sys
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "icd10cm_editions.txt.xz"
CMS_PAGE = "https://www.cms.gov/medicare/coding-billing/icd-10-codes"
CDC_FTP = "https://ftp.cdc.gov/pub/Health_Statistics/NCHS/Publications/ICD10CM"


@dataclass(frozen=True)
class Source:
    key: str  # edition key: FY2026, or FY2023-04 for an April 1 update
    fiscal_year: int
    effective: dt.date
    label: str
    file: str  # local file name under --sources
    url: str
    sha256: str
    publisher: str

    @property
    def kind(self) -> str:
        return "wheel" if self.file.endswith(".whl") else "order-zip"


SOURCES: tuple[Source, ...] = (
    Source("FY2022", 2022, dt.date(2021, 10, 1), "FY2022", "icd10cm-fy2022-code-descriptions.zip",
           f"{CDC_FTP}/2022/Code%20Descriptions%20zip.zip",
           "bab2b3b041cf4b999f8380f3198c1dd6ca404ba7d5513ec60efc813a97f7c214", "CDC/NCHS"),
    Source("FY2022-04", 2022, dt.date(2022, 4, 1), "FY2022 April 1 update", "icd10cm-fy2022-april.zip",
           "https://www.cms.gov/files/zip/2022-code-descriptions-tabular-order-updated-02012022.zip",
           "423206a194dd6db8384c3b39699ad3c1efa19718677fa81690557732a31bf560", "CMS"),
    Source("FY2023", 2023, dt.date(2022, 10, 1), "FY2023", "icd10cm-fy2023-code-descriptions.zip",
           f"{CDC_FTP}/2023/icd10-Order-CodeFiles2023.zip",
           "a7bfd4511dc154bff96fe0ced5fcd633bd26f997ccd6ae386f5c24595e1789b5", "CDC/NCHS"),
    Source("FY2023-04", 2023, dt.date(2023, 4, 1), "FY2023 April 1 update", "icd10cm-fy2023-april.zip",
           "https://www.cms.gov/files/zip/2023-code-descriptions-tabular-order-updated-01/11/2023.zip",
           "cc7158228f6de01aa08650cc3afe446973a879dd78d44f1fec7150d45cfe1e06", "CMS"),
    Source("FY2024", 2024, dt.date(2023, 10, 1), "FY2024", "icd10cm-fy2024-code-descriptions.zip",
           "https://www.cms.gov/files/zip/2024-code-descriptions-tabular-order-updated-02/01/2024.zip",
           "4b30a68a011edb4aaa5ad3747971ef26f3be09eb925821d78b0d4584be977e3e", "CMS"),
    Source("FY2024-04", 2024, dt.date(2024, 4, 1), "FY2024 April 1 update", "icd10cm-fy2024-april.zip",
           f"{CDC_FTP}/2024-Update/icd10cm-Codes-Descriptions-April-2024.zip",
           "e02044ee1e6b1ac9612653607eb349fe58fc4740347cb322da973860f110a59c", "CDC/NCHS"),
    Source("FY2025", 2025, dt.date(2024, 10, 1), "FY2025", "icd10cm-fy2025-code-descriptions.zip",
           "https://www.cms.gov/files/zip/2025-code-descriptions-tabular-order.zip",
           "4f6c65f0034736d2b02fa9eb1128aab564fa673dd4d99363f8b2167af3994816", "CMS"),
    Source("FY2025-04", 2025, dt.date(2025, 4, 1), "FY2025 April 1 update", "icd10cm-fy2025-april.zip",
           f"{CDC_FTP}/2025-Update/Code-desciptions-April-2025.zip",
           "9a15549b51254e46cdd482ba7d9747921070ed6070af7df4a6052978800a8767", "CDC/NCHS"),
    Source("FY2026", 2026, dt.date(2025, 10, 1), "FY2026", "icd10cm-fy2026-code-descriptions.zip",
           "https://www.cms.gov/files/zip/2026-code-descriptions-tabular-order.zip",
           "55a9124a27ca78a4a5c41e1101eda064ec2e08d105ff9e78d1fbd1a83298ef11", "CMS"),
    Source("FY2026-04", 2026, dt.date(2026, 4, 1), "FY2026 April 1 update", "simple_icd_10_cm-1.5.0-py3-none-any.whl",
           "https://pypi.org/project/simple-icd-10-cm/1.5.0/",
           "6d461d71dc26aedc530ae65f02cfb578a154e49507c32e8241e75f701d4b7e42",
           "CMS/NCHS tabular April 1 2026 via simple-icd-10-cm 1.5.0 (MIT)"),
)

_CODE = re.compile(r"[A-Z][0-9A-Z]{2,6}")  # FY2026 added QA0 codes: a letter second
_ORDER_MEMBER = re.compile(r"(?:^|/)icd10cm[-_]order[-_](?:april-)?\d{4}\.txt$", re.IGNORECASE)
_WHEEL_MEMBER = re.compile(r"simple_icd_10_cm/data/code-list-[^/]*\.txt$")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_tree(table: dict[str, str], where: str) -> None:
    """Billable codes are exactly the leaves: a header has a longer code under it, a billable code none."""
    codes = sorted(table)
    for index, code in enumerate(codes):
        has_child = index + 1 < len(codes) and codes[index + 1].startswith(code)
        if has_child != (table[code] == "H"):
            raise ValueError(f"{where}: {code} is {'billable' if table[code] == 'B' else 'a header'} "
                             f"but {'has' if has_child else 'has no'} longer codes under it")


def read_order_zip(path: Path) -> dict[str, str]:
    """Code -> 'B' / 'H' from a CMS/CDC "Code Descriptions in Tabular Order" zip (its order file)."""
    with zipfile.ZipFile(path) as archive:
        members = [n for n in archive.namelist() if _ORDER_MEMBER.search(n)]
        if len(members) != 1:
            raise ValueError(f"{path.name}: expected one icd10cm order file, found {members}")
        text = archive.read(members[0]).decode("latin-1")
    table: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        code, flag = line[6:13].strip(), line[14:15]
        if not _CODE.fullmatch(code) or flag not in ("0", "1") or code in table:
            raise ValueError(f"{path.name}:{number}: not an order-file line: {line[:20]!r}")
        table[code] = "B" if flag == "1" else "H"
    _check_tree(table, path.name)
    return table


def read_wheel(path: Path) -> dict[str, str]:
    """Code -> 'B' / 'H' from a simple-icd-10-cm wheel's code list (chapters and blocks dropped)."""
    with zipfile.ZipFile(path) as archive:
        members = [n for n in archive.namelist() if _WHEEL_MEMBER.search(n)]
        if len(members) != 1:
            raise ValueError(f"{path.name}: expected one data/code-list-*.txt, found {members}")
        words = archive.read(members[0]).decode("ascii").split()
    codes = sorted({w for w in words if _CODE.fullmatch(w)})  # "1" (chapter), "A00-A09" (block) are not codes
    return {code: "H" if i + 1 < len(codes) and codes[i + 1].startswith(code) else "B"
            for i, code in enumerate(codes)}


def read_source(source: Source, directory: Path) -> dict[str, str]:
    path = directory / source.file
    digest = sha256(path)
    if digest != source.sha256:
        raise ValueError(f"{path}: SHA-256 {digest} is not the {source.sha256} of {source.url}")
    return read_wheel(path) if source.kind == "wheel" else read_order_zip(path)


def download(sources: tuple[Source, ...], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for source in sources:
        target = directory / source.file
        if target.exists() or source.kind == "wheel":
            continue  # the wheel: `pip download simple-icd-10-cm==1.5.0 --no-deps -d DIR`
        request = urllib.request.Request(source.url, headers={"User-Agent": "claim-scrubber build_icd10"})
        with urllib.request.urlopen(request, timeout=120) as response:  # fixed https URLs from SOURCES
            target.write_bytes(response.read())


@dataclass
class Edition:
    source: Source
    table: dict[str, str]
    same_as_next: list[Source]  # later releases with the same codes and flags, folded into this edition


def fold(sources: tuple[Source, ...], tables: list[dict[str, str]]) -> list[Edition]:
    """One edition per release that changes a code or a billable flag; identical releases fold in."""
    editions: list[Edition] = []
    for source, table in sorted(zip(sources, tables), key=lambda pair: pair[0].effective):
        if editions and editions[-1].table == table:
            editions[-1].same_as_next.append(source)
        else:
            editions.append(Edition(source, table, []))
    return editions


def diff(before: dict[str, str], after: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    added = sorted(set(after) - set(before))
    deleted = sorted(set(before) - set(after))
    changed = sorted(code for code in set(before) & set(after) if before[code] != after[code])
    return added, deleted, changed


def render(editions: list[Edition]) -> str:
    codes = sorted(set().union(*(edition.table for edition in editions)))
    groups: dict[str, list[str]] = {}
    for code in codes:
        pattern = "".join(edition.table.get(code, "-") for edition in editions)
        groups.setdefault(pattern, []).append(code)
    newest = editions[-1].source
    as_of = (editions[-1].same_as_next or [newest])[-1].effective  # the newest release read
    header = [
        ("# ICD-10-CM diagnosis codes of each edition: B billable (a leaf, 7th character included), "
         "H valid header (not billable), - not a code"),
        (f"# source: CMS and CDC/NCHS ICD-10-CM code descriptions in tabular order (order files), "
         f"{editions[0].source.label} to {newest.label}, with the April 1 updates; {CMS_PAGE}"),
        f"# as_of: {as_of.isoformat()}",
        ("# built by scrubber/codesets/data/build_icd10.py (see its docstring to regenerate); "
         "each '!' line is an edition, in the order of the pattern characters below:"),
        "#   ! KEY FISCAL_YEAR EFFECTIVE LABEL",
    ]
    for edition in editions:
        source = edition.source
        header.append(f"! {source.key} {source.fiscal_year} {source.effective.isoformat()} {source.label}")
        header.append(f"#   {source.publisher}: {source.url} sha256 {source.sha256}")
        for same in edition.same_as_next:
            header.append(f"#   {same.label} ({same.effective.isoformat()}) changes no code or flag: "
                          f"{same.publisher}: {same.url} sha256 {same.sha256}")
    header.append("# then: PATTERN CODE CODE ... (one character per edition)")
    body = [f"{pattern} {' '.join(group)}" for pattern, group in sorted(groups.items())]
    return "\n".join(header + body) + "\n"


def write(text: str, out: Path) -> int:
    # A 1 MiB dictionary (the text is ~0.7 MB) keeps the reader's memory at ~1 MB; preset 9 alone
    # would make every reader allocate 64 MiB for the same 55 KB file.
    lzma2 = {"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": 1 << 20}
    data = lzma.compress(text.encode("ascii"), format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, filters=[lzma2])
    out.write_bytes(data)
    return len(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=Path, required=True, help="directory holding the SOURCES files")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--download", action="store_true", help="fetch missing order-file zips first")
    parser.add_argument("--diff", action="store_true", help="print the codes added/deleted/changed per edition")
    args = parser.parse_args(argv)
    if args.download:
        download(SOURCES, args.sources)
    tables = [read_source(source, args.sources) for source in SOURCES]
    editions = fold(SOURCES, tables)
    size = write(render(editions), args.out)
    for previous, edition in zip([None, *editions], editions):
        counts = f"{len(edition.table)} codes, {sum(k == 'B' for k in edition.table.values())} billable"
        line = f"{edition.source.label:24} {edition.source.effective}  {counts}"
        if previous is not None:
            added, deleted, changed = diff(previous.table, edition.table)
            line += f"; +{len(added)} -{len(deleted)} ~{len(changed)}"
            if args.diff:
                line += f"\n    added {added}\n    deleted {deleted}\n    flag changed {changed}"
        folded = ", ".join(s.label for s in edition.same_as_next)
        print(line + (f" (same codes: {folded})" if folded else ""))
    print(f"wrote {args.out} ({size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
