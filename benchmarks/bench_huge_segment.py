"""Time to read an 837P file holding one huge segment, by the segment's size (issue 10: it was quadratic).

    python benchmarks/bench_huge_segment.py [--sizes 6,12,25,50,100] [--segment nte|sv1] [--repeat 1]

For each size S (MB) it builds, in memory, a small valid 837P (``generate_837p.py``, 3 claims) with
one segment of about S MB added to the first claim, then prints the seconds taken by

- tokenize: ``list(scrubber.readers.x12_tokens.iter_segments(stream))``;
- read: every item of ``scrubber.readers.x12_837p.read(stream)``.

``--segment nte`` (default) adds ``NTE*ADD*XXXX...`` after the first CLM; ``--segment sv1`` makes the
first SV1's procedure description (SV101-7) huge. Linear cost means seconds/MB stays flat as S grows.
The result is a markdown table on stdout; ``--repeat K`` keeps the fastest of K runs.
"""

from __future__ import annotations

import argparse
import io
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
try:
    import scrubber  # noqa: F401
except ImportError:  # run as a script from a checkout
    sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from generate_837p import generate  # noqa: E402

from scrubber.readers import x12_837p  # noqa: E402
from scrubber.readers.x12_tokens import iter_segments  # noqa: E402

MB = 1_000_000


def base_file() -> bytes:
    """A small valid 837P, written by the benchmark generator (3 claims, seed 0)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "base.837"
        generate(3, path, seed=0)
        return path.read_bytes()


def _segment_end(data: bytes, start: int) -> int:
    """Offset just after the terminator of the segment starting at ``start`` (the ISA's 106th byte is it)."""
    return data.index(data[105:106], start) + 1


def with_huge_segment(base: bytes, size: int, kind: str) -> bytes:
    """``base`` with one segment of about ``size`` bytes in its first claim."""
    terminator = base[105:106]
    if kind == "nte":
        end = _segment_end(base, base.index(b"CLM*"))
        note = b"\n" + b"NTE*ADD*" + b"X" * size + terminator
        return _count_one_more_segment(base[:end] + note + base[end:])
    start = base.index(b"SV1*")
    end = _segment_end(base, start)
    elements = base[start : end - 1].split(b"*")
    composite = elements[1].split(base[104:105])  # ISA16: the component separator
    composite += [b""] * (7 - len(composite)) + [b"X" * size]  # SV101-7: description
    elements[1] = base[104:105].join(composite)
    return base[:start] + b"*".join(elements) + terminator + base[end:]


def _count_one_more_segment(data: bytes) -> bytes:
    """Raise the first SE01 by one, so the added segment leaves the transaction set valid."""
    start = data.index(b"\nSE*") + 4
    end = data.index(b"*", start)
    return data[:start] + str(int(data[start:end]) + 1).encode() + data[end:]


def timed(run, data: bytes, repeat: int) -> float:
    """Fastest wall time of ``repeat`` runs of ``run`` over a fresh stream of ``data``."""
    best = float("inf")
    for _ in range(repeat):
        stream = io.BytesIO(data)
        started = time.perf_counter()
        run(stream)
        best = min(best, time.perf_counter() - started)
    return best


def tokenize(stream: io.BytesIO) -> int:
    return sum(1 for _ in iter_segments(stream))


def read(stream: io.BytesIO) -> int:
    return sum(1 for _ in x12_837p.read(stream, "huge.837"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="6,12,25,50,100", help="comma-separated segment sizes in MB")
    parser.add_argument("--segment", choices=("nte", "sv1"), default="nte", help="which segment is huge")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest is kept")
    args = parser.parse_args(argv)
    base = base_file()
    print(f"| segment MB | tokenize s | read s | tokenize s/MB |  ({args.segment.upper()}, Python {platform.python_version()})")
    print("|---:|---:|---:|---:|")
    for size in (float(part) for part in args.sizes.split(",")):
        data = with_huge_segment(base, int(size * MB), args.segment)
        seconds = timed(tokenize, data, args.repeat)
        reading = timed(read, data, args.repeat)
        print(f"| {size:g} | {seconds:.2f} | {reading:.2f} | {seconds / size:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
