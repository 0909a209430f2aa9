"""Latency of the HTTP pre-submission hook: one claim per request over a keep-alive connection.

    python benchmarks/bench_service.py [--requests 2000] [--warmup 200] [--workers 1] [--log-level info]

Starts the real server (``python -m scrubber serve`` on a free loopback port, with a generated API key),
waits for ``/readyz``, then for each request kind sends ``--warmup`` untimed requests and ``--requests``
timed ones, one after the other, through one ``httpx.Client`` (one keep-alive connection). Latency is
the client-side wall time of each request (send, server work, response read), so it includes HTTP
parsing, auth, validation, the engine and JSON encoding. Prints a markdown table and the machine.
Exits 1 if any response is not 200 with the expected findings; says whether p99 < 20 ms was met.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from scrubber.rules.testing import build_case_claim  # noqa: E402
from scrubber.writers.x12_837p import write  # noqa: E402

TARGET_P99_MS = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(key: str, workers: int, log_level: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, SCRUBBER_API_KEYS=key)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "scrubber", "serve", "--port", str(port), "--workers", str(workers), "--log-level", log_level],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    sys.exit("the server did not become ready in 60 s")


def measure(client: httpx.Client, kwargs: dict, requests: int, warmup: int, expect_flagged: int) -> list[float]:
    for _ in range(warmup):
        client.post("/v1/claims:scrub", **kwargs)
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.post("/v1/claims:scrub", **kwargs)
        body = response.content
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"unexpected {response.status_code}: {body[:300]!r}")
    report = response.json()
    if report["summary"]["flagged"] != expect_flagged:
        sys.exit(f"expected {expect_flagged} flagged claim(s), got {report['summary']}")
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="info", help="the server's (info: an access-log line per request)")
    args = parser.parse_args()

    # Medicare Part B, CLM07 'C', a lab line: one CO-111 finding, so the whole finding path is timed.
    claim = build_case_claim(
        {"claim_id": "BENCH-1", "payer": {"filing_indicator": "MB"}, "assignment": "C", "lines": [{"procedure": "99213"}, {"procedure": "80053"}]}
    )
    kinds = [
        ("1 claim, JSON", {"json": claim.model_dump(mode="json")}),
        ("1 claim, X12 837P", {"content": write([claim]).encode(), "headers": {"Content-Type": "application/edi-x12"}}),
    ]
    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as directory:
        process, url = start_server(key, args.workers, args.log_level, Path(directory) / "server.log")
        try:
            rows = []
            with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30) as client:
                for name, kwargs in kinds:
                    body_bytes = len(client.build_request("POST", "/v1/claims:scrub", **kwargs).read())
                    started = time.perf_counter()
                    timings = measure(client, kwargs, args.requests, args.warmup, expect_flagged=1)
                    elapsed = time.perf_counter() - started
                    rows.append((name, body_bytes, timings, (args.requests + args.warmup) / elapsed))
        finally:
            process.terminate()
            process.wait(timeout=15)

    print("| request | body bytes | requests | p50 ms | p90 ms | p99 ms | max ms | mean ms | req/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, body_bytes, timings, rate in rows:
        print(
            f"| {name} | {body_bytes} | {len(timings)} | {percentile(timings, 0.5):.2f} | {percentile(timings, 0.9):.2f} | "
            f"{percentile(timings, 0.99):.2f} | {max(timings):.2f} | {statistics.fmean(timings):.2f} | {rate:.0f} |"
        )
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("fastapi", "uvicorn", "httpx", "durable_rules"))
    print(f"\n{cpu}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; Python {platform.python_version()}; {versions}; "
          f"{args.workers} worker(s), server log level {args.log_level}")
    worst = max(percentile(timings, 0.99) for _, _, timings, _ in rows)
    print(f"target p99 < {TARGET_P99_MS:.0f} ms: {'met' if worst < TARGET_P99_MS else 'MISSED'} (worst p99 {worst:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
