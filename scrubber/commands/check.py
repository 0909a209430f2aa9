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
    load_rule_selection,
    split_values,
)
from scrubber.engine import ENGINES
from scrubber.findings import ClaimResult, Summary
from scrubber.reporters import FORMATS


def add_parser(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser("check", help="scrub X12 837P files or directories")
    check.add_argument("paths", nargs="+", metavar="PATH", help="837P files or directories of them")
    check.add_argument("--format", choices=FORMATS, default=None, help="report format (default: text)")
    check.add_argument("--output", "-o", metavar="FILE", help="write the report here instead of stdout")
    check.add_argument("--fail-on", choices=("error", "warning", "info"), default=None, help="default: error")
    check.add_argument("--exit-zero", action="store_true", default=None, help="exit 0 even when findings are reported")
    check.add_argument(
        "--redact", action="store_true", default=None,
        help="hash claim ids, names and member ids in the report (key: $SCRUBBER_REDACT_KEY)",
    )
    check.add_argument("--config", metavar="FILE", help="scrubber.toml or pyproject.toml (default: found upward from here)")
    check.add_argument("--baseline", metavar="FILE", help="report only findings not recorded in this baseline")
    check.add_argument("--write-baseline", metavar="FILE", help="record the current findings as the baseline")
    check.add_argument("--no-progress", action="store_true", help="no progress bar (it shows only on a terminal)")
    add_rule_options(check)
    check.add_argument("--engine", choices=ENGINES, default=None, help="default: durable")


def apply_config(args: argparse.Namespace):
    """Fill every option the command line left unset from the configuration file, then the defaults."""
    from pathlib import Path

    from scrubber.config import find_config, load_config

    config = load_config(Path(args.config) if args.config else find_config())
    for option, key, default in (
        ("format", "format", "text"),
        ("fail_on", "fail-on", "error"),
        ("exit_zero", "exit-zero", False),
        ("redact", "redact", False),
        ("engine", "engine", "durable"),
        ("select", "select", None),
        ("ignore", "ignore", None),
        ("profiles", "profiles", None),
        ("rules", "rules", None),
        ("baseline", "baseline", None),
    ):
        if getattr(args, option) is None:
            setattr(args, option, config.get(key, default))
    if args.format not in FORMATS:
        raise UsageError(f"{config.path}: format {args.format!r} is not one of {', '.join(FORMATS)}")
    return config


def run(args: argparse.Namespace) -> int:
    from scrubber.api import assemble_scrubber
    from scrubber.profiles import load_profiles
    from scrubber.inputs import discover, read_file
    from scrubber.redact import Redactor
    from scrubber.reporters import make_reporter

    from scrubber.baseline import Baseline, BaselineWriter
    from scrubber.progress import progress_for

    config = apply_config(args)
    all_rules, rules = load_rule_selection(args)
    scrubber = assemble_scrubber(
        all_rules, rules, load_profiles(args.profiles), args.engine, split_values(args.ignore), config.get("severity")
    )
    baseline = Baseline.load(args.baseline) if args.baseline else None
    recorder = BaselineWriter() if args.write_baseline else None
    files, problems = discover(args.paths)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    summary = Summary(files=len(files))
    try:
        reporter = make_reporter(args.format, out, rules=rules)
        redactor = Redactor.from_env() if args.redact else None
        if redactor is not None:
            reporter = redactor.wrap(reporter)
        for problem in problems:
            summary.add_issue(problem)
            reporter.issue(problem)
        with progress_for(len(files), not args.no_progress) as progress:
            for file in files:
                progress.file_started(str(file))
                for event in scrubber.run(redactor.watch(read_file(file)) if redactor else read_file(file)):
                    if isinstance(event, ClaimResult):
                        if recorder is not None:
                            recorder.add(event)
                        if baseline is not None:
                            event = baseline.filter(event)
                        summary.add(event)
                        reporter.claim(event)
                        progress.claim_done()
                    else:
                        summary.add_issue(event)
                        reporter.issue(event)
        reporter.finish(summary)
        if recorder is not None:
            recorder.write(args.write_baseline)
    finally:
        if out is not sys.stdout:
            out.close()
    if summary.claims == 0:
        print("scrubber: no claim could be read from the input", file=sys.stderr)
        return EXIT_USAGE
    code = summary.exit_code(args.fail_on)
    return EXIT_CLEAN if args.exit_zero and code == EXIT_FINDINGS else code
