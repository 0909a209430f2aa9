"""Which segment opens which 835 loop (005010X221A1), as a table.

Each row: (segment id, qualifier element position, qualifier values, loops it may follow, loop it opens),
as described in ``x12_loops``. A segment that matches no row stays in the current loop.

    ST  BPR TRN CUR REF DTM                 (header)
      N1*PR N3 N4 REF PER                   (1000A payer)
      N1*PE N3 N4 REF                       (1000B payee)
      LX TS3 TS2                            (2000 header number)
        CLP CAS NM1 MIA MOA REF DTM PER AMT QTY      (2100 claim payment)
          SVC DTM CAS REF AMT QTY LQ                 (2110 service payment)
    PLB                                     (summary: provider adjustments)
    SE
"""

from __future__ import annotations

from scrubber.readers.x12_loops import loop_table
from scrubber.readers.x12_loops import next_loop as _next_loop

LOOP_OPENERS = loop_table(
    ("ST", None, None, None, "ST"),
    ("SE", None, None, None, "SE"),
    ("N1", 1, {"PR"}, {"ST", "1000A"}, "1000A"),
    ("N1", 1, {"PE"}, {"ST", "1000A", "1000B"}, "1000B"),
    ("LX", None, None, None, "2000"),
    ("CLP", None, None, None, "2100"),
    ("SVC", None, None, None, "2110"),
    ("PLB", None, None, None, "PLB"),
)


def next_loop(current: str, segment_id: str, elements: list[str]) -> str | None:
    """The loop ``elements`` opens when read inside ``current``, or None if it stays in ``current``."""
    return _next_loop(LOOP_OPENERS, current, segment_id, elements)
