"""Every number issues 7 and 15 ask for, in one command: throughput, ratios, memory, start-up, the peers.

    python benchmarks/bench_all.py [--sizes 10000,100000,1000000] [--peers-size 2000] [--quick]
                                   [--no-peers] [--no-stages] [--seed 0] [--repeat 1]

For each size N (files generated once and cached under ``benchmarks/out/`` by ``bench_check.py``'s
``ensure_file``), each in a fresh process: our reader alone; the bare segment split (a ``python -c``
process that reads the file's bytes and ``split``s them on the ISA segment terminator, byte 105; its wall
time, interpreter start included like the check's, as issue 15 measured it; best of 5); ``scrubber check --format json -o /dev/null`` with the durable engine and
with the Python engine (both ``--jobs 1``); then ``--jobs 1`` and ``--jobs 2`` (durable) each writing its
report to a temporary file, for the speedup and a byte-for-byte comparison of the two reports (``n/a``
when this ``scrubber check`` has no ``--jobs``). Then the start-up: ``scrubber --version`` and
``scrubber check`` on a 1-claim file (best of 5). Then the stage breakdown (``bench_stages.py``, in a
child process) on the largest size, at most 20,000 claims (it holds every claim in memory). Then, side
by side on one small generated file (``--peers-size``; the peers are slow), pyx12's ``x12valid`` and
x12sdk's typed model parser, which the benchmark installs itself into a throwaway venv
(``benchmarks/out/peers-venv``); a peer that cannot be installed or run is reported with the reason.

claims/s = N / wall time of the whole process (start-up and imports included), and so are the "x split"
ratios (check wall time / bare split time). Peak RSS is sampled over the process and all its children
(so ``--jobs 2`` counts every worker) every 50 ms, and is never below the kernel's ``ru_maxrss``.
``--quick``: sizes 2000,10000, peers on 500 claims, one run each. Prints markdown tables, the machine,
and issue 15's targets with met/MISSED.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_check import OUT, READ_ONLY, ROOT, child_env, ensure_file, machine_info

PEERS_VENV = OUT / "peers-venv"
STAGES_CAP = 20_000  # bench_stages.py holds every claim of its file in memory
PEER_PACKAGES = {"pyx12": "pyx12==4.0.0", "x12sdk": "x12sdk"}

# Runs in the peers' venv: x12sdk's typed (pydantic) model of every transaction set, counting claims.
X12SDK_PARSE = """
import sys
from x12sdk.io import X12ModelReader
claims = 0
with X12ModelReader(sys.argv[1]) as reader:
    for model in reader.models():
        for billing in getattr(model, "loop_2000a", None) or []:
            for subscriber in billing.loop_2000b or []:
                claims += len(getattr(subscriber, "loop_2300", None) or [])
                for patient in getattr(subscriber, "loop_2000c", None) or []:
                    claims += len(getattr(patient, "loop_2300", None) or [])
print(claims)
"""

# The floor every X12 parser stands on: a fresh Python process that reads the file and splits it into
# segments on the ISA segment terminator (byte 105, right after ISA16). Its wall time is measured like the
# check's (whole process, interpreter start included), as issue 15 measured its 0.128 s; best of 5.
BARE_SPLIT = """
import sys
with open(sys.argv[1], "rb") as stream:
    data = stream.read()
if not data.startswith(b"ISA"):
    sys.exit(sys.argv[1] + ": does not start with ISA")
print(len(data.split(data[105:106])))
"""

# Summary keys that would hold a time of the run (none today): the only part two reports of the same input may
# differ in, so they are compared without them when their bytes differ.
TIMING_KEYS = ("elapsed", "elapsed_seconds", "seconds", "duration", "duration_seconds", "timing", "timings",
               "started", "finished", "generated", "generated_at")


@dataclass
class Run:
    wall: float
    cpu: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    peak_pss_mb: float = 0.0  # the process tree's proportional set size (0: not measured)


def _rss_tree_kb(root: int) -> tuple[int, int]:
    """Resident KiB of ``root`` and every descendant, from /proc: the sum of their RSS, and of their PSS."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
    total, proportional, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(parents.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
        except OSError:
            pass
        proportional += _pss_kb(pid)
    return total, proportional


def _pss_kb(pid: int) -> int:
    """The process's proportional set size (each page shared by k processes counts 1/k): forked workers share
    the main process's pages, which a sum of RSS counts once per process. 0 where the kernel does not say."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_child(args: list[str], sample: bool = True) -> Run:
    env = child_env()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(args, stdout=out, stderr=err, cwd=ROOT, env=env)
        peak = [0, 0]
        done = threading.Event()

        def sampler() -> None:
            while not done.wait(0.05):
                rss, pss = _rss_tree_kb(child.pid)
                peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)

        thread = threading.Thread(target=sampler, daemon=True)
        if sample:
            thread.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        if sample:
            thread.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(wall, usage.ru_utime + usage.ru_stime, max(peak[0], usage.ru_maxrss) / 1024, child.returncode,
                   out.read(), err.read(), peak[1] / 1024)


def run_pair(first: list[str], second: list[str]) -> float | None:
    """Wall seconds until two processes started together both end (None if either fails)."""
    env = child_env()
    started = time.perf_counter()
    children = [subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
                for args in (first, second)]
    codes = [child.wait() for child in children]
    wall = time.perf_counter() - started
    return wall if codes == [0, 0] else None


def parallel_ceiling(n: int, seed: int, repeat: int, single: Run | None) -> float | None:
    """The most any split into two processes can give on this machine: ``--jobs 1`` on N claims against two
    ``--jobs 1`` processes run at once, each on half the claims (the N/2 file, twice), with no splitting,
    joining or second report: what two cores give when the work is already cut in two."""
    if single is None or not _ok(single):
        return None
    half = ensure_file(max(1, n // 2), seed)
    with tempfile.TemporaryDirectory(prefix="bench-ceiling-") as folder:
        walls = [
            run_pair(check_args(half, "durable", 1, Path(folder) / "a.json"), check_args(half, "durable", 1, Path(folder) / "b.json"))
            for _ in range(repeat)
        ]
    walls = [wall for wall in walls if wall is not None]
    return single.wall / min(walls) if walls else None


def best_of(repeat: int, args: list[str], sample: bool = True) -> Run:
    return min((run_child(args, sample) for _ in range(repeat)), key=lambda run: run.wall)


def _scrubber_cli() -> list[str]:
    script = Path(sys.executable).parent / "scrubber"
    return [str(script)] if script.exists() else [sys.executable, "-m", "scrubber"]


def has_jobs_flag() -> bool:
    done = subprocess.run([sys.executable, "-m", "scrubber", "check", "--help"], check=False, capture_output=True, text=True, cwd=ROOT)
    return "--jobs" in done.stdout


def check_args(path: Path, engine: str, jobs: int | None, output: str | Path = os.devnull) -> list[str]:
    args = [sys.executable, "-m", "scrubber", "check", str(path), "--format", "json", "--output", str(output),
            "--engine", engine, "--exit-zero", "--no-progress"]
    return args + ["--jobs", str(jobs)] if jobs is not None else args


def _ok(run: Run | None) -> bool:
    return run is not None and run.returncode in (0, 1)


def _cell(n: int, run: Run | None, failures: list[str], label: str) -> list[str]:
    if run is None:
        return ["n/a", "n/a"]
    if run.returncode not in (0, 1):
        failures.append(f"{label}: exit {run.returncode}\n{run.stderr[-1500:]}")
        return ["failed", f"{run.peak_rss_mb:.0f}"]
    return [f"{n / run.wall:,.0f}", f"{run.peak_rss_mb:.0f}"]


def bare_split(path: Path, failures: list[str]) -> float | None:
    """Wall seconds of a fresh process that reads ``path`` and splits it into segments, best of 5."""
    run = best_of(5, [sys.executable, "-c", BARE_SPLIT, str(path)], sample=False)
    if run.returncode != 0 or not run.stdout.strip().isdigit():
        failures.append(f"bare split {path.name}: exit {run.returncode}, output {run.stdout!r}\n{run.stderr[-1500:]}")
        return None
    return run.wall


def _first_difference(one: Path, other: Path) -> int | None:
    """The offset of the first byte in which the two files differ (None: identical)."""
    offset = 0
    with open(one, "rb") as a, open(other, "rb") as b:
        while True:
            x, y = a.read(1 << 20), b.read(1 << 20)
            if x != y:
                return offset + next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
            if not x:
                return None
            offset += len(x)


def _line_at(path: Path, offset: int) -> str:
    with open(path, "rb") as stream:
        stream.seek(max(0, offset - 4000))
        before = stream.read(min(offset, 4000))
        after = stream.read(4000)
    line = before.rsplit(b"\n", 1)[-1] + after.split(b"\n", 1)[0]
    return line.decode("utf-8", "replace")[:600]


def compare_reports(single: Path, parallel: Path) -> tuple[bool, str]:
    """(identical?, what to print): byte for byte; if the bytes differ and the reports carry a timing field
    (``TIMING_KEYS``, in the summary or at the top), again without that field alone."""
    if not single.exists() or not parallel.exists():
        return False, "DIFFERENT: a report is missing"
    offset = _first_difference(single, parallel)
    if offset is None:
        return True, "identical"
    documents, why = None, "too large to parse and compare without the timing fields"
    if max(single.stat().st_size, parallel.stat().st_size) < 300e6:
        try:
            documents = [json.loads(path.read_bytes()) for path in (single, parallel)]
        except ValueError as error:
            why = f"not JSON ({error})"
    if documents is not None:
        dropped = []
        for document in documents:
            for where in (document, document.get("summary", {})):
                for key in TIMING_KEYS:
                    if key in where:
                        where.pop(key)
                        dropped.append(key)
        if dropped and documents[0] == documents[1]:
            return True, f"identical except the timing field(s) {', '.join(sorted(set(dropped)))}"
        why = "the reports' content differs" if documents[0] != documents[1] else "same content, different bytes"
    sizes = f"{single.stat().st_size:,} vs {parallel.stat().st_size:,} bytes"
    return False, (f"DIFFERENT ({why}; {sizes}; first difference at byte {offset:,}:"
                   f" --jobs 1: `{_line_at(single, offset)}`  --jobs 2: `{_line_at(parallel, offset)}`)")


def measure_size(n: int, seed: int, repeat: int, jobs: bool, failures: list[str]) -> tuple[list[str], dict]:
    path = ensure_file(n, seed)
    read = best_of(repeat, [sys.executable, "-c", READ_ONLY, str(path)])
    if read.returncode != 0 or read.stdout.split() != [str(n), "0"]:
        failures.append(f"read {path.name}: exit {read.returncode}, output {read.stdout!r}\n{read.stderr[-1500:]}")
    split = bare_split(path, failures)
    single = 1 if jobs else None
    durable = best_of(repeat, check_args(path, "durable", single))
    python = best_of(repeat, check_args(path, "python", single))
    to_file = parallel = None
    reports = "n/a"
    if jobs:
        # --jobs 1 and --jobs 2 both writing their report to a file: the speedup, and the reports compared
        with tempfile.TemporaryDirectory(prefix="bench-reports-") as folder:
            single_report, parallel_report = Path(folder) / "jobs1.json", Path(folder) / "jobs2.json"
            to_file = best_of(repeat, check_args(path, "durable", 1, single_report))
            verdicts = []
            for _ in range(repeat):
                run = run_child(check_args(path, "durable", 2, parallel_report))
                parallel = run if parallel is None or run.wall < parallel.wall else parallel
                if _ok(run) and _ok(to_file):
                    verdicts.append(compare_reports(single_report, parallel_report))
            if verdicts:
                different = [text for same, text in verdicts if not same]
                reports = different[0] if different else verdicts[0][1]
                if different and repeat > 1:
                    reports += f" ({len(different)} of {repeat} runs)"
        ceiling = parallel_ceiling(n, seed, repeat, to_file)
    else:
        ceiling = None
    row = [f"{n:,}", f"{path.stat().st_size / 1e6:.0f}"]
    row += _cell(n, read, failures, f"read {n}")
    row += _cell(n, durable, failures, f"check durable {n}")
    row += _cell(n, python, failures, f"check python {n}")
    row += _cell(n, parallel, failures, f"check --jobs 2 {n}")
    if to_file is not None and not _ok(to_file):
        failures.append(f"check --jobs 1 to a file {n}: exit {to_file.returncode}\n{to_file.stderr[-1500:]}")
    return row, {"read": read, "durable": durable, "python": python, "jobs2": parallel, "jobs1_file": to_file,
                 "split": split, "reports": reports, "ceiling": ceiling}


def measure_startup(seed: int) -> tuple[Run, Run]:
    one = ensure_file(1, seed)
    version = best_of(5, [*_scrubber_cli(), "--version"], sample=False)
    check = best_of(5, [*_scrubber_cli(), "check", str(one), "--exit-zero", "--output", os.devnull], sample=False)
    return version, check


# --- peers ---------------------------------------------------------------------------------------


def ensure_peers() -> dict[str, str]:
    """Install each peer into the throwaway venv; a name -> reason map for those that could not be."""
    problems: dict[str, str] = {}
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=False, capture_output=True, text=True)
        if made.returncode != 0:
            return {name: f"cannot create a venv: {made.stderr.strip()[-300:]}" for name in PEER_PACKAGES}
    for name, requirement in PEER_PACKAGES.items():
        present = subprocess.run([str(python), "-c", f"import {name}"], check=False, capture_output=True)
        if present.returncode == 0:
            continue
        print(f"installing {requirement} into {PEERS_VENV.relative_to(ROOT)} ...", file=sys.stderr)
        try:
            done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--retries", "2", "--timeout", "30", requirement],
                                  check=False, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            problems[name] = f"pip install {requirement} failed: no answer in 15 minutes"
            continue
        except OSError as error:
            problems[name] = f"pip install {requirement} failed: {error}"
            continue
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if "ERROR" in line] or done.stderr.splitlines()[-3:]
            problems[name] = f"pip install {requirement} failed: " + " ".join(lines)[-400:]
    return problems


def peer_version(name: str) -> str:
    done = subprocess.run(
        [str(PEERS_VENV / "bin" / "python"), "-c", f"from importlib.metadata import version; print(version({name!r}))"],
        check=False, capture_output=True, text=True,
    )
    return done.stdout.strip() or "?"


def x12sdk_friendly_copy(path: Path) -> tuple[Path, int, int]:
    """x12sdk refuses DMG03 'U' (unknown gender, valid in 005010X222A1) and, rightly, an empty CLM07; either
    error rejects the whole transaction set. This copy says F and A instead, so its speed can be measured."""
    data = path.read_bytes()
    data, genders = re.subn(rb"(DMG\*D8\*\d{8}\*)U~", rb"\1F~", data)
    empty = [0]

    def fill(match: re.Match) -> bytes:
        parts = match.group(0)[:-1].split(b"*")
        if len(parts) > 7 and parts[7] == b"":
            parts[7] = b"A"
            empty[0] += 1
        return b"*".join(parts) + b"~"

    data = re.sub(rb"CLM\*[^~]*~", fill, data)
    copy = path.with_name(path.stem + "-x12sdk.837")
    copy.write_bytes(data)
    return copy, genders, empty[0]


def measure_peers(n: int, seed: int, failures: list[str]) -> tuple[list[list[str]], dict[str, float]]:
    """The peers' table rows, and claims/s by tool for the comparison (``ours``: our check)."""
    path = ensure_file(n, seed)
    rows: list[list[str]] = []
    rates: dict[str, float] = {}

    def add(tool: str, what: str, run: Run | None, result: str, compare: str | None = None) -> None:
        rate = f"{n / run.wall:,.0f}" if run is not None and run.wall > 0 else "n/a"
        rss = f"{run.peak_rss_mb:.0f}" if run is not None else "n/a"
        rows.append([tool, what, rate, rss, result])
        if compare and run is not None and run.wall > 0:
            rates[compare] = n / run.wall

    read = run_child([sys.executable, "-c", READ_ONLY, str(path)])
    add("claim-scrubber reader", "837P into Claim models", read, f"{read.stdout.split()[0]} claims" if read.returncode == 0 else f"exit {read.returncode}")
    check = run_child(check_args(path, "durable", 1 if has_jobs_flag() else None))
    add("claim-scrubber check", "read + all rules, durable, 1 process", check, f"exit {check.returncode}",
        "ours" if _ok(check) else None)

    problems = ensure_peers()
    bin_dir = PEERS_VENV / "bin"
    if "pyx12" in problems:
        add("pyx12", "x12valid (TR3 validation)", None, problems["pyx12"])
    else:
        valid = run_child([str(bin_dir / "x12valid"), str(path)])
        errors = valid.stderr.count(" ERROR ")
        if valid.returncode in (0, 1):
            name = f"pyx12 {peer_version('pyx12')}"
            add(name, "x12valid (TR3 validation)", valid, f"exit {valid.returncode}, {errors} errors reported",
                f"{name} (`x12valid`)")
        else:
            add(f"pyx12 {peer_version('pyx12')}", "x12valid (TR3 validation)", None,
                f"failed: exit {valid.returncode}: {valid.stderr.strip()[-300:]}")
    if "x12sdk" in problems:
        add("x12sdk", "typed model parse", None, problems["x12sdk"])
    else:
        version = peer_version("x12sdk")
        as_is = run_child([str(bin_dir / "python"), "-c", X12SDK_PARSE, str(path)])
        if as_is.returncode == 0:
            add(f"x12sdk {version}", "typed model parse", as_is, f"{as_is.stdout.strip()} claims",
                f"x12sdk {version} (typed model parse)")
        else:
            reason = next((line for line in as_is.stderr.splitlines() if "validation error" in line), as_is.stderr.strip()[-200:])
            add(f"x12sdk {version}", "typed model parse, file as generated", None,
                f"rejected after {as_is.wall:.1f} s: {reason.strip()}")
            copy, genders, clm07 = x12sdk_friendly_copy(path)
            again = run_child([str(bin_dir / "python"), "-c", X12SDK_PARSE, str(copy)])
            result = f"{again.stdout.strip()} claims" if again.returncode == 0 else f"failed: {again.stderr.strip()[-200:]}"
            add(f"x12sdk {version}", f"typed model parse, copy with DMG03 U→F ({genders}) and empty CLM07→A ({clm07})",
                again if again.returncode == 0 else None, result, f"x12sdk {version} (typed model parse, the copy)")
    return rows, rates


# --- report --------------------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]], align: str = "---:") -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _target(ok: bool | None) -> str:
    return "n/a" if ok is None else "met" if ok else "MISSED"


def measure_stages(n: int, seed: int, repeat: int, failures: list[str]) -> str | None:
    """``bench_stages.py``'s table for an ``n``-claim file, from a child process (it imports the scrubber)."""
    run = run_child([sys.executable, str(HERE / "bench_stages.py"), "--claims", str(n), "--seed", str(seed),
                     "--rounds", str(max(1, repeat))])
    if run.returncode != 0:
        failures.append(f"bench_stages.py --claims {n}: exit {run.returncode}\n{run.stderr[-1500:]}")
        return None
    return run.stdout.rstrip() + f"\n- peak RSS of that process (every claim of the file in memory): {run.peak_rss_mb:.0f} MB"


def _seconds(run: Run | None) -> str:
    return "n/a" if run is None else f"{run.wall:.2f}" if _ok(run) else "failed"


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}x" if value >= 10 else f"{value:.2f}x"


def _by_size(values: dict[int, float | None], fmt=_times) -> str:
    return ", ".join(f"{fmt(value)} at {n:,}" for n, value in values.items() if value is not None) or "not run"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=None, help="comma-separated claim counts (default 10000,100000,1000000)")
    parser.add_argument("--peers-size", type=int, default=None, help="claims in the file the peers parse (default 2000)")
    parser.add_argument("--no-peers", action="store_true", help="skip pyx12 and x12sdk")
    parser.add_argument("--no-stages", action="store_true", help="skip the stage breakdown (bench_stages.py)")
    parser.add_argument("--quick", action="store_true", help="sizes 2000,10000 and peers on 500 claims")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest is kept")
    args = parser.parse_args(argv)
    sizes_text = args.sizes or ("2000,10000" if args.quick else "10000,100000,1000000")
    sizes = [int(part.replace("_", "")) for part in sizes_text.split(",") if part]
    peers_size = args.peers_size or (500 if args.quick else 2000)
    OUT.mkdir(exist_ok=True)

    machine = machine_info()
    jobs = has_jobs_flag()
    failures: list[str] = []
    rows, runs = [], {}
    for n in sizes:
        row, runs[n] = measure_size(n, args.seed, args.repeat, jobs, failures)
        rows.append(row)
        print(f"done {n:,} claims", file=sys.stderr)
    version, one_claim = measure_startup(args.seed)
    stages_n = min(max(sizes), STAGES_CAP) if sizes else None
    stages = None if args.no_stages or stages_n is None else measure_stages(stages_n, args.seed, args.repeat, failures)
    peer_rows, peer_rates = ([], {}) if args.no_peers else measure_peers(peers_size, args.seed, failures)

    header = ["claims", "file MB", "read claims/s", "peak RSS MB", "check durable claims/s", "peak RSS MB",
              "check python claims/s", "peak RSS MB", "check --jobs 2 claims/s", "peak RSS MB"]
    print(_table(header, rows))
    print()
    print("CPU seconds of the same runs (process and children; steadier than wall time on a shared machine):")
    print()
    cpu_rows = [
        [f"{n:,}"] + [f"{runs[n][key].cpu:.1f}" if runs[n][key] is not None else "n/a" for key in ("read", "durable", "python", "jobs2")]
        for n in sizes
    ]
    print(_table(["claims", "read CPU s", "check durable CPU s", "check python CPU s", "check --jobs 2 CPU s"], cpu_rows))

    # issue 15: wall time against the bare segment split, engine against engine, one core against two
    def ratio(top: Run | None, bottom: float | Run | None) -> float | None:
        below = bottom.wall if isinstance(bottom, Run) and _ok(bottom) else bottom if isinstance(bottom, float) else None
        return top.wall / below if _ok(top) and below else None

    x_split = {n: ratio(runs[n]["durable"], runs[n]["split"]) for n in sizes}
    x_split_py = {n: ratio(runs[n]["python"], runs[n]["split"]) for n in sizes}
    engines = {n: ratio(runs[n]["durable"], runs[n]["python"]) for n in sizes}
    speedup = {n: ratio(runs[n]["jobs1_file"], runs[n]["jobs2"]) for n in sizes}
    split_rows = [
        [f"{n:,}", "n/a" if runs[n]["split"] is None else f"{runs[n]['split']:.4f}",
         _seconds(runs[n]["durable"]), _times(x_split[n]), _seconds(runs[n]["python"]), _times(x_split_py[n]),
         "n/a" if engines[n] is None else f"{engines[n]:.2f}"]
        for n in sizes
    ]
    print()
    print("Against a bare segment split of the same file (a `python -c` process that reads the bytes and `split`s them"
          " on the segment terminator: its wall time, best of 5); check = `scrubber check FILE --format json -o /dev/null --jobs 1`, wall time of"
          " the whole process:")
    print()
    print(_table(["claims", "bare split s", "check durable s", "durable x split", "check python s", "python x split",
                  "durable / python"], split_rows))
    jobs_rows = [
        [f"{n:,}", _seconds(runs[n]["jobs1_file"]), _seconds(runs[n]["jobs2"]),
         "n/a" if speedup[n] is None else f"{speedup[n]:.2f}x",
         "n/a" if runs[n].get("ceiling") is None else f"{runs[n]['ceiling']:.2f}x",
         "n/a" if speedup[n] is None or not runs[n].get("ceiling") else f"{speedup[n] / runs[n]['ceiling']:.0%}",
         runs[n]["reports"].replace("|", "\\|")]
        for n in sizes
    ]
    print()
    print("One core against two: `scrubber check FILE --format json --engine durable --jobs 1` and `--jobs 2`, each"
          " writing its report to a temporary file; the two reports compared byte for byte:")
    print()
    print("(ceiling: `--jobs 1` on N claims against two `--jobs 1` processes run at once on N/2 claims each, the most"
          " any split into two processes gets from this machine's two cores)")
    print()
    print(_table(["claims", "--jobs 1 s", "--jobs 2 s", "speedup", "ceiling", "of the ceiling", "JSON reports"], jobs_rows))
    print()
    print(_table(["`scrubber --version`", "`scrubber check` 1-claim file"],
                 [[f"{version.wall:.2f} s ({version.cpu:.2f} CPU s)",
                   f"{one_claim.wall:.2f} s ({one_claim.cpu:.2f} CPU s, exit {one_claim.returncode})"]]))
    if stages:
        print()
        print(f"Stage by stage (`python benchmarks/bench_stages.py --claims {stages_n}`, one process):")
        print()
        print(stages)
    comparison = []
    if peer_rows:
        print()
        print(f"Peers, on the same generated {peers_size:,}-claim file:")
        print()
        print(_table(["tool", "what runs", "claims/s", "peak RSS MB", "result"], peer_rows, "---"))
        ours = peer_rates.get("ours")
        comparison = [(peer, rate, ours / rate if ours else None) for peer, rate in peer_rates.items() if peer != "ours"]
        if comparison:
            print()
            print(_table(["peer", "peer claims/s", "claim-scrubber check claims/s", "we are"],
                         [[peer, f"{rate:,.0f}", f"{ours:,.0f}" if ours else "n/a", _times(times)]
                          for peer, rate, times in comparison], "---"))
    print()
    print("\n".join(machine))
    print("- load average after the run: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"- command: python benchmarks/bench_all.py {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    print("- claims/s = claims / wall time of a fresh process (start-up included); peak RSS sampled over the"
          f" process tree; best of {args.repeat}; single-process columns run with `--jobs 1`" if jobs else
          "- `--jobs` is not in this `scrubber check`: that column is n/a")

    largest = max(sizes) if sizes else None
    single_rss = {n: max((runs[n][key].peak_rss_mb for key in ("durable", "python", "jobs1_file") if _ok(runs[n][key])),
                         default=None) for n in sizes}
    tree_rss = {n: runs[n]["jobs2"].peak_rss_mb if _ok(runs[n]["jobs2"]) else None for n in sizes}
    tree_pss = {n: runs[n]["jobs2"].peak_pss_mb or None if _ok(runs[n]["jobs2"]) else None for n in sizes}
    identical = {n: runs[n]["reports"] for n in sizes if runs[n]["reports"] != "n/a"}

    def every(values: dict, test) -> bool | None:
        known = [value for value in values.values() if value is not None]
        return None if not known else all(test(value) for value in known)

    def growth(values: dict[int, float | None]) -> str:
        known = [(n, value) for n, value in values.items() if value is not None]
        if len(known) < 2:
            return ""
        return f"; {known[-1][1] - known[0][1]:+.0f} MB from {known[0][0]:,} to {known[-1][0]:,} claims"

    def mb(value: float) -> str:
        return f"{value:.0f} MB"

    print()
    print("Targets (issue 15):")
    print(f"- one core, durable engine, at most 20x the bare split: {_by_size(x_split)} → {_target(every(x_split, lambda v: v <= 20))}")
    print(f"- one core, Python engine, at most 20x the bare split: {_by_size(x_split_py)} → {_target(every(x_split_py, lambda v: v <= 20))}")
    print(f"- durable / python wall time end to end ≤ 1.2: {_by_size(engines, lambda v: f'{v:.2f}')} → {_target(every(engines, lambda v: v <= 1.2))}")
    big = speedup.get(largest) if largest else None
    print(f"- `--jobs 2` speedup ≥ 1.8 on the largest size ({f'{largest:,}' if largest else 'none'} claims): "
          f"{'not run' if big is None else f'{big:.2f}x'} (all sizes: {_by_size(speedup, lambda v: f'{v:.2f}x')})"
          f" → {_target(None if big is None else big >= 1.8)}")
    ceiling = runs[largest].get("ceiling") if largest else None
    if ceiling:
        print(f"  (this machine's ceiling for any two-process split at that size: {ceiling:.2f}x; `--jobs 2` gets "
              f"{'n/a' if big is None else f'{big / ceiling:.0%}'} of it)")
    print("- `--jobs 2` report byte-identical to `--jobs 1`'s: "
          + (", ".join(f"{'identical' if text == 'identical' else text} at {n:,}" for n, text in identical.items()) or "not run")
          + f" → {_target(None if not identical else all(text == 'identical' for text in identical.values()))}")
    print(f"- peak RSS < 150 MB, flat, one process (durable, python, `--jobs 1` to a file; worst per size): "
          f"{_by_size(single_rss, mb)}{growth(single_rss)} → {_target(every(single_rss, lambda v: v < 150))}")
    print(f"- peak memory < 150 MB, flat, `--jobs 2` (main process and both workers together, as PSS: pages the forked"
          f" workers share with the main process counted once): {_by_size(tree_pss, mb)}{growth(tree_pss)}"
          f" → {_target(every(tree_pss, lambda v: v < 150))} (the sum of their RSS, shared pages counted in each process:"
          f" {_by_size(tree_rss, mb)})")
    print(f"- 1-claim `scrubber check` < 0.3 s (best of 5): {one_claim.wall:.2f} s → {_target(one_claim.wall < 0.3)}")
    if comparison:
        print("- against the peers (no target; small file, start-up included): "
              + "; ".join(f"we are {_times(times)} {peer}" for peer, _, times in comparison if times is not None))
    elif not args.no_peers:
        print("- against the peers: no peer could be measured (see the peers table)")
    for failure in failures:
        print(f"\nFAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
