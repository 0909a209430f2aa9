"""claim-scrubber: catch US healthcare claim denials before the claim is submitted.

The library, as the command line sees it::

    scrub(source, *, format="auto", mapping=None, options=None, select=None, ignore=None, rulesets=None,
          profiles=None, severity=None, engine=None) -> Report
    read(source, *, format="auto", mapping=None) -> Iterator[Claim | ParseIssue]

The options that decide the findings (``select`` ... ``engine``) can also come as one frozen
``ScrubOptions`` (``options=``), the record the command line, the service and ``scrubber.arrow`` pass along.

``source`` is a file (X12 837P, JSON, JSON Lines, CSV or FHIR, told by content), a directory, or an
iterable of ``Claim`` models or dicts (CSV rows with ``format="csv"``, FHIR resources with
``format="fhir"``). A ``Report`` holds a ``ClaimResult`` per claim (clean, flagged or unreadable) with
its ``Finding``s, and the ``ParseIssue``s of the input apart from them:

>>> import scrubber
>>> report = scrubber.scrub("fixtures/jsonl/cross-format.jsonl")
>>> [(result.claim_id, result.status) for result in report.results]
[('XF-111', 'flagged'), ('XF-21', 'flagged'), ('XF-23', 'flagged'), ('XF-OK', 'clean')]
>>> sorted({finding.carc for finding in report.findings} & {"CO-111", "CO-21", "CO-23"})
['CO-111', 'CO-21', 'CO-23']
>>> report.exit_code(fail_on="error")
1
>>> import json; json.loads(report.to_json())["summary"]["claims"]
4
"""

from typing import TYPE_CHECKING, Any

__all__ = ["INPUT_FORMATS", "Claim", "ClaimResult", "Finding", "ParseIssue", "Report", "ScrubOptions", "read", "scrub"]
__version__ = "0.1.0"

# Imported on first use (PEP 562), so `scrubber --version` and the CLI's start-up pay only for what
# they touch: pydantic models and rule loading cost a few hundred milliseconds.
_LAZY = {
    "read": "scrubber.api",
    "scrub": "scrubber.api",
    "ClaimResult": "scrubber.findings",
    "Finding": "scrubber.findings",
    "Report": "scrubber.findings",
    "INPUT_FORMATS": "scrubber.inputs",
    "Claim": "scrubber.model",
    "ParseIssue": "scrubber.model",
    "ScrubOptions": "scrubber.options",
}

if TYPE_CHECKING:
    from scrubber.api import read, scrub
    from scrubber.findings import ClaimResult, Finding, Report
    from scrubber.inputs import INPUT_FORMATS
    from scrubber.model import Claim, ParseIssue
    from scrubber.options import ScrubOptions


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'scrubber' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
