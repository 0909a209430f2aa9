"""Recognizing a table's header row: which layout (neutral CSV or a CMS file) and which column is which.

A header cell is compared by its *key*: lower case, letters and digits only (``"Deletion Date
*=no data"`` -> ``deletiondatenodata``, ``"Add-On_Code"`` -> ``addoncode``). Column order does not
matter and other columns are ignored.

Neutral layouts (exact keys; header names are case-insensitive)

=========  ==============================================================================
kind       columns (``[]`` optional)
=========  ==============================================================================
ncci-ptp   ``column1, column2, effective, deletion, modifier_indicator``
mue        ``code, max_units, indicator`` ``[effective, deletion]``
addon      ``addon, primary`` ``[type, effective, deletion]`` (``type`` may be ``edit_type``)
=========  ==============================================================================

CMS layouts (the published files; the header may come after preamble lines)

=========  ==============================================================================
kind       columns recognized
=========  ==============================================================================
ncci-ptp   ``Column 1``, ``Column 2``, ``Effective Date``, ``Deletion Date *=no data``,
           ``Modifier 0=not allowed 1=allowed 9=not applicable`` (``*=in existence prior to
           1996`` and ``PTP Edit Rationale`` ignored). The practitioner text files wrap this header
           over four lines (``Effective`` / ``Date``, ``Modifier`` / ``0=not allowed`` / ...): a
           name is recognized by its first line (``effective...``, ``deletion...``,
           ``modifier...``), and the reader skips the continuation lines.
mue        ``HCPCS/CPT Code`` (also ``"HCPCS/\\nCPT Code"``), ``... MUE Values`` (Practitioner,
           Outpatient Hospital or DME Supplier Services), ``MUE Adjudication Indicator``
           (``MUE Rationale`` ignored)
addon      ``Add-On_Code`` / ``Add-on Code``, ``Primary_Code``, ``AOC_Edit_Type``, ``AOC_Edit_EffDT``,
           ``AOC_Edit_DelDT``, ``AOC_DelDT`` (the add-on code's deletion), ``Primary_Code_DelDT``
           (each date column may carry a ``_Julian`` suffix; ``Special_Instruction_Notes`` ignored)
=========  ==============================================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .model import ADDON, MUE, PTP

_NOT_KEY = re.compile(r"[^a-z0-9]+")

Predicate = Callable[[str], bool]


def header_key(cell: str) -> str:
    """``'Deletion Date *=no data'`` -> ``'deletiondatenodata'`` (undecodable bytes read as Latin-1)."""
    try:
        cell.encode("utf-8")
    except UnicodeEncodeError:
        cell = cell.encode("utf-8", "surrogateescape").decode("latin-1")
    return _NOT_KEY.sub("", cell.lower())


def _is(*keys: str) -> Predicate:
    wanted = frozenset(keys)
    return lambda key: key in wanted


def _starts(prefix: str) -> Predicate:
    return lambda key: key.startswith(prefix)


@dataclass(frozen=True)
class Layout:
    """One header layout: the fields it needs, the fields it may have, and how each is recognized."""

    kind: str
    name: str  # "neutral" or "cms"
    required: tuple[tuple[str, Predicate], ...]
    optional: tuple[tuple[str, Predicate], ...] = ()

    def columns(self, cells: Sequence[str]) -> dict[str, int] | None:
        """Field -> column index, or None when a required field has no column."""
        keys = [header_key(cell) for cell in cells]
        taken: set[int] = set()
        found: dict[str, int] = {}
        for fields, needed in ((self.required, True), (self.optional, False)):
            for field, matches in fields:
                index = next((i for i, key in enumerate(keys) if i not in taken and key and matches(key)), None)
                if index is None:
                    if needed:
                        return None
                    continue
                taken.add(index)
                found[field] = index
        return found


def _addon_deletion(key: str) -> bool:
    return "del" in key and "edit" not in key and "primary" not in key and ("aoc" in key or "addon" in key)


LAYOUTS: dict[str, tuple[Layout, ...]] = {
    PTP: (
        Layout(
            PTP,
            "neutral",
            required=(
                ("column1", _is("column1")),
                ("column2", _is("column2")),
                ("effective", _is("effective")),
                ("deletion", _is("deletion")),
                ("modifier_indicator", _is("modifierindicator")),
            ),
        ),
        Layout(
            PTP,
            "cms",
            required=(
                ("column1", _starts("column1")),
                ("column2", _starts("column2")),
                ("effective", _starts("effective")),
                ("deletion", _starts("deletion")),
                ("modifier_indicator", _starts("modifier")),
            ),
        ),
    ),
    MUE: (
        Layout(
            MUE,
            "neutral",
            required=(("code", _is("code")), ("max_units", _is("maxunits")), ("indicator", _is("indicator"))),
            optional=(("effective", _is("effective")), ("deletion", _is("deletion"))),
        ),
        Layout(
            MUE,
            "cms",
            required=(
                ("code", _is("hcpcscptcode", "hcpcscode", "cptcode", "hcpcscpt", "hcpcs", "cpthcpcscode")),
                ("max_units", lambda key: "muevalue" in key),
                ("indicator", lambda key: "adjudicationindicator" in key or key == "mai"),
            ),
        ),
    ),
    ADDON: (
        Layout(
            ADDON,
            "neutral",
            required=(("addon", _is("addon")), ("primary", _is("primary"))),
            optional=(
                ("type", _is("type", "edittype")),
                ("effective", _is("effective")),
                ("deletion", _is("deletion")),
            ),
        ),
        Layout(
            ADDON,
            "cms",
            required=(
                ("addon", _is("addoncode", "addoncodes", "aoccode", "addonhcpcscode")),
                ("primary", _is("primarycode", "primarycodes", "primaryprocedurecode", "primaryhcpcscode")),
            ),
            optional=(
                ("type", lambda key: "type" in key),
                ("primary_deletion", lambda key: "primary" in key and "del" in key),
                ("primary_effective", lambda key: "primary" in key and "eff" in key),
                ("edit_deletion", lambda key: "edit" in key and "del" in key),
                ("addon_deletion", _addon_deletion),
                ("effective", lambda key: "eff" in key and "primary" not in key),
            ),
        ),
    ),
}


def match_header(kind: str, cells: Sequence[str]) -> tuple[Layout, dict[str, int]] | None:
    """The first layout of ``kind`` whose required columns are all in ``cells``, with its columns."""
    if len(cells) < 2:
        return None
    for layout in LAYOUTS[kind]:
        columns = layout.columns(cells)
        if columns is not None:
            return layout, columns
    return None


def guess_kind(cells: Sequence[str]) -> str | None:
    """The kind whose header ``cells`` look like (for a helpful error when the wrong kind is given)."""
    for kind in LAYOUTS:
        if match_header(kind, cells):
            return kind
    return None
