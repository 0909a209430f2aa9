"""Before/after: the same 837P file read and checked by two checkouts of claim-scrubber, alternating.

    python benchmarks/bench_ab.py OLD_CHECKOUT NEW_CHECKOUT FILE [--rounds 3]

Make the old checkout with ``git worktree add /tmp/old <commit>`` and a file with
``python benchmarks/generate_837p.py 20000 /tmp/b20k.837``. Each round runs, in fresh processes and in
turn for each checkout (``PYTHONPATH`` pointing at it, the current interpreter and its packages): reading
every claim (``x12_837p.read_path``), then ``scrubber check FILE --format json --output /dev/null --jobs 1``.
Prints the wall seconds of every run, the wall and CPU medians and new / old of the CPU medians (CPU time
moves less than wall time on a shared machine); alternating keeps a busy machine fair to both sides.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

READ = """
import sys
from scrubber.model import Claim
from scrubber.readers.x12_837p import read_path
print(sum(1 for item in read_path(sys.argv[1]) if isinstance(item, Claim)))
"""
CHECK = ["-m", "scrubber", "check", "--format", "json", "--output", os.devnull, "--exit-zero", "--no-progress", "--jobs", "1"]


def timed(checkout: str, args: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run: CPU time moves less than wall time on a shared machine."""
    env = {**os.environ, "PYTHONPATH": os.path.abspath(checkout)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode is written once, then used
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True, cwd="/", env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("file")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", default="1", help="check --jobs (default 1; 'auto': the CLI's default, one per core)")
    args = parser.parse_args()
    check = CHECK if args.jobs != "auto" else CHECK[:-2]
    if args.jobs not in ("1", "auto"):
        check = [*CHECK[:-1], args.jobs]
    path = os.path.abspath(args.file)
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.rounds):
        for side, checkout in (("old", args.old), ("new", args.new)):
            runs.setdefault(("read", side), []).append(timed(checkout, ["-c", READ, path]))
            runs.setdefault(("check", side), []).append(timed(checkout, [*check[:3], path, *check[3:]]))
    for (stage, side), measured in runs.items():
        walls, cpus = [wall for wall, _ in measured], [cpu for _, cpu in measured]
        print(f"{stage:<6} {side:<4} median {statistics.median(walls):6.2f} s wall, {statistics.median(cpus):6.2f} s CPU"
              f"   runs {[round(wall, 2) for wall in walls]}")
    for stage in ("read", "check"):
        old, new = (statistics.median(cpu for _, cpu in runs[(stage, side)]) for side in ("old", "new"))
        print(f"{stage}: new / old = {new / old:.2f} (CPU medians)")


if __name__ == "__main__":
    main()
