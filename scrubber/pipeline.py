"""Claims in, results out: facts → engine → findings, in batches, in input order."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

from scrubber.engine import Engine
from scrubber.facts import claim_facts
from scrubber.findings import ClaimResult, Finding, locate
from scrubber.model import Claim, ParseIssue
from scrubber.profiles import ProfileSet
from scrubber.facts.model_facts import ModelFacts
from scrubber.rules.spec import RuleSpec, _placeholders, render

BATCH_SIZE = 256


class Scrubber:
    """Rules plus an engine; ``run`` turns a stream of ``Claim | ParseIssue`` into results.

    With payer ``profiles``, each claim's profile may disable rules, change their severity, and
    enable rules listed in ``profile_only`` (opt-in rules that run only for the profiles naming them).
    """

    def __init__(
        self,
        rules: Sequence[RuleSpec],
        engine: Engine,
        batch_size: int = BATCH_SIZE,
        profiles: ProfileSet | None = None,
        profile_only: Iterable[str] = (),
        severity: dict[str, str] | None = None,
        tables: Mapping[str, Any] | None = None,
    ):
        self.rules = {rule.id: rule for rule in rules}
        self.tables = dict(tables or {})  # the reference tables the engine's table edits read, by name
        needed: set[str] = set()
        for rule in rules:
            needed |= rule.facts | set(_placeholders(rule.message)) | set(_placeholders(rule.fix))
        self.model_facts = ModelFacts(frozenset(needed))
        self.engine = engine
        self.batch_size = batch_size
        self.profiles = profiles
        self.profile_only = frozenset(profile_only)
        self.severity = dict(severity or {})  # configured per-rule severities; a payer profile's win

    def run(self, items: Iterable[Claim | ParseIssue]) -> Iterator[ClaimResult | ParseIssue]:
        """Yield a ClaimResult for every claim (readable or not), in input order, plus every ParseIssue."""
        pending: list[Claim | ParseIssue] = []
        claims = 0
        for item in items:
            pending.append(item)
            if isinstance(item, Claim):
                claims += 1
                if claims == self.batch_size:
                    yield from self._flush(pending)
                    pending, claims = [], 0
        yield from self._flush(pending)

    def check(self, claims: Sequence[Claim]) -> list[list[Finding]]:
        """Findings for each claim, in order."""
        return [findings for findings, _ in self.check_with_profiles(claims)]

    def check_with_profiles(self, claims: Sequence[Claim]) -> list[tuple[list[Finding], str | None]]:
        """Findings for each claim, in order, each with the id of the payer profile the claim matched."""
        profiles = [self.profiles.for_claim(claim) if self.profiles is not None else None for claim in claims]
        facts = []
        for position, (claim, profile) in enumerate(zip(claims, profiles)):
            facts.extend(claim_facts(claim, str(position), profile, self.model_facts))
        by_claim: list[list[tuple[str, str]]] = [[] for _ in claims]
        for rule_id, fact_id in self.engine.evaluate(facts):
            claim_key, _, line_key = fact_id.partition(".")
            by_claim[int(claim_key)].append((rule_id, line_key))
        facts_by_id = {fact["id"]: fact for fact in facts}
        results = []
        for position, (claim, hits, profile) in enumerate(zip(claims, by_claim, profiles)):
            findings = []
            for rule_id, line_key in hits:
                severity = self._severity_under(profile, rule_id)
                if severity is None:
                    continue
                fact = facts_by_id[f"{position}.{line_key}" if line_key else str(position)]
                findings.append(self._finding(claim, rule_id, line_key, fact, severity))
            findings.sort(key=_finding_order)
            results.append((findings, profile.id if profile is not None else None))
        return results

    def tables_in_use(self) -> list[dict[str, Any]]:
        """The reference tables of this run, for the report's summary (so a result can be reproduced)."""
        return table_descriptions(self.tables)

    def _flush(self, pending: list[Claim | ParseIssue]) -> Iterator[ClaimResult | ParseIssue]:
        claims = [item for item in pending if isinstance(item, Claim)]
        checked = iter(self.check_with_profiles(claims)) if claims else iter(())
        for item in pending:
            if isinstance(item, Claim):
                findings, profile = next(checked)
                yield ClaimResult.for_claim(item, findings, profile)
            else:
                if item.unreadable_claim:
                    yield ClaimResult.unreadable(item)
                yield item

    def _severity_under(self, profile, rule_id: str) -> str | None:
        """The finding's severity under the claim's payer profile, or None when the profile drops it."""
        default = self.severity.get(rule_id, self.rules[rule_id].severity)
        if profile is None:
            return None if rule_id in self.profile_only else default
        if rule_id in profile.disable or (rule_id in self.profile_only and rule_id not in profile.enable):
            return None
        return profile.severity.get(rule_id, default)

    def _finding(self, claim: Claim, rule_id: str, line_key: str, fact: dict, severity: str) -> Finding:
        rule = self.rules[rule_id]
        line = claim.lines[int(line_key)] if line_key else None
        where_row = rule.element_row
        where = locate(claim, line, where_row)
        return Finding(
            rule=rule.id,
            name=rule.name,
            carc=rule.carc,
            rarc=tuple(rule.rarc),
            remit_codes=tuple(rule.remit_codes),
            severity=severity,
            line=line.number if line is not None else None,
            element=where_row.name,
            segment=where.segment,
            message=render(rule.message, fact),
            fix=render(rule.fix, fact),
            sources=tuple(rule.sources),
            loop=where.loop,
            segment_id=where.segment_id,
            present=where.present,
            position=where.position,
            component=where.component,
            pointer=where.pointer,
        )


_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _finding_order(finding: Finding) -> tuple:
    return (finding.line or 0, _SEVERITY_ORDER.get(finding.severity, 3), finding.rule)


def table_descriptions(tables: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each table's name, version, source and row count."""
    return [
        {"name": name, "version": table.version, "source": table.source, "rows": table.rows}
        for name, table in sorted(tables.items())
    ]
