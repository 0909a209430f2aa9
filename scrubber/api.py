"""The library entry points: ``scrub`` a source or claims, ``read`` a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from scrubber.engine import Engine, make_engine
from scrubber.findings import Report
from scrubber.inputs import INPUT_FORMATS, discover, read_file
from scrubber.model import Claim, ParseIssue
from scrubber.options import ScrubOptions, make_options
from scrubber.pipeline import Scrubber
from scrubber.profiles import load_profiles
from scrubber.rules import RuleSpec, load_rules
from scrubber.rules.select import select_rules

# durable_rules keeps rulesets in process-global C state: build each rule selection's engine once.
_ENGINES: dict[tuple[Any, ...], Engine] = {}
# Reference tables opened in this process, by (name, path, the file's size and modification time): a
# table re-imported in place is opened again.
_TABLES: dict[tuple[Any, ...], Any] = {}


def get_engine(rules: Sequence[RuleSpec], engine: str = "durable", tables: Mapping[str, Any] | None = None) -> Engine:
    tables = tables or {}
    key = (engine, tuple(sorted(f"{rule.file}:{rule.id}" for rule in rules)), tuple(sorted((n, id(t)) for n, t in tables.items())))
    if key not in _ENGINES:
        _ENGINES[key] = make_engine(rules, engine, tables)
    return _ENGINES[key]


def open_tables(paths: Mapping[str, str]) -> dict[str, Any]:
    """The reference tables named in ``paths`` (name -> path), opened once per process; a table that cannot
    be read at all raises ``scrubber.tables.TableError`` (a check never runs without a table it was given)."""
    import os

    from scrubber.tables import open_table

    opened = {}
    for name, path in sorted(paths.items()):
        try:
            stat = os.stat(path)
            stamp: tuple[Any, ...] = (stat.st_size, stat.st_mtime_ns)
        except OSError:
            stamp = ()  # open_table says what is wrong
        key = (name, os.path.abspath(path), *stamp)
        if key not in _TABLES:
            _TABLES[key] = open_table(name, path)
        opened[name] = _TABLES[key]
    return opened


def build_scrubber(options: ScrubOptions | None = None, **changes: Any) -> Scrubber:
    """The Scrubber for ``options`` (a ScrubOptions field given as a keyword argument replaces its value):
    the bundled rules plus ``rulesets``, filtered by select/ignore, with payer profiles and severity overrides."""
    options = make_options(options, **changes)
    all_rules = load_rules(options.rulesets, include_bundled=True)
    return assemble_scrubber(all_rules, select_rules(all_rules, options.select, options.ignore), options)


def assemble_scrubber(all_rules: Sequence[RuleSpec], rules: Sequence[RuleSpec], options: ScrubOptions) -> Scrubber:
    """A Scrubber over the selected ``rules`` plus the opt-in rules that some payer profile enables."""
    profile_set = load_profiles(options.profiles)
    chosen = {rule.id for rule in rules}
    # Opt-in rules a profile enables run in the engine too, but only count for that profile's claims.
    profile_only = [
        rule
        for rule in all_rules
        if rule.id not in chosen
        and any(rule.id in profile.enable for profile in profile_set.profiles)
        and select_rules([rule], None, options.ignore, include_opt_in=True)
    ]
    active = [*rules, *profile_only]
    tables = open_tables(options.table_paths)
    return Scrubber(
        active,
        get_engine(active, options.engine, tables),
        profiles=profile_set,
        profile_only=[rule.id for rule in profile_only],
        severity=options.severities,
        tables=tables,
    )


def read(
    source: str | Path | Iterable[Any],
    *,
    format: str = "auto",
    mapping: Any = None,
) -> Iterator[Claim | ParseIssue]:
    """Every claim in ``source``, and a ``ParseIssue`` for whatever could not be read. Never raises on bad input.

    ``source`` is a file or a directory (each file's format told by its content, unless ``format`` says:
    ``x12``, ``json``, ``jsonl``, ``csv`` or ``fhir``), or an iterable: ``Claim`` models or dicts in the
    Claim schema; CSV rows (dicts of column -> value) with ``format="csv"``; FHIR resources (dicts)
    with ``format="fhir"``. ``mapping`` is the CSV column mapping: a YAML file, a bundled mapping's
    name (``charge-export`` or ``openemr``) or a dict; without one, the bundled mapping that fits the
    CSV header is used.

    >>> rows = [{"claim_id": "C1", "procedure_code": "99213", "line_charge": "80", "financial_class": "Commercial"}]
    >>> [claim.payer.filing_indicator for claim in read(rows, format="csv", mapping="charge-export")]
    ['CI']
    >>> [(issue.location, issue.message) for issue in read([{"claim_id": "X", "lines": "none"}])]
    [('/0/lines', '/0/lines: Input should be a valid tuple')]
    """
    if format not in INPUT_FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(INPUT_FORMATS)}")
    if isinstance(source, (str, Path)):
        return _read_paths([source], format, mapping)
    if isinstance(source, (bytes, bytearray)) or hasattr(source, "read"):
        raise TypeError("read() takes a path or an iterable of records; for a stream use scrubber.readers.<format>.read")
    if format == "csv":
        from scrubber.readers.csv import read_rows

        return read_rows(source, mapping)
    if format == "fhir":
        from scrubber.readers.fhir import read_resources

        return read_resources(source)
    if format == "x12":
        raise ValueError("format='x12' needs a path: X12 is read from files")
    return _claims_from(source)


def _read_paths(
    paths: Iterable[str | Path], format: str, mapping: Any, counter: list[int] | None = None
) -> Iterator[Claim | ParseIssue]:
    files, problems = discover(paths)
    if counter is not None:
        counter.append(len(files))
    yield from problems
    for file in files:
        yield from read_file(file, format, mapping)


def _claims_from(items: Iterable[Any]) -> Iterator[Claim | ParseIssue]:
    from scrubber.readers.json import to_claim

    for position, item in enumerate(items):
        if isinstance(item, (Claim, ParseIssue)):
            yield item
        else:
            yield to_claim(item, None, pointer_prefix=f"/{position}")


def scrub(
    source: str | Path | Iterable[Any],
    *,
    format: str = "auto",
    mapping: Any = None,
    options: ScrubOptions | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    rulesets: Iterable[str | Path] | None = None,
    profiles: Iterable[str | Path] | None = None,
    severity: Mapping[str, str] | None = None,
    engine: str | None = None,
    tables: Mapping[str, str | Path] | None = None,
) -> Report:
    """Scrub a file, a directory, or records (see :func:`read` for ``source``, ``format`` and ``mapping``).

    ``select`` / ``ignore`` take rule ids, id prefixes or denial codes (``CO-111``); ``rulesets`` adds
    your own rule files or directories to the bundled rules; ``profiles`` adds payer profiles;
    ``severity`` maps rule ids to ``error`` / ``warning`` / ``info``; ``engine`` is ``durable`` (the
    default) or ``python``; ``tables`` maps reference tables (``ncci-ptp``, ``mue``, ``addon``) to a neutral
    CSV, a CMS file or a table store (``scrubber tables import``). The same options can come as one :class:`scrubber.ScrubOptions`
    (``options=``); keyword arguments given with it replace its fields.

    >>> import scrubber
    >>> report = scrubber.scrub([{
    ...     "claim_id": "A1", "assignment": "C", "payer": {"filing_indicator": "MB"},
    ...     "diagnoses": [{"code": "E119", "qualifier": "ABK"}],
    ...     "lines": [{"number": 1, "procedure": "80053", "charge": "25", "diagnosis_pointers": [1]}],
    ... }], select=["CO-111"])
    >>> [(finding.rule, finding.carc, finding.line) for finding in report.findings]
    [('unassigned-mandatory-assignment-service', 'CO-111', 1)]
    >>> report.exit_code(fail_on="error"), report.summary.flagged
    (1, 1)
    """
    scrubber = build_scrubber(
        options, select=select, ignore=ignore, rulesets=rulesets, profiles=profiles, severity=severity, engine=engine,
        tables=tables,
    )
    counter: list[int] = []
    if isinstance(source, (str, Path)):
        if format not in INPUT_FORMATS:
            raise ValueError(f"unknown format {format!r}; expected one of {', '.join(INPUT_FORMATS)}")
        events = list(scrubber.run(_needing_extras(_read_paths([source], format, mapping, counter))))
        return Report.collect(events, files=counter[0] if counter else 0, tables=scrubber.tables_in_use())
    items = _needing_extras(read(source, format=format, mapping=mapping))
    return Report.collect(scrubber.run(items), tables=scrubber.tables_in_use())


# The FHIR reader's ParseIssue when the [fhir] extra is missing (``scrubber check`` prints it and, with no
# claim read, exits 2); ``scrub`` raises it instead of returning a report with no claims.
FHIR_EXTRA_MISSING = "reading FHIR needs the fhir.resources package"


def _needing_extras(items: Iterable[Claim | ParseIssue]) -> Iterator[Claim | ParseIssue]:
    """``items``, raising ``ImportError`` (with the reader's install hint) when the input needs an
    optional extra that is not installed."""
    for item in items:
        if isinstance(item, ParseIssue) and item.message.startswith(FHIR_EXTRA_MISSING):
            where = f"{item.file}: " if item.file else ""
            raise ImportError(f"{where}{item.message}", name="fhir.resources")
        yield item
