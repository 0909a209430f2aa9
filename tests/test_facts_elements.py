"""Every fact names the X12 elements it comes from as the element map knows them."""

from __future__ import annotations

import pytest

from scrubber.facts import NOT_X12, describe, element_labels
from scrubber.x12map import UnknownElement, element_map


@pytest.mark.parametrize("spec", list(describe()), ids=lambda spec: spec.name)
def test_fact_elements_resolve_in_the_map(spec):
    labels = element_labels(spec)  # raises UnknownElement for a reference the map does not know
    assert labels and all(label in NOT_X12 or label.split()[0][:1].isalnum() for label in labels)


def test_a_fact_element_the_map_does_not_know_is_refused():
    with pytest.raises(UnknownElement):
        element_map("837p").describe("CLM99")
    with pytest.raises(UnknownElement, match="ambiguous"):
        element_map("837p").describe("NM109")


def test_grep_for_an_element_lands_on_the_map_row():
    row = element_map("837p").resolve("CLM07")
    assert (row.loop, row.segment, row.field) == ("2300", "CLM", "assignment")
    assert row.label == "2300 CLM07"
