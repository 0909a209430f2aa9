"""Synthetic full-size NCCI tables in the CMS layouts (and/or the neutral CSV), then timings.

    python benchmarks/generate_tables.py /tmp/ncci                    # CMS layouts, full size, timed
    python benchmarks/generate_tables.py /tmp/ncci --pairs 20000 --format both --seed 1
    python benchmarks/generate_tables.py /tmp/ncci --no-bench        # files only

Writes into the directory given (created if needed):

=================================================  ==========================================
file                                               what
=================================================  ==========================================
``ccipra-v321r0-f1.txt`` ... ``-f4.txt``           PTP pairs, split over four files by column 1
                                                   code as CMS does, tab-delimited, CRLF, with a
                                                   preamble and the header wrapped over 4 lines
``MCR_MUE_PractitionerServices_Eff_04-01-2026.csv``  MUE rows, CSV, preamble, ``"HCPCS/\\nCPT Code"``
``AOC_V2026Q2-MCR.txt``                            add-on code edits, tab-delimited, Julian dates
``neutral-ptp.csv`` / ``-mue.csv`` / ``-addon.csv``  the same rows in the neutral layout
                                                   (``--format neutral`` or ``both``)
=================================================  ==========================================

Codes are synthetic: 5-digit numbers (``10001``) and HCPCS-style ``A1234``; no descriptor text is
written anywhere. The same ``--seed`` and sizes give the same bytes.

Unless ``--no-bench``: imports the CMS files (or the neutral ones with ``--format neutral``) into
``DIR/ncci.sqlite`` and prints how long each import takes; then, in a fresh Python process, how long
opening each kind of the store takes and how long lookups take (the first one, and the mean of
``--lookups`` random ones); then, unless ``--no-direct``, how long ``open_table`` takes on the PTP
text files themselves (read into memory) and that process's peak memory.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

PTP_NAMES = [f"ccipra-v321r0-f{part}.txt" for part in (1, 2, 3, 4)]
MUE_NAME = "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv"
AOC_NAME = "AOC_V2026Q2-MCR.txt"
RATIONALES = [f"Synthetic rationale {n}" for n in range(1, 9)]
QUARTER_STARTS = [(year, month) for year in range(1996, 2027) for month in (1, 4, 7, 10)]
QUARTER_ENDS = {1: (3, 31), 4: (6, 30), 7: (9, 30), 10: (12, 31)}
PTP_HEADER = [
    ["Column 1", "Column 2", "*=in existence", "Effective", "Deletion", "Modifier", "PTP Edit Rationale"],
    ["", "", "prior to 1996", "Date", "Date", "0=not allowed", ""],
    ["", "", "", "", "*=no data", "1=allowed", ""],
    ["", "", "", "", "", "9=not applicable", ""],
]


def code_pool(rng: random.Random, numeric: int = 13_000, hcpcs: int = 3_000) -> list[str]:
    """Distinct synthetic codes, sorted: 5-digit numbers and letter + 4 digits."""
    numbers = rng.sample(range(10_000, 100_000), numeric)
    letters = rng.sample([f"{letter}{n:04d}" for letter in "AEGJL" for n in range(1, 10_000)], hcpcs)
    return sorted([f"{n:05d}" for n in numbers] + letters)


def quarter_start(rng: random.Random, after: int = 0) -> int:
    year, month = rng.choice([q for q in QUARTER_STARTS if q[0] * 10000 + q[1] * 100 + 1 >= after] or QUARTER_STARTS)
    return year * 10000 + month * 100 + 1


def quarter_end_after(rng: random.Random, effective: int) -> int:
    year, month = effective // 10000, effective // 100 % 100
    later = [(y, m) for y, m in QUARTER_STARTS if (y, m) >= (year, month)]
    y, m = rng.choice(later)
    end_month, end_day = QUARTER_ENDS[m]
    return y * 10000 + end_month * 100 + end_day


def ptp_rows(rng: random.Random, codes: list[str], pairs: int) -> list[tuple]:
    """``pairs`` rows (column1, column2, prior1996, effective, deletion, modifier, rationale), sorted."""
    per_code = max(1, pairs // len(codes))
    rows: list[tuple] = []
    column1_codes = iter(codes * (pairs // (per_code * len(codes)) + 2))
    while len(rows) < pairs:
        column1 = next(column1_codes)
        count = min(pairs - len(rows), rng.randint(1, 2 * per_code))
        for column2 in rng.sample(codes, min(count, len(codes))):
            if column2 == column1:
                continue
            effective = quarter_start(rng)
            draw = rng.random()
            if draw < 0.04:  # deleted retroactively: deletion = effective, indicator 9
                deletion, modifier = str(effective), "9"
            elif draw < 0.22:
                deletion, modifier = str(quarter_end_after(rng, effective)), rng.choice("01")
            else:
                deletion, modifier = "*", "1" if rng.random() < 0.65 else "0"
            prior = "*" if effective == 19960101 and rng.random() < 0.5 else ""
            rows.append((column1, column2, prior, str(effective), deletion, modifier, rng.choice(RATIONALES)))
    rows.sort(key=lambda row: (row[0], row[1], row[3]))
    return rows


def mue_rows(rng: random.Random, codes: list[str], count: int) -> list[tuple]:
    labels = {1: "1 Line Edit", 2: "2 Date of Service Edit: Policy", 3: "3 Date of Service Edit: Clinical"}
    chosen = sorted(rng.sample(codes, min(count, len(codes))))
    rows = []
    for code in chosen:
        mai = rng.choice((1, 2, 2, 3, 3, 3))
        units = rng.choice((0, 1, 1, 1, 2, 3, 4, 6, 10, 24, 50, 250))
        rows.append((code, str(units), labels[mai], rng.choice(RATIONALES)))
    return rows


def julian(value: int) -> str:
    import datetime

    day = datetime.date(value // 10000, value // 100 % 100, value % 100)
    return f"{day.year}{day.timetuple().tm_yday:03d}"


def aoc_rows(rng: random.Random, codes: list[str], count: int) -> list[tuple]:
    """(type, addon, addon_del, primary, primary_del, edit_eff, edit_del, notes) rows, ``count`` of them."""
    rows: list[tuple] = []
    addons = iter(rng.sample(codes, len(codes)))
    while len(rows) < count:
        addon = next(addons)
        edit_type = rng.choice((1, 1, 1, 1, 2, 3))
        effective = julian(quarter_start(rng, after=20130401))
        if edit_type == 2:
            rows.append(("2", addon, "", "CCCCC", "", effective, "", "Contractor Defined Primary Codes"))
            continue
        for primary in rng.sample(codes, min(count - len(rows), rng.randint(1, 10))):
            deletion = julian(quarter_end_after(rng, 20200101)) if rng.random() < 0.1 else ""
            rows.append((str(edit_type), addon, "", primary, "", effective, deletion, ""))
    return rows[:count]


def write_lines(path: Path, lines: list[str]) -> None:
    with path.open("w", encoding="ascii", newline="") as handle:
        handle.write("\r\n".join(lines))
        handle.write("\r\n")


def write_cms(out: Path, ptp: list[tuple], mue: list[tuple], aoc: list[tuple]) -> list[Path]:
    notice = "Synthetic benchmark file in the CMS {} layout: the codes are made up and carry no descriptor."
    part_size = -(-len(ptp) // len(PTP_NAMES))
    written = []
    for index, name in enumerate(PTP_NAMES):
        chunk = ptp[index * part_size : (index + 1) * part_size]
        lines = [notice.format("practitioner PTP") + "\t" * 6, "Column1/Column2 Edits" + "\t" * 6]
        lines += ["\t".join(cells) for cells in PTP_HEADER]
        lines += ["\t".join(row) for row in chunk]
        write_lines(out / name, lines)
        written.append(out / name)
    lines = [f'"{notice.format("practitioner MUE")}"', '"A second notice line, as CMS prints one."', ""]
    lines += ['"HCPCS/', 'CPT Code",Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale']
    lines += [",".join(row) for row in mue]
    write_lines(out / MUE_NAME, lines)
    header = "AOC_Edit_Type\tAdd-On_Code\tAOC_DelDT\tPrimary_Code\tPrimary_Code_DelDT\tAOC_Edit_EffDT"
    header += "\tAOC_Edit_DelDT\tSpecial_Instruction_Notes"
    lines = [notice.format("add-on code edit") + "\t" * 7, header] + ["\t".join(row) for row in aoc]
    write_lines(out / AOC_NAME, lines)
    return [*written, out / MUE_NAME, out / AOC_NAME]


def write_neutral(out: Path, ptp: list[tuple], mue: list[tuple], aoc: list[tuple]) -> list[Path]:
    with (out / "neutral-ptp.csv").open("w", encoding="ascii", newline="") as handle:
        handle.write("column1,column2,effective,deletion,modifier_indicator\n")
        for c1, c2, _prior, eff, dele, mod, _why in ptp:
            handle.write(f"{c1},{c2},{eff},{'' if dele == '*' else dele},{mod}\n")
    with (out / "neutral-mue.csv").open("w", encoding="ascii", newline="") as handle:
        handle.write("code,max_units,indicator\n")
        for code, units, mai, _why in mue:
            handle.write(f"{code},{units},{mai[0]}\n")
    with (out / "neutral-addon.csv").open("w", encoding="ascii", newline="") as handle:
        handle.write("addon,primary,type\n")
        for edit_type, addon, _adel, primary, _pdel, _eff, _edel, _notes in aoc:
            handle.write(f"{addon},{'' if primary == 'CCCCC' else primary},{edit_type}\n")
    return [out / "neutral-ptp.csv", out / "neutral-mue.csv", out / "neutral-addon.csv"]


# --- timings ------------------------------------------------------------------------------------

_PEAK = r"""
def peak_rss_mb():  # this process's own high-water mark (ru_maxrss would include the parent's at fork)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
"""

_PROBE = (
    _PEAK
    + r"""
import json, random, sys, time
from datetime import date
t0 = time.perf_counter()
from scrubber.tables import open_table
imported = time.perf_counter() - t0
store, lookups, ptp_codes, mue_codes, aoc_codes, partner = json.loads(sys.stdin.read())
rng = random.Random(0)
out = {"import_module_s": imported}
day = date(2026, 5, 4)
for kind, codes in (("ncci-ptp", ptp_codes), ("mue", mue_codes), ("addon", aoc_codes)):
    t0 = time.perf_counter()
    table = open_table(kind, store)
    out[kind + " open_s"] = time.perf_counter() - t0
    if kind == "ncci-ptp":
        asks = [("pair", lambda c: table.pair(c, partner[c], day)), ("pairs_for", table.pairs_for)]
    elif kind == "mue":
        asks = [("limit", lambda c: table.limit(c, day))]
    else:
        asks = [("primaries", lambda c: table.primaries(c, day))]
    for name, ask in asks:
        t0 = time.perf_counter()
        ask(codes[-1])
        out[f"{kind} {name} first_ms"] = (time.perf_counter() - t0) * 1000
        sample = [rng.choice(codes) for _ in range(lookups)]
        t0 = time.perf_counter()
        for code in sample:
            ask(code)
        out[f"{kind} {name} us_mean"] = (time.perf_counter() - t0) / lookups * 1e6
    table.close()
out["peak_rss_mb"] = peak_rss_mb()
print(json.dumps(out))
"""
)

_DIRECT = (
    _PEAK
    + r"""
import json, sys, time
from datetime import date
from scrubber.tables import open_table
paths = json.loads(sys.stdin.read())
t0 = time.perf_counter()
table = open_table("ncci-ptp", paths)
took = time.perf_counter() - t0
t1 = time.perf_counter()
table.pairs_for("10001")
print(json.dumps({"rows": table.rows, "open_s": took, "first_lookup_ms": (time.perf_counter() - t1) * 1000,
                  "peak_rss_mb": peak_rss_mb()}))
"""
)


def bench(out: Path, files: dict[str, list[Path]], codes: dict, lookups: int, direct: bool) -> None:
    from scrubber.tables import import_files

    store = out / "ncci.sqlite"
    store.unlink(missing_ok=True)
    for kind, paths in files.items():
        t0 = time.perf_counter()
        result = import_files(kind, paths, store)
        took = time.perf_counter() - t0
        print(
            f"import {kind:8} {result.rows:>9,} rows in {took:7.2f} s "
            f"({result.rows / took:>9,.0f} rows/s), {result.problem_count} problems, version {result.version}"
        )
    print(f"store {store}: {store.stat().st_size / 1e6:,.1f} MB")
    argument = json.dumps([str(store), lookups, codes["ncci-ptp"], codes["mue"], codes["addon"], codes["partner"]])
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE], input=argument, stdout=subprocess.PIPE, text=True, check=True
    )
    result = json.loads(probe.stdout)
    print(f"fresh process: import scrubber.tables {result['import_module_s'] * 1000:.0f} ms")
    for kind, names in (("ncci-ptp", ("pair", "pairs_for")), ("mue", ("limit",)), ("addon", ("primaries",))):
        print(f"  {kind:8} open {result[kind + ' open_s'] * 1000:6.1f} ms")
        for name in names:
            print(
                f"    {name:9} first {result[f'{kind} {name} first_ms']:6.2f} ms, {lookups} random codes "
                f"{result[f'{kind} {name} us_mean']:7.1f} us each (per-table cache included)"
            )
    print(f"  peak RSS {result['peak_rss_mb']:.0f} MB")
    if direct:
        argument = json.dumps([str(p) for p in files["ncci-ptp"]])
        probe = subprocess.run(
            [sys.executable, "-c", _DIRECT], input=argument, stdout=subprocess.PIPE, text=True, check=True
        )
        result = json.loads(probe.stdout)
        print(
            f"open_table('ncci-ptp', the text files) in memory: {result['rows']:,} rows in {result['open_s']:.2f} s, "
            f"first lookup {result['first_lookup_ms']:.2f} ms, peak RSS {result['peak_rss_mb']:.0f} MB"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="directory to write into (created if needed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pairs", type=int, default=2_000_000, help="PTP pairs (default 2,000,000)")
    parser.add_argument("--mue", type=int, default=15_000, help="MUE rows (default 15,000)")
    parser.add_argument("--addon", type=int, default=1_000, help="add-on rows (default 1,000)")
    parser.add_argument("--format", choices=("cms", "neutral", "both"), default="cms")
    parser.add_argument("--lookups", type=int, default=10_000, help="random lookups timed per kind")
    parser.add_argument("--no-bench", action="store_true", help="write the files only")
    parser.add_argument("--no-direct", action="store_true", help="do not time open_table on the PTP text files")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    codes = code_pool(rng)
    ptp = ptp_rows(rng, codes, args.pairs)
    mue = mue_rows(rng, codes, args.mue)
    aoc = aoc_rows(rng, codes, args.addon)
    written: list[Path] = []
    if args.format in ("cms", "both"):
        written += write_cms(args.out, ptp, mue, aoc)
    if args.format in ("neutral", "both"):
        written += write_neutral(args.out, ptp, mue, aoc)
    size = sum(p.stat().st_size for p in written) / 1e6
    print(f"wrote {len(written)} files, {size:,.1f} MB, in {time.perf_counter() - t0:.1f} s to {args.out}")
    print(f"  {len(ptp):,} PTP pairs, {len(mue):,} MUE rows, {len(aoc):,} add-on rows (seed {args.seed})")
    if args.no_bench:
        return 0
    if args.format == "neutral":
        files = {
            "ncci-ptp": [args.out / "neutral-ptp.csv"],
            "mue": [args.out / "neutral-mue.csv"],
            "addon": [args.out / "neutral-addon.csv"],
        }
    else:
        files = {
            "ncci-ptp": [args.out / n for n in PTP_NAMES],
            "mue": [args.out / MUE_NAME],
            "addon": [args.out / AOC_NAME],
        }
    probe_codes = {
        "ncci-ptp": sorted({row[0] for row in ptp}),
        "partner": {row[0]: row[1] for row in ptp},  # a column 2 code of each column 1 code
        "mue": [row[0] for row in mue],
        "addon": sorted({row[1] for row in aoc}),
    }
    bench(args.out, files, probe_codes, args.lookups, direct=not args.no_direct)
    return 0


if __name__ == "__main__":
    sys.exit(main())
