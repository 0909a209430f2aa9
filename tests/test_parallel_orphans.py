"""Killing ``scrubber check --jobs 3`` (SIGKILL or SIGTERM) takes its two workers with it (issue 14): they
used to run on forever, orphaned, holding the parent's pipes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its entry waits to be reaped


@pytest.fixture(scope="module")
def big_batch(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("orphans") / "batch.837"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate_837p.py"), "20000", str(path)], check=True, capture_output=True)
    return path


@pytest.mark.parametrize("signal_number", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_their_parent(big_batch, signal_number):
    process = subprocess.Popen(
        [sys.executable, "-m", "scrubber", "check", str(big_batch), "--jobs", "3", "--format", "json", "--output", os.devnull],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2:
        workers = children(process.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the workers did not start"
    process.send_signal(signal_number)
    process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers), "a worker outlived its parent"
