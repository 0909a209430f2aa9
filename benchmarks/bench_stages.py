"""Where `scrubber check` spends its time: each stage timed on its own, in one process, on the same claims.

    python benchmarks/bench_stages.py [--claims 20000 | --file PATH] [--engine durable|python] [--rounds 3]

The scrubber is the one ``scrubber check FILE --format json --engine E`` builds (the CLI's own argument
parser, configuration lookup, rule selection and ``assemble_scrubber``), so the rules, engine, payer
profiles and reference tables are the ones a default check uses. Stages, each timed with
``time.perf_counter`` (best of ``--rounds``; every round runs every stage):

- read: ``list(scrubber.readers.x12_837p.read_path(path))`` (then ``gc.freeze()``, so the claims held for
  the later stages are not walked by every full collection, which the pipeline's one live batch is not);
- facts: the engine facts of every claim, in the pipeline's batches (256 claims), as
  ``Scrubber.check_with_profiles`` builds them: payer profile lookup, then ``claim_facts``;
- engine: ``engine.evaluate(facts)`` per batch, on the facts just built (fresh each round: the durable
  engine's prepass writes into them);
- findings: the rest of ``check_with_profiles`` (hits grouped by claim, severities under the profile,
  ``Finding`` objects with rendered messages, sorted) and ``ClaimResult.for_claim``;
- output: the JSON reporter (``--format json``) writing every result, and the summary, to /dev/null.

Then, as a cross-check, the whole pipeline as the CLI streams it in one process (``Scrubber.run`` over
the reader, into the JSON reporter), whose summary must equal the staged one; the reader streamed (claims
dropped as read); and the bare segment split of the same file (read the bytes, ``split`` on the segment
terminator) for scale. Prints a markdown table and those notes.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_check import ensure_file

STAGES = ("read", "facts", "engine", "findings", "output")


def cli_scrubber(path: Path, engine: str):
    """The Scrubber, selected rules and parsed arguments of ``scrubber check PATH --format json --engine E``."""
    from scrubber import cli
    from scrubber.api import assemble_scrubber
    from scrubber.commands.check import apply_config
    from scrubber.commands.common import load_rule_selection

    args = cli._parser().parse_args(["check", str(path), "--format", "json", "--output", os.devnull, "--engine", engine])
    tune = getattr(cli, "tune_garbage_collector", None)
    if tune is not None:  # what the CLI does to the garbage collector before it reads (checkouts that have it)
        tune()
    cli._require_engine(args)
    options = apply_config(args)
    selection = argparse.Namespace(rules=options.rulesets, select=options.select, ignore=options.ignore)
    all_rules, rules = load_rule_selection(selection)
    return assemble_scrubber(all_rules, rules, options), rules


def batches(items: list, size: int):
    """The batches ``Scrubber.run`` flushes: items up to and including every ``size``-th claim."""
    from scrubber.model import Claim

    pending, claims = [], 0
    for item in items:
        pending.append(item)
        if isinstance(item, Claim):
            claims += 1
            if claims == size:
                yield pending
                pending, claims = [], 0
    if pending:
        yield pending


def one_round(path: Path, scrubber, rules) -> tuple[dict[str, float], dict, int]:
    """Seconds per stage, the report's summary, and the number of claims."""
    from scrubber import pipeline
    from scrubber.findings import ClaimResult
    from scrubber.model import Claim
    from scrubber.readers.x12_837p import read_path

    seconds = dict.fromkeys(STAGES, 0.0)
    clock = time.perf_counter

    started = clock()
    items = list(read_path(path))
    seconds["read"] = clock() - started
    # The pipeline holds one batch at a time; here every claim stays alive. Freezing them keeps the cyclic
    # collector from walking them again on every full collection of the later stages (as it does, at a cost
    # of about half the reading time, while the list grows: see the streamed read in the notes).
    gc.freeze()

    events: list = []
    profiles_of = scrubber.profiles.for_claim if scrubber.profiles is not None else (lambda claim: None)
    for pending in batches(items, scrubber.batch_size):
        claims = [item for item in pending if isinstance(item, Claim)]

        # (b) facts, as check_with_profiles builds them
        started = clock()
        profiles = [profiles_of(claim) for claim in claims]
        facts: list[dict] = []
        for position, (claim, profile) in enumerate(zip(claims, profiles)):
            facts.extend(pipeline.claim_facts(claim, str(position), profile, scrubber.model_facts))
        seconds["facts"] += clock() - started

        # (c) the engine, on those (fresh) facts
        started = clock()
        hits = scrubber.engine.evaluate(facts) if claims else []
        seconds["engine"] += clock() - started

        # (d) the rest of check_with_profiles, then Scrubber._flush's results
        started = clock()
        by_claim: list[list[tuple[str, str]]] = [[] for _ in claims]
        for rule_id, fact_id in hits:
            claim_key, _, line_key = fact_id.partition(".")
            by_claim[int(claim_key)].append((rule_id, line_key))
        facts_by_id = {fact["id"]: fact for fact in facts}
        checked = []
        for position, (claim, claim_hits, profile) in enumerate(zip(claims, by_claim, profiles)):
            findings = []
            for rule_id, line_key in claim_hits:
                severity = scrubber._severity_under(profile, rule_id)
                if severity is None:
                    continue
                fact = facts_by_id[f"{position}.{line_key}" if line_key else str(position)]
                findings.append(scrubber._finding(claim, rule_id, line_key, fact, severity))
            findings.sort(key=pipeline._finding_order)
            checked.append((findings, profile.id if profile is not None else None))
        results = iter(checked)
        for item in pending:
            if isinstance(item, Claim):
                findings, profile_id = next(results)
                events.append(ClaimResult.for_claim(item, findings, profile_id))
            else:
                if item.unreadable_claim:
                    events.append(ClaimResult.unreadable(item))
                events.append(item)
        seconds["findings"] += clock() - started
        del facts, facts_by_id, hits

    # (e) the JSON reporter, as `scrubber check --format json -o /dev/null` drives it
    started = clock()
    summary = json_report(events, scrubber, rules)
    seconds["output"] = clock() - started
    gc.unfreeze()
    return seconds, summary.to_dict(), sum(isinstance(item, Claim) for item in items)


def whole_pipeline(path: Path, scrubber, rules) -> tuple[float, dict]:
    """The CLI's streaming path in this process: reader → Scrubber.run → JSON reporter to /dev/null."""
    from scrubber.readers.x12_837p import read_path

    started = time.perf_counter()
    summary = json_report(scrubber.run(read_path(path)), scrubber, rules)
    return time.perf_counter() - started, summary.to_dict()


def json_report(events, scrubber, rules):
    """Write ``events`` as `scrubber check --format json -o /dev/null` does; the report's summary."""
    from scrubber.findings import ClaimResult, Summary
    from scrubber.reporters import make_reporter

    summary = Summary(files=1, tables=scrubber.tables_in_use())
    with open(os.devnull, "w", encoding="utf-8") as out:
        reporter = make_reporter("json", out, rules=rules)
        for event in events:
            if isinstance(event, ClaimResult):
                summary.add(event)
                reporter.claim(event)
            else:
                summary.add_issue(event)
                reporter.issue(event)
        reporter.finish(summary)
    return summary


def streamed_read(path: Path) -> float:
    """Seconds to read every claim, dropping each as it comes (as the pipeline's batches do)."""
    from scrubber.readers.x12_837p import read_path

    started = time.perf_counter()
    for _ in read_path(path):
        pass
    return time.perf_counter() - started


def bare_split(path: Path, rounds: int) -> float:
    """Best of ``rounds``: read the file's bytes and split them on the ISA segment terminator (byte 105)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        with open(path, "rb") as stream:
            data = stream.read()
        parts = data.split(data[105:106])
        best = min(best, time.perf_counter() - started)
        del parts, data
    return best


def stage_table(seconds: dict[str, float], claims: int) -> str:
    total = sum(seconds.values())
    lines = ["| stage | seconds | µs per claim | share |", "|---|---:|---:|---:|"]
    for stage in STAGES:
        value = seconds[stage]
        lines.append(f"| {stage} | {value:.2f} | {value / claims * 1e6:,.0f} | {value / total:.0%} |")
    lines.append(f"| **sum** | **{total:.2f}** | **{total / claims * 1e6:,.0f}** | 100% |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--claims", type=int, default=20000, help="claims in the generated file (default 20000)")
    where.add_argument("--file", type=Path, help="an 837P file to use instead of a generated one")
    parser.add_argument("--engine", choices=("durable", "python"), default="durable")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each stage's fastest is kept (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated file")
    args = parser.parse_args(argv)
    path = args.file or ensure_file(args.claims, args.seed)

    started = time.perf_counter()
    scrubber, rules = cli_scrubber(path, args.engine)
    setup = time.perf_counter() - started

    best = dict.fromkeys(STAGES, float("inf"))
    staged_summary, claims = None, 0
    pipeline_best, pipeline_summary = float("inf"), None
    streamed = float("inf")
    for round_number in range(args.rounds):
        seconds, staged_summary, claims = one_round(path, scrubber, rules)
        for stage in STAGES:
            best[stage] = min(best[stage], seconds[stage])
        wall, pipeline_summary = whole_pipeline(path, scrubber, rules)
        pipeline_best = min(pipeline_best, wall)
        streamed = min(streamed, streamed_read(path))
        print(f"round {round_number + 1}/{args.rounds}: stages {sum(seconds.values()):.2f} s, "
              f"whole pipeline {wall:.2f} s", file=sys.stderr)
    split = bare_split(path, 5)
    if claims == 0:
        print(f"no claims in {path}", file=sys.stderr)
        return 1

    total = sum(best.values())
    print(f"`scrubber check {path.name} --format json -o /dev/null --engine {scrubber.engine.name}`, stage by stage, "
          f"in one process: {claims:,} claims, {path.stat().st_size / 1e6:.1f} MB, {len(scrubber.rules)} rules; "
          f"best of {args.rounds} per stage")
    print()
    print(stage_table(best, claims))
    print()
    print(f"- whole pipeline in this process (reader → `Scrubber.run` → JSON reporter, streaming, as the CLI): "
          f"{pipeline_best:.2f} s ({pipeline_best / claims * 1e6:,.0f} µs per claim; the stages sum to "
          f"{total / pipeline_best:.2f}x that)")
    print(f"- read, streamed (each claim dropped as it comes, as in the pipeline): {streamed:.2f} s "
          f"({streamed / claims * 1e6:,.0f} µs per claim); `list()` holding them all costs {best['read'] - streamed:+.2f} s "
          f"(the cyclic garbage collector walking the growing list)")
    print(f"- bare segment split of the same file (read the bytes + `split`, best of 5): {split:.4f} s; "
          f"the stages sum to {total / split:.0f}x it, the whole pipeline {pipeline_best / split:.0f}x")
    print(f"- set-up before the first claim (CLI parser, configuration, rules, engine build; imports mostly "
          f"done by then): {setup:.2f} s")
    same = staged_summary == pipeline_summary
    print(f"- staged summary equals the pipeline's: {'yes' if same else 'NO'} "
          f"({staged_summary['flagged']:,} flagged, {staged_summary['findings']:,} findings)")
    if not same:
        print(f"staged:   {staged_summary}\npipeline: {pipeline_summary}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
