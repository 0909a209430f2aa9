"""Every number issue 7 asks for, in one command: throughput, memory, start-up, and the peers.

    python benchmarks/bench_all.py [--sizes 10000,100000,1000000] [--peers-size 2000] [--quick]
                                   [--no-peers] [--seed 0] [--repeat 1]

For each size N (files generated once and cached under ``benchmarks/out/`` by ``bench_check.py``'s
``ensure_file``), each in a fresh process: our reader alone; ``scrubber check`` with the durable
engine, with the Python engine (both in one process: ``--jobs 1``), and with ``--jobs 2`` (durable),
or ``n/a`` when this ``scrubber check`` has no ``--jobs``. Then the start-up: ``scrubber --version``
and ``scrubber check`` on a 1-claim file (best of 5). Then, side by side on one small generated file
(``--peers-size``; the peers are slow), pyx12's ``x12valid`` and x12sdk's typed model parser, which the
benchmark installs itself into a throwaway venv (``benchmarks/out/peers-venv``); a peer that cannot be
installed or run is reported with the reason.

claims/s = N / wall time of the whole process (start-up and imports included). Peak RSS is sampled
over the process and all its children (so ``--jobs 2`` counts every worker) every 50 ms, and is never
below the kernel's ``ru_maxrss``. ``--quick``: sizes 2000,10000, peers on 500 claims, one run each.
Prints markdown tables, the machine, and the issue's targets with pass/miss.
"""

from __future__ import annotations

import argparse
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

from bench_check import OUT, READ_ONLY, ROOT, ensure_file, machine_info  # noqa: E402

PEERS_VENV = OUT / "peers-venv"
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


@dataclass
class Run:
    wall: float
    cpu: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def _rss_tree_kb(root: int) -> int:
    """Resident KiB of ``root`` and every descendant, from /proc."""
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
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(parents.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
        except OSError:
            pass
    return total


def run_child(args: list[str], sample: bool = True) -> Run:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(args, stdout=out, stderr=err, cwd=ROOT, env=env)
        peak = [0]
        done = threading.Event()

        def sampler() -> None:
            while not done.wait(0.05):
                peak[0] = max(peak[0], _rss_tree_kb(child.pid))

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
                   out.read(), err.read())


def best_of(repeat: int, args: list[str], sample: bool = True) -> Run:
    return min((run_child(args, sample) for _ in range(repeat)), key=lambda run: run.wall)


def _scrubber_cli() -> list[str]:
    script = Path(sys.executable).parent / "scrubber"
    return [str(script)] if script.exists() else [sys.executable, "-m", "scrubber"]


def has_jobs_flag() -> bool:
    done = subprocess.run([sys.executable, "-m", "scrubber", "check", "--help"], capture_output=True, text=True, cwd=ROOT)
    return "--jobs" in done.stdout


def check_args(path: Path, engine: str, jobs: int | None) -> list[str]:
    args = [sys.executable, "-m", "scrubber", "check", str(path), "--format", "json", "--output", os.devnull,
            "--engine", engine, "--exit-zero", "--no-progress"]
    return args + ["--jobs", str(jobs)] if jobs is not None else args


def _cell(n: int, run: Run | None, failures: list[str], label: str) -> list[str]:
    if run is None:
        return ["n/a", "n/a"]
    if run.returncode not in (0, 1):
        failures.append(f"{label}: exit {run.returncode}\n{run.stderr[-1500:]}")
        return ["failed", f"{run.peak_rss_mb:.0f}"]
    return [f"{n / run.wall:,.0f}", f"{run.peak_rss_mb:.0f}"]


def measure_size(n: int, seed: int, repeat: int, jobs: bool, failures: list[str]) -> tuple[list[str], dict]:
    path = ensure_file(n, seed)
    read = best_of(repeat, [sys.executable, "-c", READ_ONLY, str(path)])
    if read.returncode != 0 or read.stdout.split() != [str(n), "0"]:
        failures.append(f"read {path.name}: exit {read.returncode}, output {read.stdout!r}\n{read.stderr[-1500:]}")
    single = 1 if jobs else None
    durable = best_of(repeat, check_args(path, "durable", single))
    python = best_of(repeat, check_args(path, "python", single))
    parallel = best_of(repeat, check_args(path, "durable", 2)) if jobs else None
    row = [f"{n:,}", f"{path.stat().st_size / 1e6:.0f}"]
    row += _cell(n, read, failures, f"read {n}")
    row += _cell(n, durable, failures, f"check durable {n}")
    row += _cell(n, python, failures, f"check python {n}")
    row += _cell(n, parallel, failures, f"check --jobs 2 {n}")
    return row, {"read": read, "durable": durable, "python": python, "jobs2": parallel}


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
        made = subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], capture_output=True, text=True)
        if made.returncode != 0:
            return {name: f"cannot create a venv: {made.stderr.strip()[-300:]}" for name in PEER_PACKAGES}
    for name, requirement in PEER_PACKAGES.items():
        present = subprocess.run([str(python), "-c", f"import {name}"], capture_output=True)
        if present.returncode == 0:
            continue
        print(f"installing {requirement} into {PEERS_VENV.relative_to(ROOT)} ...", file=sys.stderr)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", requirement], capture_output=True, text=True)
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if "ERROR" in line] or done.stderr.splitlines()[-3:]
            problems[name] = f"pip install {requirement} failed: " + " ".join(lines)[-400:]
    return problems


def peer_version(name: str) -> str:
    done = subprocess.run(
        [str(PEERS_VENV / "bin" / "python"), "-c", f"from importlib.metadata import version; print(version({name!r}))"],
        capture_output=True, text=True,
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


def measure_peers(n: int, seed: int, failures: list[str]) -> list[list[str]]:
    path = ensure_file(n, seed)
    rows: list[list[str]] = []

    def add(tool: str, what: str, run: Run | None, result: str) -> None:
        rate = f"{n / run.wall:,.0f}" if run is not None and run.wall > 0 else "n/a"
        rss = f"{run.peak_rss_mb:.0f}" if run is not None else "n/a"
        rows.append([tool, what, rate, rss, result])

    read = run_child([sys.executable, "-c", READ_ONLY, str(path)])
    add("claim-scrubber reader", "837P into Claim models", read, f"{read.stdout.split()[0]} claims" if read.returncode == 0 else f"exit {read.returncode}")
    check = run_child(check_args(path, "durable", 1 if has_jobs_flag() else None))
    add("claim-scrubber check", "read + all rules, durable, 1 process", check, f"exit {check.returncode}")

    problems = ensure_peers()
    bin_dir = PEERS_VENV / "bin"
    if "pyx12" in problems:
        add("pyx12", "x12valid (TR3 validation)", None, problems["pyx12"])
    else:
        valid = run_child([str(bin_dir / "x12valid"), str(path)])
        errors = valid.stderr.count(" ERROR ")
        if valid.returncode in (0, 1):
            add(f"pyx12 {peer_version('pyx12')}", "x12valid (TR3 validation)", valid,
                f"exit {valid.returncode}, {errors} errors reported")
        else:
            add(f"pyx12 {peer_version('pyx12')}", "x12valid (TR3 validation)", None,
                f"failed: exit {valid.returncode}: {valid.stderr.strip()[-300:]}")
    if "x12sdk" in problems:
        add("x12sdk", "typed model parse", None, problems["x12sdk"])
    else:
        version = peer_version("x12sdk")
        as_is = run_child([str(bin_dir / "python"), "-c", X12SDK_PARSE, str(path)])
        if as_is.returncode == 0:
            add(f"x12sdk {version}", "typed model parse", as_is, f"{as_is.stdout.strip()} claims")
        else:
            reason = next((line for line in as_is.stderr.splitlines() if "validation error" in line), as_is.stderr.strip()[-200:])
            add(f"x12sdk {version}", "typed model parse, file as generated", None,
                f"rejected after {as_is.wall:.1f} s: {reason.strip()}")
            copy, genders, clm07 = x12sdk_friendly_copy(path)
            again = run_child([str(bin_dir / "python"), "-c", X12SDK_PARSE, str(copy)])
            result = f"{again.stdout.strip()} claims" if again.returncode == 0 else f"failed: {again.stderr.strip()[-200:]}"
            add(f"x12sdk {version}", f"typed model parse, copy with DMG03 U→F ({genders}) and empty CLM07→A ({clm07})",
                again if again.returncode == 0 else None, result)
    return rows


# --- report --------------------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]], align: str = "---:") -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _target(ok: bool | None) -> str:
    return "n/a" if ok is None else "met" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=None, help="comma-separated claim counts (default 10000,100000,1000000)")
    parser.add_argument("--peers-size", type=int, default=None, help="claims in the file the peers parse (default 2000)")
    parser.add_argument("--no-peers", action="store_true", help="skip pyx12 and x12sdk")
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
    peer_rows = [] if args.no_peers else measure_peers(peers_size, args.seed, failures)

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
    print()
    print(_table(["`scrubber --version`", "`scrubber check` 1-claim file"],
                 [[f"{version.wall:.2f} s ({version.cpu:.2f} CPU s)",
                   f"{one_claim.wall:.2f} s ({one_claim.cpu:.2f} CPU s, exit {one_claim.returncode})"]]))
    if peer_rows:
        print()
        print(f"Peers, on the same generated {peers_size:,}-claim file:")
        print()
        print(_table(["tool", "what runs", "claims/s", "peak RSS MB", "result"], peer_rows, "---"))
    print()
    print("\n".join(machine))
    print("- load average after the run: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"- command: python benchmarks/bench_all.py {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    print("- claims/s = claims / wall time of a fresh process (start-up included); peak RSS sampled over the"
          f" process tree; best of {args.repeat}; single-process columns run with `--jobs 1`" if jobs else
          "- `--jobs` is not in this `scrubber check`: that column is n/a")

    def rate(n: int, key: str) -> float | None:
        run = runs.get(n, {}).get(key)
        return n / run.wall if run is not None and run.returncode in (0, 1) else None

    jobs_100k = rate(100_000, "jobs2")
    durable_r = {n: rate(n, "durable") for n in sizes}
    python_r = {n: rate(n, "python") for n in sizes}
    largest = max(sizes) if sizes else None
    rss_1m = [runs[n][key].peak_rss_mb for n in sizes if n >= 1_000_000 for key in ("durable", "python", "jobs2") if runs[n][key]]
    ratios = [python_r[n] / durable_r[n] for n in sizes if durable_r[n] and python_r[n]]
    print()
    print("Targets (issue 7):")
    print(f"- check --jobs 2 on 100k claims >= 8,000 claims/s: {f'{jobs_100k:,.0f}' if jobs_100k else 'not run'} "
          f"→ {_target(None if jobs_100k is None else jobs_100k >= 8000)}")
    print(f"- peak RSS < 200 MB at 1M claims: {f'{max(rss_1m):.0f} MB (worst column)' if rss_1m else 'not run'} "
          f"→ {_target(None if not rss_1m else max(rss_1m) < 200)}")
    print(f"- 1-claim `scrubber check` < 0.5 s: {one_claim.wall:.2f} s → {_target(one_claim.wall < 0.5)}")
    if ratios and largest:
        print(f"- durable within 2x of python end to end: python/durable speed ratio "
              + ", ".join(f"{python_r[n] / durable_r[n]:.2f}x at {n:,}" for n in sizes if durable_r[n] and python_r[n])
              + f" → {_target(max(ratios) <= 2)}")
    for failure in failures:
        print(f"\nFAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
