"""``scrubber check --jobs N``: the main process and N - 1 worker processes, one engine each, results in input order.

An X12 file is cut by byte offset into pieces of about 1 MB (at least N), at ST or HL*20/HL*22 segments
(``x12_pieces``), dealt out in turn: piece k goes to the main process when k mod N is 0, else to worker
k mod N. A worker tokenizes, reads and scrubs only its pieces, after rebuilding the reader state at each
piece's start from a byte scan. The main process reads its own pieces from the real state the previous
piece's reader reached (no scan, no guess, nothing pickled) and joins them with the workers' streams
piece after piece, so the report is the one a single process writes: each rebuilt state is checked
against the state the previous piece's reader reached (when they differ, the main process reads that piece
itself, from the real state). Other formats are read whole by the main process. Queues are bounded: memory
does not grow with the batch.

The main process takes a share because it would otherwise sit between two busy workers, taking CPU from
them to join and write the report: on two cores, two processes that each read half of the file beat
three (measured: 200k claims, ``benchmarks/bench_all.py``).
"""

from __future__ import annotations

import gc
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
from scrubber.readers.x12_837p import Reader
from scrubber.readers.x12_pieces import (
    Piece,
    PieceEnd,
    PieceStart,
    Scanner,
    first_delimiters,
    guess_holds,
    plan,
    read_on,
    read_piece,
)

CHUNK = 256  # events per message between processes
QUEUE_DEPTH = 32  # messages in flight per worker: a worker can run a piece or two ahead of the join
MIN_BYTES_PER_WORKER = 2 << 20  # below ~4k claims a worker costs more (start-up, imports) than it saves


@dataclass(frozen=True)
class WorkerSetup:
    """Everything a worker needs to build the same Scrubber as the main process, and read as it does (picklable)."""

    options: ScrubOptions = field(default_factory=ScrubOptions)
    input_format: str = "auto"
    mapping: str | None = None
    redact_key: bytes | None = field(default=None, repr=False)


def effective_jobs(jobs: int | None, files: list[Path]) -> int:
    """How many shares to read in (the main process's and ``N - 1`` workers'): ``--jobs N`` as asked; by
    default one per core, but only as many as the input is worth (each worker costs start-up: a small batch
    runs in this process alone)."""
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


def _worker(
    index: int, count: int, files: list[Path], plans: list[list[Piece] | None], setup: WorkerSetup, out,
    parent: int | None = None, thresholds: tuple[int, ...] | None = None,
) -> None:
    """Read, scrub and send piece ``index``, ``index + count``, ... of each file cut in pieces (``index`` is
    1 or more: the main process reads the pieces of share 0, and files not cut in pieces). Per piece: its
    start, its events, its end, then "done"."""
    if parent is not None:
        die_with_parent(parent)
    if thresholds is not None:  # the main process's garbage-collector settings (a spawned worker starts afresh)
        gc.set_threshold(*thresholds)
    try:
        from scrubber.api import build_scrubber

        scrubber = build_scrubber(setup.options)
        redactor = _redactor(setup)
        for position, file in enumerate(files):
            pieces = plans[position]
            if pieces is None or len(pieces) <= index:
                continue  # read whole by the main process, or no piece of this share
            delimiters = first_delimiters(file)
            scanner = Scanner(file, delimiters) if delimiters is not None else None
            for number in range(index, len(pieces), count):
                key = (position, number)
                items = read_piece(
                    file,
                    pieces[number],
                    Reader,
                    scanner=scanner,
                    started=lambda start, key=key: out.put(("start", key, start)),
                    ended=lambda end, key=key: out.put(("end", key, end)),
                )
                chunk: list[tuple[Any, str | None]] = []
                for event in _scrubbed(scrubber, redactor, items):
                    chunk.append(event)
                    if len(chunk) >= CHUNK:
                        out.put(("events", key, chunk))
                        chunk = []
                out.put(("events", key, chunk))
                out.put(("done", key, None))
    except BaseException:  # noqa: BLE001 - reported to the main process, which stops the run
        out.put(("failed", None, traceback.format_exc()))


def _redactor(setup: WorkerSetup):
    if setup.redact_key is None:
        return None
    from scrubber.redact import Redactor

    return Redactor(setup.redact_key)


def _scrubbed(scrubber, redactor, items) -> Iterator[tuple[Any, str | None]]:
    """(event, raw claim id) for what ``items`` hold, redacted when asked."""
    if redactor is not None:
        items = redactor.watch(items)
    for event in scrubber.run(items):
        raw_id = event.claim_id if isinstance(event, ClaimResult) else None
        yield (redactor.event(event) if redactor else event), raw_id


def _plan(file: Path, jobs: int, setup: WorkerSetup) -> list[Piece] | None:
    """The pieces an X12 file is read in, or None: read whole by the main process (another format, or unreadable)."""
    if not _is_x12(file, setup):
        return None
    try:
        return plan(file, jobs)
    except OSError:
        return None


class WorkerFailed(RuntimeError):
    pass


class _Stream:
    """One worker's messages, a piece at a time: the piece's start and end, and its events."""

    def __init__(self, channel, process):
        self.channel = channel
        self.process = process

    def _receive(self) -> tuple:
        while True:
            try:
                message = self.channel.get(timeout=1)
            except queue.Empty:
                if not self.process.is_alive():
                    raise WorkerFailed(f"worker {self.process.name} stopped (exit code {self.process.exitcode})") from None
                continue
            if message[0] == "failed":
                raise WorkerFailed(message[2])
            return message

    def start(self, key: tuple[int, int]) -> PieceStart:
        kind, received, payload = self._receive()
        assert kind == "start" and received == key, (kind, received, key)
        return payload

    def events(self, key: tuple[int, int], ends: list[PieceEnd]) -> Iterator[tuple[Any, str | None]]:
        """The events of piece ``key`` (file position, piece number), up to its "done"; its end goes into ``ends``."""
        while True:
            kind, received, payload = self._receive()
            assert received == key, (kind, received, key)
            if kind == "done":
                return
            if kind == "end":
                ends.append(payload)
            elif kind == "events":
                yield from payload

    def skip(self, key: tuple[int, int], started: bool) -> None:
        """Drop piece ``key`` (the main process read that part of the file itself)."""
        if not started:
            self.start(key)
        for _ in self.events(key, []):
            pass


def run_parallel(files: list[Path], jobs: int, setup: WorkerSetup) -> Iterator[tuple[int, ClaimResult | ParseIssue, str | None]]:
    """(file position, event, raw claim id) for every file in order, as one process would produce them:
    ``jobs`` shares, the main process's and ``jobs - 1`` workers'."""
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    plans = [_plan(file, jobs, setup) for file in files]
    channels = {k: context.Queue(maxsize=QUEUE_DEPTH) for k in range(1, jobs)}
    processes = {
        k: context.Process(target=_worker, args=(k, jobs, files, plans, setup, channels[k], os.getpid(), gc.get_threshold()), name=f"scrubber-{k}", daemon=True)
        for k in range(1, jobs)
    }
    for process in processes.values():
        process.start()
    streams = {k: _Stream(channels[k], processes[k]) for k in processes}
    local = _Local(setup)
    try:
        for position, file in enumerate(files):
            for event, raw_id in _merge_file(position, file, plans[position], jobs, streams, local, setup):
                yield position, event, raw_id
    finally:
        for process in processes.values():
            if process.is_alive():
                process.terminate()
        for process in processes.values():
            process.join(timeout=5)


class _Local:
    """The main process's own scrubber and redactor (as a worker has them), built the first time it reads."""

    def __init__(self, setup: WorkerSetup):
        self.setup = setup
        self._scrubber = None
        self._redactor = None

    def scrubbed(self, items) -> Iterator[tuple[Any, str | None]]:
        if self._scrubber is None:
            from scrubber.api import build_scrubber

            self._scrubber = build_scrubber(self.setup.options)
            self._redactor = _redactor(self.setup)
        return _scrubbed(self._scrubber, self._redactor, items)


def _merge_file(
    position: int, file: Path, pieces: list[Piece] | None, count: int, streams: dict[int, _Stream], local: _Local, setup: WorkerSetup
) -> Iterator[tuple[Any, str | None]]:
    """The file's events, piece after piece: piece k read here when k mod ``count`` is 0, else taken from
    worker k mod ``count``. A worker's piece is used only when the state it rebuilt at its start equals the
    state the previous piece's reader reached; else that piece is read here, from that real state
    (``x12_pieces.read_on``), and its end is what the next piece's guess is checked against."""
    if pieces is None:
        from scrubber.inputs import read_file

        yield from local.scrubbed(read_file(file, setup.input_format, setup.mapping))
        return
    ends: list[PieceEnd] = []
    for number, piece in enumerate(pieces):
        key = (position, number)
        share = number % count
        previous = ends[-1] if ends else None
        if number > 0 and previous is None:  # every piece but the last ends with a state (read_piece, read_on)
            raise WorkerFailed(f"piece {number - 1} of {file} gave no end state")
        stream = streams[share] if share else None
        if stream is not None and guess_holds(previous, stream.start(key)):
            ends = []
            yield from stream.events(key, ends)
            continue
        # Read here: the main process's own piece (from the real state, nothing to check), or a worker's whose
        # guess was wrong (that worker's results for it are dropped once this is read).
        ends = []
        if number == 0:
            items = read_piece(file, piece, Reader, scanner=None, started=lambda start: None, ended=ends.append)
        else:
            items = read_on(file, piece, previous, Reader, ends.append)
        yield from local.scrubbed(items)
        if stream is not None:
            stream.skip(key, started=True)
