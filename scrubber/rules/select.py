"""Choose rules by id prefix or denial code, as ``--select`` / ``--ignore`` do (ruff-style)."""

from __future__ import annotations

from typing import Iterable, Sequence

from scrubber.rules.spec import RuleSpec


def matches(rule: RuleSpec, selector: str) -> bool:
    """A selector is a rule id (or alias) prefix, a denial code (``CO-111``) or ``ALL``."""
    selector = selector.strip()
    if selector.upper() == "ALL":
        return True
    codes = (rule.carc, *rule.remit_codes, *rule.derived_from)
    if selector.upper() in (code.upper() for code in codes):
        return True
    return any(name.startswith(selector) for name in (rule.id, *rule.aliases))


def select_rules(
    rules: Sequence[RuleSpec],
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    include_deprecated: bool = False,
    include_opt_in: bool = False,
) -> list[RuleSpec]:
    select = [s for s in (select or []) if s.strip()]
    ignore = [s for s in (ignore or []) if s.strip()]
    chosen = []
    for rule in rules:
        if rule.status == "deprecated" and not include_deprecated:
            continue
        if not (rule.default_enabled or include_opt_in) and not any(s in (rule.id, *rule.aliases) for s in select):
            continue  # opt-in rules run only when named exactly (or enabled by a payer profile)
        if select and not any(matches(rule, selector) for selector in select):
            continue
        if any(matches(rule, selector) for selector in ignore):
            continue
        chosen.append(rule)
    return chosen


def unknown_selectors(rules: Sequence[RuleSpec], selectors: Iterable[str]) -> list[str]:
    """Selectors that match no rule at all: almost always a typo worth an error."""
    return [s for s in selectors if s.strip() and not any(matches(rule, s) for rule in rules)]
