"""``scrubber check --jobs N``: N worker processes, one engine each, results in input order.

Each worker reads every file but builds and scrubs only its share of the claims: X12 claims by
position (claim i goes to worker i mod N, see ``x12_837p.read(shard=...)``), other formats whole
(worker 0). Tokenizing is cheap; parsing, facts and rules are not, so the work divides while every
worker still knows the envelope each claim sits in. The main process merges the workers' streams
back into file order, claim by claim, so the report is the one a single process writes. Queues are
bounded: memory does not grow with the batch.

Input problems outside claims (envelope errors) are seen by every worker; the merge keeps the first.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from scrubber.findings import ClaimResult
from scrubber.model import ParseIssue
from scrubber.options import ScrubOptions

CHUNK = 256  # events per message between processes
QUEUE_DEPTH = 8  # messages in flight per worker
MIN_BYTES_PER_WORKER = 2 << 20  # below ~4k claims a worker costs more (start-up, imports) than it saves


@dataclass(frozen=True)
class WorkerSetup:
    """Everything a worker needs to build the same Scrubber as the main process, and read as it does (picklable)."""

    options: ScrubOptions = field(default_factory=ScrubOptions)
    input_format: str = "auto"
    mapping: str | None = None
    redact_key: bytes | None = field(default=None, repr=False)


def effective_jobs(jobs: int | None, files: list[Path]) -> int:
    """How many workers to start: ``--jobs N`` as asked; by default one per core, but only as many as
    the input is worth (each worker costs ~0.3 s of start-up: a small batch runs in this process)."""
    if jobs is not None:
        return max(1, jobs)
    size = sum(file.stat().st_size for file in files if file.exists())
    return max(1, min(os.cpu_count() or 1, size // MIN_BYTES_PER_WORKER))


def _is_x12(file: Path, setup: WorkerSetup) -> bool:
    if setup.input_format not in ("auto", "x12"):
        return False
    from scrubber.inputs import detect_format

    try:
        with open(file, "rb") as stream:
            head = stream.read(4096)
    except OSError:
        return False
    return setup.input_format == "x12" or detect_format(head, file.name) == "x12"


def die_with_parent(parent: int) -> None:
    """End this worker when the process that started it dies, however it dies (SIGKILL included): on Linux
    the kernel sends SIGKILL (``PR_SET_PDEATHSIG``); elsewhere a watchdog thread notices the new parent.
    Without it a killed ``check --jobs N`` left its workers running, holding the parent's pipes."""
    import os
    import signal
    import sys
    import threading

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the watchdog below does it
            pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="scrubber-parent-watch", daemon=True).start()


def _worker(index: int, count: int, files: list[Path], sharded: list[bool], setup: WorkerSetup, out, parent: int | None = None) -> None:
    if parent is not None:
        die_with_parent(parent)
    try:
        from scrubber.api import build_scrubber
        from scrubber.inputs import read_file
        from scrubber.readers.x12_837p import read_path

        scrubber = build_scrubber(setup.options)
        redactor = None
        if setup.redact_key is not None:
            from scrubber.redact import Redactor

            redactor = Redactor(setup.redact_key)
        for position, file in enumerate(files):
            if sharded[position]:
                items = read_path(file, (index, count))
            elif index == 0:
                items = read_file(file, setup.input_format, setup.mapping)
            else:
                out.put(("done", position, None))
                continue
            if redactor is not None:
                items = redactor.watch(items)
            chunk: list[tuple[Any, str | None]] = []
            for event in scrubber.run(items):
                raw_id = event.claim_id if isinstance(event, ClaimResult) else None
                chunk.append((redactor.event(event) if redactor else event, raw_id))
                if len(chunk) >= CHUNK:
                    out.put(("events", position, chunk))
                    chunk = []
            out.put(("events", position, chunk))
            out.put(("done", position, None))
    except BaseException:  # noqa: BLE001 - reported to the main process, which stops the run
        out.put(("failed", None, traceback.format_exc()))


class WorkerFailed(RuntimeError):
    pass


class _Stream:
    """One worker's messages for the current file, as a stream of (event, raw claim id)."""

    def __init__(self, channel, process):
        self.channel = channel
        self.process = process
        self.buffer: list[tuple[Any, str | None]] = []
        self.position = 0
        self.finished_file: int | None = None

    def _receive(self) -> tuple:
        while True:
            try:
                return self.channel.get(timeout=1)
            except queue.Empty:
                if not self.process.is_alive():
                    raise WorkerFailed(f"worker {self.process.name} stopped (exit code {self.process.exitcode})") from None

    def peek(self, file: int) -> tuple[Any, str | None] | None:
        item = self.next(file)
        if item is not None:
            self.position -= 1
        return item

    def next(self, file: int) -> tuple[Any, str | None] | None:
        """The next event of ``file`` from this worker, or None when it has no more for that file."""
        while self.position >= len(self.buffer):
            if self.finished_file == file:
                return None
            kind, position, payload = self._receive()
            if kind == "failed":
                raise WorkerFailed(payload)
            if kind == "done":
                self.finished_file = position
            else:
                self.buffer, self.position = payload, 0
        event = self.buffer[self.position]
        self.position += 1
        return event


def run_parallel(files: list[Path], jobs: int, setup: WorkerSetup) -> Iterator[tuple[int, ClaimResult | ParseIssue, str | None]]:
    """(file position, event, raw claim id) for every file in order, as one process would produce them."""
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    sharded = [_is_x12(file, setup) for file in files]
    channels = [context.Queue(maxsize=QUEUE_DEPTH) for _ in range(jobs)]
    processes = [
        context.Process(target=_worker, args=(k, jobs, files, sharded, setup, channels[k], os.getpid()), name=f"scrubber-{k}", daemon=True)
        for k in range(jobs)
    ]
    for process in processes:
        process.start()
    streams = [_Stream(channel, process) for channel, process in zip(channels, processes)]
    try:
        for position in range(len(files)):
            merged = _merge_file(position, streams if sharded[position] else streams[:1], jobs if sharded[position] else 1)
            for event, raw_id in merged:
                yield position, event, raw_id
            if not sharded[position]:
                for stream in streams[1:]:
                    assert stream.next(position) is None  # the other workers skipped this file
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)


def _merge_file(position: int, streams: list[_Stream], count: int) -> Iterator[tuple[Any, str | None]]:
    """Claim i of the file comes from worker i mod count; input problems outside claims are de-duplicated."""
    seen_issues: set[tuple] = set()
    exhausted = [False] * count
    turn = 0
    while not all(exhausted):
        worker = turn % count
        item = None if exhausted[worker] else streams[worker].next(position)
        if item is None:
            exhausted[worker] = True
            turn += 1
            continue
        event = item[0]
        if isinstance(event, ClaimResult):
            yield item
            follower = streams[worker].peek(position)
            if follower is not None and isinstance(follower[0], ParseIssue) and follower[0].unreadable_claim:
                yield streams[worker].next(position)  # why that claim could not be read
            turn += 1  # the next claim belongs to the next worker
            continue
        identity = (event.segment, event.location, event.message)
        if identity not in seen_issues:
            seen_issues.add(identity)
            yield item
