"""The library entry points: ``scrub`` a source or claims, ``read`` a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from pydantic import ValidationError

from scrubber.engine import Engine, make_engine
from scrubber.findings import ClaimResult, Report
from scrubber.inputs import discover, read_file
from scrubber.model import Claim, ParseIssue
from scrubber.pipeline import Scrubber
from scrubber.profiles import ProfileSet, load_profiles
from scrubber.rules import RuleSpec, load_rules
from scrubber.rules.select import select_rules

# durable_rules keeps rulesets in process-global C state: build each rule selection's engine once.
_ENGINES: dict[tuple[str, tuple[str, ...]], Engine] = {}


def get_engine(rules: Sequence[RuleSpec], engine: str = "durable") -> Engine:
    key = (engine, tuple(sorted(f"{rule.file}:{rule.id}" for rule in rules)))
    if key not in _ENGINES:
        _ENGINES[key] = make_engine(rules, engine)
    return _ENGINES[key]


def build_scrubber(
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    rulesets: Iterable[str | Path] | None = None,
    profiles: Iterable[str | Path] | None = None,
    engine: str = "durable",
) -> Scrubber:
    """Rules (bundled, or ``rulesets`` added to them) filtered by select/ignore, with payer profiles."""
    all_rules = load_rules(rulesets, include_bundled=True) if rulesets else load_rules()
    rules = select_rules(all_rules, select, ignore)
    return assemble_scrubber(all_rules, rules, load_profiles(profiles), engine, ignore)


def assemble_scrubber(
    all_rules: Sequence[RuleSpec],
    rules: Sequence[RuleSpec],
    profile_set: ProfileSet,
    engine: str = "durable",
    ignore: Iterable[str] | None = None,
    severity: dict[str, str] | None = None,
) -> Scrubber:
    """A Scrubber over the selected ``rules`` plus the opt-in rules that some payer profile enables."""
    chosen = {rule.id for rule in rules}
    # Opt-in rules a profile enables run in the engine too, but only count for that profile's claims.
    profile_only = [
        rule
        for rule in all_rules
        if rule.id not in chosen
        and any(rule.id in profile.enable for profile in profile_set.profiles)
        and select_rules([rule], None, ignore, include_opt_in=True)
    ]
    active = [*rules, *profile_only]
    return Scrubber(
        active,
        get_engine(active, engine),
        profiles=profile_set,
        profile_only=[rule.id for rule in profile_only],
        severity=severity,
    )


def read(path: str | Path) -> Iterator[Claim | ParseIssue]:
    """Every claim in one file (and a ParseIssue for whatever could not be read)."""
    return read_file(path)


def _claims_from(items: Iterable[Any]) -> Iterator[Claim | ParseIssue]:
    for position, item in enumerate(items):
        if isinstance(item, (Claim, ParseIssue)):
            yield item
            continue
        try:
            yield Claim.model_validate(item)
        except ValidationError as error:
            problem = error.errors()[0]
            pointer = "/" + "/".join(str(part) for part in (position, *problem["loc"]))
            claim_id = item.get("claim_id") if isinstance(item, dict) else None
            yield ParseIssue(
                location=pointer, claim_id=claim_id, unreadable_claim=True, message=f"{pointer}: {problem['msg']}"
            )


def scrub(
    source: str | Path | Iterable[Claim | dict[str, Any]],
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    rulesets: Iterable[str | Path] | None = None,
    profiles: Iterable[str | Path] | None = None,
    engine: str = "durable",
) -> Report:
    """Scrub a file, a directory, or claims (``Claim`` models or dicts in the Claim schema)."""
    scrubber = build_scrubber(select=select, ignore=ignore, rulesets=rulesets, profiles=profiles, engine=engine)
    if isinstance(source, (str, Path)):
        files, problems = discover([source])
        events: list[ClaimResult | ParseIssue] = list(problems)
        for file in files:
            events.extend(scrubber.run(read_file(file)))
        return Report.collect(events, files=len(files))
    return Report.collect(scrubber.run(_claims_from(source)))
