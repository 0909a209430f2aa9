"""Which segment opens which 837P loop (005010X222A1), as a table.

Each row: (segment id, qualifier element position, qualifier values, loops it may follow, loop it opens),
as described in ``x12_loops``. A segment that matches no row stays in the current loop.
"""

from __future__ import annotations

from scrubber.readers.x12_loops import LoopOpener, loop_table
from scrubber.readers.x12_loops import next_loop as _next_loop

__all__ = ["LOOP_OPENERS", "LoopOpener", "next_loop"]

_CLAIM = ("2300", "2310A", "2310B", "2310C", "2310D", "2310E", "2310F")
_OTHER_PAYER = ("2320", "2330A", "2330B", "2330C", "2330D", "2330E", "2330F", "2330G")
_LINE = ("2400", "2410", "2420A", "2420B", "2420C", "2420D", "2420E", "2420F", "2420G", "2420H", "2430", "2440")

LOOP_OPENERS = loop_table(
    ("ST", None, None, None, "ST"),
    ("SE", None, None, None, "SE"),
    ("NM1", 1, {"41"}, {"ST", "1000A"}, "1000A"),
    ("NM1", 1, {"40"}, {"ST", "1000A", "1000B"}, "1000B"),
    ("HL", 3, {"20"}, None, "2000A"),
    ("HL", 3, {"22"}, None, "2000B"),
    ("HL", 3, {"23"}, None, "2000C"),
    ("NM1", 1, {"85"}, {"2000A", "2010AA"}, "2010AA"),
    ("NM1", 1, {"87"}, {"2000A", "2010AA", "2010AB"}, "2010AB"),
    ("NM1", 1, {"IL"}, {"2000B"}, "2010BA"),
    ("NM1", 1, {"PR"}, {"2000B", "2010BA"}, "2010BB"),
    ("NM1", 1, {"QC"}, {"2000C"}, "2010CA"),
    ("CLM", None, None, None, "2300"),
    ("NM1", 1, {"DN", "P3"}, _CLAIM, "2310A"),
    ("NM1", 1, {"82"}, _CLAIM, "2310B"),
    ("NM1", 1, {"77"}, _CLAIM, "2310C"),
    ("NM1", 1, {"DQ"}, _CLAIM, "2310D"),
    ("NM1", 1, {"PW"}, _CLAIM, "2310E"),
    ("NM1", 1, {"45"}, _CLAIM, "2310F"),
    ("SBR", None, None, _CLAIM + _OTHER_PAYER, "2320"),
    ("NM1", 1, {"IL"}, _OTHER_PAYER, "2330A"),
    ("NM1", 1, {"PR"}, _OTHER_PAYER, "2330B"),
    ("NM1", 1, {"DN", "P3"}, ("2330B", "2330C"), "2330C"),
    ("NM1", 1, {"82"}, ("2330B", "2330C", "2330D"), "2330D"),
    ("NM1", 1, {"77"}, ("2330B", "2330C", "2330D", "2330E"), "2330E"),
    ("NM1", 1, {"DQ"}, ("2330B", "2330C", "2330D", "2330E", "2330F"), "2330F"),
    ("NM1", 1, {"85"}, ("2330B", "2330C", "2330D", "2330E", "2330F", "2330G"), "2330G"),
    ("LX", None, None, _CLAIM + _OTHER_PAYER + _LINE, "2400"),
    ("LIN", None, None, _LINE, "2410"),
    ("NM1", 1, {"82"}, _LINE, "2420A"),
    ("NM1", 1, {"QB"}, _LINE, "2420B"),
    ("NM1", 1, {"77"}, _LINE, "2420C"),
    ("NM1", 1, {"DQ"}, _LINE, "2420D"),
    ("NM1", 1, {"DK"}, _LINE, "2420E"),
    ("NM1", 1, {"DN", "P3"}, _LINE, "2420F"),
    ("NM1", 1, {"PW"}, _LINE, "2420G"),
    ("NM1", 1, {"45"}, _LINE, "2420H"),
    ("SVD", None, None, _LINE, "2430"),
    ("LQ", None, None, _LINE, "2440"),
)


def next_loop(current: str, segment_id: str, elements: list[str]) -> str | None:
    """The loop ``elements`` opens when read inside ``current``, or None if it stays in ``current``."""
    return _next_loop(LOOP_OPENERS, current, segment_id, elements)
