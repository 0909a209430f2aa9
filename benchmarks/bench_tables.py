"""What full-size reference tables cost the check: throughput, peak memory, opening the store.

    python benchmarks/bench_tables.py [--claims 20000] [--pairs 2000000] [--rounds 3] [--seed 0]

1. Writes synthetic tables of the real sizes in the CMS layouts with ``generate_tables.py`` (about two
   million PTP pairs, 15,000 MUE rows, 1,000 add-on rows; cached under ``benchmarks/out/``), plus rows
   for the procedure codes the benchmark claims bill (pairs among them with every modifier indicator, a
   unit limit for each, two add-on codes), so the check looks up codes that are in the tables, as it would
   on a real batch.
2. Imports them into one store (``scrubber tables import``), timed.
3. Times opening each kind of the store in a fresh process.
4. Runs ``scrubber check FILE --format json --output /dev/null --jobs 1`` on an N-claim file from
   ``generate_837p.py``, without tables and with the three tables, alternating, in fresh processes; wall
   time and peak RSS (``os.wait4``) of each run, and the medians; and, from one more run of each, how many
   findings it reports.

Prints a markdown table; the README quotes it.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

from generate_837p import PROCEDURES  # noqa: E402  (the codes the benchmark claims bill)

KINDS = ("ncci-ptp", "mue", "addon")


def timed_child(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of ``python ARGS``, measured with wait4 on that child alone."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"python {' '.join(args)} exited {code}: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return wall, usage.ru_maxrss / 1024


def write_benchmark_rows(directory: Path) -> dict[str, Path]:
    """Neutral tables for the benchmark claims' own codes, imported beside the synthetic CMS files: every
    code has a unit limit and pairs with every other code, so each line's lookups find rows, as on a real
    batch; only a few of them are edits the claims break (a pair with indicator 0 or 1, a per-date limit of
    1 on one code, an add-on and its primaries), so the cost measured is the lookups', not that of
    reporting a finding on most claims."""
    codes = sorted(PROCEDURES)
    breaking_pairs = {("99214", "85025"): 1, ("80053", "85025"): 0}
    pairs = directory / "bench-ptp.csv"
    with pairs.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["column1", "column2", "effective", "deletion", "modifier_indicator"])
        for first in codes:
            for second in codes:
                if first != second:  # pairs not in force on the claims' dates, except the breaking ones
                    breaking = (first, second) in breaking_pairs
                    writer.writerow([first, second, "20200101", "" if breaking else "20201231",
                                     breaking_pairs.get((first, second), 1)])
    limits = directory / "bench-mue.csv"
    with limits.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["code", "max_units", "indicator"])
        for code in codes:
            writer.writerow([code, 1 if code == "99214" else 20, 2 if code == "99214" else 1])
    addons = directory / "bench-addon.csv"
    with addons.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["addon", "primary", "type"])
        writer.writerow(["90833", "99213", 1])
        writer.writerow(["90833", "99214", 1])
    return {"ncci-ptp": pairs, "mue": limits, "addon": addons}


def findings_count(args: list[str]) -> int:
    """The findings one check reports (a separate run with the JSON report kept)."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "report.json"
        subprocess.run([sys.executable, *args, "--output", str(report)], cwd=ROOT, check=True, capture_output=True)
        return json.loads(report.read_text())["summary"]["findings"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()

    OUT.mkdir(exist_ok=True)
    tables = OUT / f"tables-{options.pairs}-{options.seed}"
    if not (tables / "AOC_V2026Q2-MCR.txt").exists():
        subprocess.run([sys.executable, str(HERE / "generate_tables.py"), str(tables), "--pairs", str(options.pairs),
                        "--seed", str(options.seed), "--no-bench"], check=True)
    extra = write_benchmark_rows(tables)
    cms = {
        "ncci-ptp": sorted(tables.glob("ccipra-v321r0-f*.txt")),
        "mue": [tables / "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv"],
        "addon": [tables / "AOC_V2026Q2-MCR.txt"],
    }
    store = tables / "ncci.sqlite"
    store.unlink(missing_ok=True)
    imports = {}
    for kind in KINDS:
        files = [*cms[kind], extra[kind]]
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "scrubber", "tables", "import", kind, *map(str, files), "--store", str(store)],
                       check=True, cwd=ROOT, capture_output=True)
        imports[kind] = time.perf_counter() - started

    opening = subprocess.run([sys.executable, "-c", (
        "import sys, time\n"
        "started = time.perf_counter()\n"
        "from scrubber.tables import open_table\n"
        "imported = time.perf_counter()\n"
        f"tables = [open_table(kind, sys.argv[1]) for kind in {KINDS!r}]\n"
        "print(f'{imported - started:.3f} {time.perf_counter() - imported:.4f}')\n"
    ), str(store)], check=True, capture_output=True, text=True, cwd=ROOT).stdout.split()

    claims = OUT / f"tables-claims-{options.claims}-{options.seed}.837"
    if not claims.exists():
        subprocess.run([sys.executable, str(HERE / "generate_837p.py"), str(options.claims), str(claims),
                        "--seed", str(options.seed)], check=True)
    check = ["-m", "scrubber", "check", str(claims), "--format", "json", "--exit-zero", "--no-progress", "--jobs", "1"]
    with_tables = [*check, *(f"--table={kind}={store}" for kind in KINDS)]
    kept = {"without tables": check, "with the three tables": with_tables}
    check, with_tables = [*check, "--output", os.devnull], [*with_tables, "--output", os.devnull]
    runs: dict[str, list[tuple[float, float]]] = {"without tables": [], "with the three tables": []}
    for _ in range(options.rounds):
        runs["without tables"].append(timed_child(check))
        runs["with the three tables"].append(timed_child(with_tables))

    # counted after the timed runs: a child forked from a process that has loaded a big report starts with
    # that much resident memory, which its peak RSS would count
    counts = {name: findings_count(args) for name, args in kept.items()}
    size_mb = store.stat().st_size / 1e6
    print(f"## Reference tables: {options.pairs:,} pairs, 15,000 unit limits, 1,000 add-on rows "
          f"({platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores)\n")
    print("| step | result |\n|---|---|")
    for kind in KINDS:
        print(f"| import {kind} | {imports[kind]:.1f} s |")
    print(f"| store size | {size_mb:.0f} MB |")
    print(f"| open the three tables of the store (after `import scrubber.tables`, {float(opening[0]):.2f} s) | {float(opening[1]) * 1000:.1f} ms |")
    base = statistics.median(wall for wall, _ in runs["without tables"])
    base_rss = statistics.median(rss for _, rss in runs["without tables"])
    print(f"\n`scrubber check` of {options.claims:,} claims, `--jobs 1`, JSON, {options.rounds} rounds alternating:\n")
    print("| run | findings | wall (median) | claims/s | peak RSS (median) | runs |\n|---|---|---|---|---|---|")
    for name, values in runs.items():
        wall = statistics.median(w for w, _ in values)
        rss = statistics.median(r for _, r in values)
        change = "" if name == "without tables" else f" ({(wall / base - 1) * 100:+.1f}%, RSS {rss - base_rss:+.0f} MB)"
        print(f"| {name} | {counts[name]:,} | {wall:.2f} s{change} | {options.claims / wall:,.0f} | {rss:.0f} MB | "
              f"{', '.join(f'{w:.2f}' for w, _ in values)} |")


if __name__ == "__main__":
    main()
