"""Every format is registered, and each reporter module renders a report collected by the library."""

from __future__ import annotations

import importlib
import io
import json

import pytest
import xmlschema

import scrubber
from scrubber.reporters import FORMATS, get_reporter, make_reporter
from scrubber.rules import load_rules

from conftest import MIXED_BATCH, ROOT


def test_all_formats_are_registered():
    assert FORMATS == ("text", "json", "jsonl", "sarif", "junit", "github")
    for name in FORMATS:
        assert get_reporter(name).__module__ == f"scrubber.reporters.{name}"
    with pytest.raises(ValueError):
        get_reporter("xml")


def test_only_sarif_is_given_the_rules():
    rules = load_rules()[:2]
    sarif = make_reporter("sarif", io.StringIO(), rules=rules)
    assert [r.id for r in sarif.rules] == [r.id for r in rules]
    assert type(make_reporter("junit", io.StringIO(), rules=rules)).__name__ == "JunitReporter"


@pytest.fixture(scope="module")
def report():
    return scrubber.scrub(str(MIXED_BATCH))


@pytest.mark.parametrize("name", FORMATS)
def test_render(name, report):
    text = importlib.import_module(f"scrubber.reporters.{name}").render(report)
    assert "A1" in text and "B2" in text
    if name == "json":
        assert json.loads(text)["summary"]["claims"] == 3
    elif name == "jsonl":
        assert [json.loads(line)["type"] for line in text.splitlines()] == ["claim"] * 3 + ["error", "summary"]
    elif name == "junit":
        xmlschema.XMLSchema(str(ROOT / "tests" / "schemas" / "junit-10.xsd")).validate(text)
    elif name == "github":
        assert text.startswith("::error ") and "claim-scrubber: 1 file(s), 3 claim(s)" in text
