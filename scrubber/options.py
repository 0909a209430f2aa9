"""``ScrubOptions``: everything that decides which findings a scrub reports, as one frozen, hashable record.

The rules (bundled, plus ``rulesets``: rule files or directories), chosen by ``select`` / ``ignore``
(rule ids, id prefixes or denial codes); payer ``profiles`` (YAML files or directories); per-rule
``severity`` overrides (a payer profile's still win); the rule ``engine``; the reference ``tables``
(``ncci-ptp``, ``mue``, ``addon``: a neutral CSV, a CMS file or a table store, see ``scrubber.tables``).

Every entry point takes one: ``scrubber.scrub``, ``api.build_scrubber``, the ``check --jobs`` workers
(``parallel.WorkerSetup``), the HTTP service (``service.Settings``), ``scrubber.arrow`` and
``scrubber.spark``; the configuration file makes one (``Config.scrub_options``); caches of built
scrubbers key on it. How claims are read (input format, CSV mapping) and how a report is written
(format, redaction, fail-on) are not scrub options: they do not change which rules fire.

>>> options = ScrubOptions(select=["CO-111"], severity={"invalid-npi": "warning"})
>>> options == ScrubOptions(select=("CO-111",), severity=[("invalid-npi", "warning")])
True
>>> options.merged(engine="python", select=None).engine, options.severities
('python', {'invalid-npi': 'warning'})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from os import PathLike
from typing import Any

from scrubber.tables.model import KINDS as TABLE_NAMES  # the reference tables a run may be given

SEVERITIES = ("error", "warning", "info")

Texts = tuple[str, ...]


@dataclass(frozen=True)
class ScrubOptions:
    """Scrub options; lists, paths and dicts given to it are stored as tuples (so it is hashable)."""

    select: Texts | None = None  # only these rules (None: every default-enabled rule)
    ignore: Texts | None = None  # minus these
    rulesets: Texts | None = None  # rule files or directories added to the bundled rules
    profiles: Texts | None = None  # payer profile files or directories; they win over the bundled ones
    severity: tuple[tuple[str, str], ...] = ()  # (rule id, severity) pairs, sorted; give it a dict
    engine: str = "durable"  # "durable" or "python"
    tables: tuple[tuple[str, str], ...] = ()  # (table name, path) pairs, sorted; give it a dict

    def __post_init__(self) -> None:
        for name in ("select", "ignore", "rulesets", "profiles"):
            object.__setattr__(self, name, _texts(name, getattr(self, name)))
        object.__setattr__(self, "severity", _severities(self.severity))
        object.__setattr__(self, "tables", _tables(self.tables))
        if not isinstance(self.engine, str):
            raise TypeError(f"ScrubOptions: engine must be a string, not {type(self.engine).__name__}")

    @property
    def severities(self) -> dict[str, str]:
        """The severity overrides as a dict (rule id -> severity)."""
        return dict(self.severity)

    @property
    def table_paths(self) -> dict[str, str]:
        """The reference tables as a dict (table name -> path)."""
        return dict(self.tables)

    def merged(self, **changes: Any) -> ScrubOptions:
        """These options with every change that is not None: a keyword argument or flag left unset keeps the value."""
        return replace(self, **{name: value for name, value in changes.items() if value is not None})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: lists and a severity dict (``from_dict`` reads it back)."""
        data: dict[str, Any] = {}
        for name in field_names():
            value = getattr(self, name)
            if name == "severity":
                data[name] = self.severities
            elif name == "tables":
                data[name] = self.table_paths
            else:
                data[name] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScrubOptions:
        return cls(**data)


def field_names() -> tuple[str, ...]:
    return tuple(item.name for item in fields(ScrubOptions))


def make_options(options: ScrubOptions | None = None, **changes: Any) -> ScrubOptions:
    """``options`` (or the defaults) with the keyword arguments that are not None: what every entry point does."""
    return (options if options is not None else ScrubOptions()).merged(**changes)


def _texts(name: str, value: Any) -> Texts | None:
    if value is None:
        return None
    if isinstance(value, (str, PathLike)):
        value = [value]  # one rule or path, not its characters
    if not isinstance(value, Iterable):
        raise TypeError(f"ScrubOptions: {name} must be a list of strings, not {type(value).__name__}")
    items = tuple(str(item) if isinstance(item, PathLike) else item for item in value)
    if not all(isinstance(item, str) for item in items):
        raise TypeError(f"ScrubOptions: {name} must be a list of strings")
    return items


def _mapping(value: Any, what: str) -> dict[Any, Any]:
    """A dict from a mapping or (key, value) pairs; None is empty."""
    if value is None:
        return {}
    pairs = value.items() if isinstance(value, Mapping) else value
    try:
        return dict(pairs)
    except (TypeError, ValueError):
        raise TypeError(f"ScrubOptions: {what}") from None


def _severities(value: Any) -> tuple[tuple[str, str], ...]:
    result = _mapping(value, "severity must map rule ids to severities")
    for rule, severity in result.items():
        if not isinstance(rule, str):
            raise TypeError(f"ScrubOptions: severity keys must be rule ids, not {rule!r}")
        if severity not in SEVERITIES:
            raise ValueError(f"ScrubOptions: severity of {rule!r} must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    return tuple(sorted(result.items()))


def _tables(value: Any) -> tuple[tuple[str, str], ...]:
    result = _mapping(value, "tables must map table names to paths")
    checked = {}
    for name, path in result.items():
        if name not in TABLE_NAMES:
            raise ValueError(f"ScrubOptions: unknown table {name!r}; the tables are {', '.join(TABLE_NAMES)}")
        if isinstance(path, PathLike):
            path = str(path)
        if not isinstance(path, str) or not path:
            raise TypeError(f"ScrubOptions: the table {name!r} must be a path, not {path!r}")
        checked[name] = path
    return tuple(sorted(checked.items()))
