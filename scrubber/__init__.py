"""claim-scrubber: catch US healthcare claim denials before the claim is submitted.

    import scrubber
    report = scrubber.scrub("batch.837")
    for finding in report.findings: ...
"""

from scrubber.api import read, scrub
from scrubber.findings import ClaimResult, Finding, Report
from scrubber.model import Claim, ParseIssue

__all__ = ["Claim", "ClaimResult", "Finding", "ParseIssue", "Report", "read", "scrub"]
__version__ = "0.1.0"
