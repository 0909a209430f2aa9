"""``scrubber check PATH...``: scrub 837P files or directories and report every claim."""

from __future__ import annotations

import argparse
import sys

from scrubber.commands.common import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_USAGE,
    UsageError,
    add_rule_options,
    add_table_option,
    load_rule_selection,
    split_values,
)
from scrubber.engine import ENGINES
from scrubber.findings import ClaimResult, Summary
from scrubber.inputs import INPUT_FORMATS, mapping_option
from scrubber.options import ScrubOptions
from scrubber.reporters import FORMATS


def add_parser(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser("check", help="scrub claim files (X12 837P, JSON/JSONL, CSV, FHIR) or directories")
    check.add_argument(
        "paths", nargs="+", metavar="PATH", help="claim files or directories of them; - reads standard input",
    )
    check.add_argument("--format", choices=FORMATS, default=None, help="report format (default: text)")
    check.add_argument("--output", "-o", metavar="FILE", help="write the report here instead of stdout")
    check.add_argument("--fail-on", choices=("error", "warning", "info"), default=None, help="default: error")
    check.add_argument("--exit-zero", action="store_true", default=None, help="exit 0 even when findings are reported")
    check.add_argument(
        "--redact", action="store_true", default=None,
        help="hash claim ids, names, member ids, birth dates, addresses and payer claim numbers wherever they "
        "appear in the report and its messages (key: $SCRUBBER_REDACT_KEY)",
    )
    check.add_argument("--config", metavar="FILE", help="scrubber.toml or pyproject.toml (default: found upward from here)")
    check.add_argument("--baseline", metavar="FILE", help="report only findings not recorded in this baseline")
    check.add_argument("--write-baseline", metavar="FILE", help="record the current findings as the baseline")
    check.add_argument("--no-progress", action="store_true", help="no progress bar (it shows only on a terminal)")
    check.add_argument(
        "--statistics", action="store_true",
        help="count the findings of each rule (count, rule, name; most first): in place of the findings in "
        "--format text, after the report otherwise",
    )
    check.add_argument("--validate", action="store_true", help="also run pyx12's 837P implementation-guide validation")
    check.add_argument(
        "--jobs", "-j", type=int, metavar="N", default=None,
        help="processes reading in parallel, this one included (default: the number of cores; small inputs run in one process)",
    )
    check.add_argument(
        "--input-format", choices=INPUT_FORMATS, default="auto",
        help="how to read every PATH (default auto: X12, JSON/JSONL, FHIR or CSV, told by content)",
    )
    check.add_argument(
        "--mapping", type=mapping_option, metavar="FILE",
        help="CSV column mapping: a YAML file, or charge-export / openemr (default: chosen from the CSV header)",
    )
    add_rule_options(check)
    check.add_argument("--engine", choices=ENGINES, default=None, help="default: durable")
    add_table_option(check)


def table_paths(config_tables: dict[str, str] | None, flags: list[tuple[str, str]] | None) -> dict[str, str] | None:
    """The configuration's tables with the command line's winning, name by name (None: neither gives any)."""
    if not config_tables and not flags:
        return None
    return {**(config_tables or {}), **dict(flags or [])}


def table_issues(tables: dict) -> list:
    """Each table row that was skipped while loading a table file, as an input warning naming the file and
    row. (A store's were reported when it was imported; ``scrubber tables list`` counts them.)"""
    from scrubber.model import ParseIssue
    from scrubber.tables.store import is_store_table

    return [
        ParseIssue(
            file=problem.file, location=f"row {problem.row}" if problem.row else None, severity="warning",
            message=f"{name} table: {'row ' + str(problem.row) + ': ' if problem.row else ''}{problem.message} (row skipped)",
        )
        for name, table in sorted(tables.items())
        if not is_store_table(table)
        for problem in table.problems
    ]


def _sequential(scrubber, files, args, redactor):
    """(file position, event, raw claim id) for every file, in this process."""
    from scrubber.inputs import read_file

    for position, file in enumerate(files):
        items = read_file(file, args.input_format, args.mapping)
        for event in scrubber.run(redactor.watch(items) if redactor else items):
            yield position, event, event.claim_id if isinstance(event, ClaimResult) else None


def apply_config(args: argparse.Namespace) -> ScrubOptions:
    """Fill the report options the command line left unset from the configuration file, then the defaults;
    return the scrub options: the file's, with the command line's flags winning."""
    from pathlib import Path

    from scrubber.config import find_config, load_config

    config = load_config(Path(args.config) if args.config else find_config())
    for option, key, default in (
        ("format", "format", "text"),
        ("fail_on", "fail-on", "error"),
        ("exit_zero", "exit-zero", False),
        ("redact", "redact", False),
        ("baseline", "baseline", None),
        ("jobs", "jobs", None),
    ):
        if getattr(args, option) is None:
            setattr(args, option, config.get(key, default))
    if args.format not in FORMATS:
        raise UsageError(f"{config.path}: format {args.format!r} is not one of {', '.join(FORMATS)}")
    return config.scrub_options(
        select=split_values(args.select) or None,
        ignore=split_values(args.ignore) or None,
        rulesets=args.rules,
        profiles=args.profiles,
        engine=args.engine,
        tables=table_paths(config.get("tables"), args.table),
    )


def _renamed(events, names: dict[str, str]):
    """The event stream with the spooled standard input's temporary path shown as ``<stdin>``."""
    if not names:
        yield from events
        return
    for position, event, raw_id in events:
        if event.file in names:
            if isinstance(event, ClaimResult):
                event.file = names[event.file]
            else:
                event = event.model_copy(update={"file": names[event.file]})
        yield position, event, raw_id


class _StatisticsInText:
    """``--statistics`` with ``--format text``: the reporter's input problems and summary, with the per-rule
    counts in place of the findings (as ruff's ``--statistics`` shows counts instead of violations)."""

    def __init__(self, reporter, statistics: Statistics):
        self.reporter, self.statistics = reporter, statistics

    def claim(self, result: ClaimResult) -> None:
        if result.status == "unreadable":
            self.reporter.claim(result)

    def issue(self, issue) -> None:
        self.reporter.issue(issue)

    def finish(self, summary: Summary) -> None:
        self.reporter.out.write(self.statistics.render())
        self.reporter.finish(summary)


class Statistics:
    """Findings counted by rule, for ``--statistics``."""

    def __init__(self) -> None:
        from collections import Counter

        self.counts: Counter[str] = Counter()
        self.names: dict[str, str] = {}

    def add(self, result: ClaimResult) -> None:
        for finding in result.findings:
            self.counts[finding.rule] += 1
            self.names.setdefault(finding.rule, finding.name)

    def render(self) -> str:
        """``count<TAB>rule<TAB>name`` lines, most found first (then by rule id), counts right-aligned."""
        if not self.counts:
            return "no findings\n"
        rows = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
        count_width = len(str(rows[0][1]))
        rule_width = max(len(rule) for rule, _ in rows)
        return "".join(
            f"{count:>{count_width}}\t{rule:<{rule_width}}\t{self.names[rule]}\n" for rule, count in rows
        )


def _refuse_output_over_input(args: argparse.Namespace) -> None:
    """A usage error (exit 2) when ``--output`` or ``--write-baseline`` would overwrite an input, before
    anything is read."""
    from scrubber.inputs import output_conflict

    for option, value in (("--output", args.output), ("--write-baseline", args.write_baseline)):
        if value:
            conflict = output_conflict(value, args.paths)
            if conflict is not None:
                raise UsageError(conflict.replace("--output", option, 1))


def run(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from scrubber.api import assemble_scrubber
    from scrubber.baseline import Baseline, BaselineWriter
    from scrubber.inputs import (
        REMITTANCE_MESSAGE,
        STDIN,
        STDIN_NAME,
        discover,
        remove_spooled,
        screen,
        spool_stdin,
    )
    from scrubber.parallel import WorkerSetup, effective_jobs, run_parallel
    from scrubber.progress import progress_for
    from scrubber.redact import Redactor
    from scrubber.reporters import atomic_output, atomic_path, make_reporter
    from scrubber.validate_ig import with_ig_findings

    _refuse_output_over_input(args)
    if args.paths.count(STDIN) > 1:
        raise UsageError("- (standard input) can be named only once")
    options = apply_config(args)
    # the flags' and the configuration's rules and selectors (an unknown selector is a usage error)
    selection = argparse.Namespace(rules=options.rulesets, select=options.select, ignore=options.ignore)
    all_rules, rules = load_rule_selection(selection)
    scrubber = assemble_scrubber(all_rules, rules, options)
    baseline = Baseline.load(args.baseline) if args.baseline else None
    recorder = BaselineWriter() if args.write_baseline else None
    statistics = Statistics() if args.statistics else None
    with ExitStack() as cleanup:
        names: dict[str, str] = {}
        paths = list(args.paths)
        if STDIN in paths:
            spooled = spool_stdin()
            cleanup.callback(remove_spooled, spooled)
            names[str(spooled)] = STDIN_NAME
            paths[paths.index(STDIN)] = str(spooled)
        files, problems = discover(paths, skip=[args.output] if args.output else [])
        discovered = len(files)
        files, skipped = screen(files, args.input_format)  # 835s and our own reports: not claims
        problems = [*table_issues(scrubber.tables), *problems, *skipped]
        out = cleanup.enter_context(atomic_output(args.output)) if args.output else sys.stdout
        summary = Summary(files=discovered, tables=scrubber.tables_in_use())
        remittances = [problem.file for problem in problems if problem.message == REMITTANCE_MESSAGE]
        reporter = make_reporter(args.format, out, rules=rules)
        if statistics is not None and args.format == "text":
            reporter = _StatisticsInText(reporter, statistics)
        redactor = Redactor.from_env() if args.redact else None
        jobs = effective_jobs(args.jobs, files)
        if redactor is not None and jobs == 1:
            reporter = redactor.wrap(reporter)  # with workers, each redacts what it reads
        for _, problem, _ in _renamed(((0, problem, None) for problem in problems), names):
            summary.add_issue(problem)
            reporter.issue(problem)
        if jobs > 1:
            setup = WorkerSetup(
                options, input_format=args.input_format, mapping=args.mapping,
                redact_key=redactor.key if redactor is not None else None,
            )
            events = run_parallel(files, jobs, setup)
        else:
            events = _sequential(scrubber, files, args, redactor)
        events = _renamed(with_ig_findings(files, events, args.validate, redactor), names)
        with progress_for(len(files), not args.no_progress) as progress:
            current = None
            for position, event, raw_id in events:
                if position != current:
                    current = position
                    progress.file_started(names.get(str(files[position]), str(files[position])))
                if isinstance(event, ClaimResult):
                    if recorder is not None:
                        recorder.add(event, raw_id)
                    if baseline is not None:
                        event = baseline.filter(event, raw_id)
                    if statistics is not None:
                        statistics.add(event)
                    summary.add(event)
                    reporter.claim(event)
                    progress.claim_done()
                else:
                    if event.message == REMITTANCE_MESSAGE:
                        remittances.append(event.file)
                    summary.add_issue(event)
                    reporter.issue(event)
        if baseline is not None:
            summary.suppressed = baseline.suppressed
        reporter.finish(summary)
    # the report is in place (replaced whole, or left as it was when the run failed); then the baseline
    if recorder is not None:
        with atomic_path(args.write_baseline) as temporary:
            recorder.write(temporary)
    if statistics is not None and args.format != "text":
        # after the report; on stderr when the report itself is on stdout, so that stays one JSON/XML document
        sys.stdout.flush()
        print(statistics.render(), end="", file=sys.stderr if not args.output else sys.stdout)
    if summary.claims == 0:
        hint = f" ({', '.join(remittances)}: {REMITTANCE_MESSAGE})" if remittances else ""
        print(f"scrubber: no claim could be read from the input{hint}", file=sys.stderr)
        return EXIT_USAGE
    if recorder is not None:
        return EXIT_CLEAN  # the baseline was written: recording findings is not failing on them
    code = summary.exit_code(args.fail_on)
    return EXIT_CLEAN if args.exit_zero and code == EXIT_FINDINGS else code
