"""docs/writing-rules.md ends with the generated reference; it must be what the code generates now."""

from __future__ import annotations

from pathlib import Path

from scrubber.rules.reference import MARKER, render_reference

DOC = Path(__file__).resolve().parents[1] / "docs" / "writing-rules.md"


def test_the_generated_reference_is_current():
    text = DOC.read_text(encoding="utf-8")
    assert MARKER in text, "docs/writing-rules.md lost its generated part"
    committed = MARKER + text.split(MARKER, 1)[1]
    assert committed.strip() == render_reference().strip(), (
        "the rule reference is out of date: python -m scrubber.rules.reference docs/writing-rules.md"
    )


def test_the_reference_lists_every_fact_and_operator():
    from scrubber.facts import FACTS
    from scrubber.rules.conditions import FACT_OPERATORS, LINE_FORMS, MEASURES

    reference = render_reference()
    for name in FACTS:
        if name != "kind":
            assert f"`{name}`" in reference, name
    for operator in (*FACT_OPERATORS, *MEASURES, *LINE_FORMS):
        assert operator in reference, operator
