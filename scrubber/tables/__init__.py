"""Reference tables for the CMS NCCI edits: procedure pairs, unit limits, add-on codes.

CMS publishes the NCCI edit files for practitioners every quarter, free; their CPT content is
AMA-licensed, so the scrubber ships none of it. Users download the files (or write their own in the
neutral CSV layout), import them into one SQLite file, and rules look codes up in it.

========== ===================================== =====================================================
kind       what                                  lookups
========== ===================================== =====================================================
ncci-ptp   procedure-to-procedure pair edits     ``pairs_for(column1)``, ``pair(column1, column2, on)``
mue        medically unlikely edits (unit caps)  ``limit(code, on=None)``
addon      add-on code edits                     ``primaries(addon, on=None)``
========== ===================================== =====================================================

Use::

    from scrubber.tables import import_files, list_tables, open_table

    import_files("ncci-ptp", ["ccipra-v321r0-f1.zip", ..., "ccipra-v321r0-f4.zip"], "ncci.sqlite")
    import_files("mue", "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv", "ncci.sqlite")
    ptp = open_table("ncci-ptp", "ncci.sqlite")       # or a CSV / CMS file, read into memory
    edit = ptp.pair("12001", "11042", date(2026, 5, 4))   # PairEdit | None, with .citation

Modules (one job each): :mod:`.model` (edits, kinds, date convention), :mod:`.values` (cells),
:mod:`.layouts` (header recognition), :mod:`.versions` (quarter detection), :mod:`.sources` (files,
zips, text), :mod:`.reader` (rows and problems), :mod:`.tables` (lookups and caching),
:mod:`.memory` and :mod:`.store` (where rows live), :mod:`.opening` (``open_table``),
:mod:`.errors` (``TableError``, ``TableProblem``).
"""

from .errors import TableError, TableProblem
from .model import ADDON, KINDS, MUE, PTP, AddonEdit, PairEdit, UnitLimit
from .opening import open_table
from .store import ImportResult, TableInfo, import_files, list_tables
from .tables import AddonTable, PairTable, Table, UnitTable

__all__ = [
    "ADDON",
    "KINDS",
    "MUE",
    "PTP",
    "AddonEdit",
    "AddonTable",
    "ImportResult",
    "PairEdit",
    "PairTable",
    "Table",
    "TableError",
    "TableInfo",
    "TableProblem",
    "UnitLimit",
    "UnitTable",
    "import_files",
    "list_tables",
    "open_table",
]
