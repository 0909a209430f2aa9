"""Turn a Claim into the flat facts the rule engines see: one claim fact plus one fact per service line.

Everything a rule needs that is not a plain comparison is computed here, once, in Python: code-set
membership, counts, "any other payer is an auto carrier", money as integer cents. Facts hold only
strings, integers and booleans (never floats, never Decimal strings: durable_rules compares
``"939.41" > 2500`` as text). A fact whose value is unknown is left out, and every comparison on a
missing fact is false in both engines.

Line facts carry a copy of the claim fact (durable_rules joins are unsafe), with their own keys
prefixed ``line_``. Fact names are validated against ``FACTS`` when a rule loads, so a typo in a
rule file is an error, not a rule that never fires.

Facts come from providers, one module per theme, each with ``SPECS``, ``add_claim_facts(claim,
context, fact)`` and ``add_line_facts(claim, line, context, fact)``. To add a theme, write a module
and list it in ``PROVIDERS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from scrubber.facts import behavioral, core, integrity, model_facts, structural, timely
from scrubber.facts.spec import SECONDARY_SEQUENCES, ClaimContext, FactSpec, cents
from scrubber.model import Claim

if TYPE_CHECKING:
    from scrubber.profiles import PayerProfile

PROVIDERS = (core, structural, behavioral, timely, integrity)

TABLE_EDIT = "(table edit)"  # the element of the facts a table edit writes for its message
# What a table edit (``pair_edit``, ``unit_limit``, ``addon_without_primary``) found, written into the line
# fact when it matches: for messages only; no rule can test them (``rules.table_edits``).
TABLE_SPECS = [
    FactSpec("table.pair_edit", str, "line", "what a pair_edit found: the pair, its modifier indicator and the table row it came from", TABLE_EDIT, "text"),
    FactSpec("table.unit_limit", str, "line", "what a unit_limit found: the units billed, the limit, its indicator and the table row", TABLE_EDIT, "text"),
    FactSpec("table.addon_without_primary", str, "line", "what an addon_without_primary found: the add-on code, its primary codes and the table row", TABLE_EDIT, "text"),
]

FACTS: dict[str, FactSpec] = {}
for _spec in [*model_facts.SPECS, *(spec for provider in PROVIDERS for spec in provider.SPECS), *TABLE_SPECS]:
    if _spec.name in FACTS:
        raise RuntimeError(f"fact {_spec.name!r} is defined twice")
    FACTS[_spec.name] = _spec
MODEL_FACTS = model_facts.GENERATED  # named from the model; the rest are derived in Python
_ALL_MODEL_FACTS = model_facts.ModelFacts()


def claim_facts(
    claim: Claim, key: str, profile: "PayerProfile | None" = None, model: model_facts.ModelFacts | None = None
) -> list[dict[str, Any]]:
    """The claim fact (id ``key``) followed by one fact per line (id ``key.n``, n = position),
    under the claim's payer ``profile`` (filing limit, prior-auth requirement).

    ``model`` extracts the model facts a rule set reads (``model_facts.ModelFacts(needed)``); all by default."""
    model = model or _ALL_MODEL_FACTS
    context = ClaimContext(claim, profile)
    header: dict[str, Any] = {"id": key, "kind": "claim"}
    model.add_claim_facts(claim, header)
    for provider in PROVIDERS:
        provider.add_claim_facts(claim, context, header)
    facts = [header]
    for position, line in enumerate(claim.lines):
        fact = dict(header)
        fact["id"] = f"{key}.{position}"
        fact["kind"] = "line"
        model.add_line_facts(claim, line, fact)
        for provider in PROVIDERS:
            provider.add_line_facts(claim, line, context, fact)
        facts.append(fact)
    return facts


def describe() -> Iterable[FactSpec]:
    return iter(FACTS.values())


NOT_X12 = frozenset({"-", "(payer profile)", TABLE_EDIT})  # facts that come from no element


def element_labels(spec: FactSpec) -> list[str]:
    """The X12 elements a fact comes from, as the element map labels them (``2300 CLM07``).

    A fact's ``element`` lists references separated by `` / ``; each must name an element or segment of the
    map (``tests/test_facts_elements.py`` holds every fact to that)."""
    from scrubber.x12map import element_map

    found = element_map("837p")
    return [ref if ref in NOT_X12 else found.describe(ref) for ref in spec.element.split(" / ")]


__all__ = ["FACTS", "PROVIDERS", "SECONDARY_SEQUENCES", "ClaimContext", "FactSpec", "cents", "claim_facts", "describe", "element_labels"]
