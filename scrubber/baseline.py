"""Baselines: record today's findings, then report only new ones.

A finding is identified by its claim id and rule (not by file, segment or order, so re-sorting or
re-batching claims does not resurface old findings). The file stores a hash of each key, never
the claim id itself: claim ids are patient identifiers and a baseline is meant to be committed.
Findings repeated on one claim (a rule on two lines) are counted, so a third occurrence is new.

Keys. With ``$SCRUBBER_REDACT_KEY`` set (the ``--redact`` key), each key is HMAC-SHA256(key, claim id +
rule): without the key nobody can test a guessed claim id against the file. Without it the key is a plain
SHA-256, which anyone can recompute: claim ids are short and often sequential, so every claim id of a
plain baseline is recovered by trying them all (seconds for 7 digits), and with it which rules each of
those claims broke. The file says which it is (``"keyed"``) and, when keyed, carries a check value of
the key (an HMAC of a fixed text, which reveals nothing of the key), so a baseline read with another key,
or with none, is an error rather than a run in which every finding looks new. A plain baseline (and one
written before keys existed: version 1) is still read, with or without a key set; when a key is set a
warning says to rewrite it (``--write-baseline``), since the plain file keeps leaking while it is committed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from scrubber.errors import ScrubberUserError
from scrubber.findings import ClaimResult, Finding

VERSION = 2
READABLE_VERSIONS = (1, 2)
KEY_ENV = "SCRUBBER_REDACT_KEY"
_KEY_CHECK_TEXT = b"claim-scrubber baseline key check"


def _key_bytes(key: bytes | str | None) -> bytes | None:
    if isinstance(key, str):
        key = key.encode("utf-8")
    return key or None


def key_from_env(environ: Mapping[str, str] = os.environ) -> bytes | None:
    return _key_bytes(environ.get(KEY_ENV) or None)


def key_check(key: bytes) -> str:
    return hmac.new(key, _KEY_CHECK_TEXT, hashlib.sha256).hexdigest()[:16]


def finding_key(claim_id: str | None, finding: Finding, key: bytes | None = None) -> str:
    text = f"{claim_id or ''}\x1f{finding.rule}".encode()
    if key:
        return hmac.new(key, text, hashlib.sha256).hexdigest()[:24]
    return hashlib.sha256(text).hexdigest()[:24]


class BaselineError(ScrubberUserError):
    pass


def _validated(path: str | Path, document: Any) -> tuple[Counter[str], bool, str | None]:
    """The counts, whether the file is keyed and its key check, or a BaselineError naming the file and entry."""
    if not isinstance(document, dict):
        raise BaselineError(f"{path}: not a scrubber baseline (a JSON object is expected, not {type(document).__name__})")
    version = document.get("version")
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise BaselineError(f"{path}: not a scrubber baseline (version {version!r})")
    if "findings" not in document:
        raise BaselineError(f"{path}: not a scrubber baseline (no \"findings\")")
    findings = document["findings"]
    if not isinstance(findings, dict):
        raise BaselineError(f"{path}: \"findings\" must be an object of hash: count, not {type(findings).__name__}")
    for entry, count in findings.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise BaselineError(f"{path}: findings entry {entry!r}: the count must be a whole number of at least 1, not {count!r}")
    keyed = document.get("keyed", False)
    if not isinstance(keyed, bool):
        raise BaselineError(f"{path}: \"keyed\" must be true or false, not {keyed!r}")
    check = document.get("key_check")
    if keyed and not isinstance(check, str):
        raise BaselineError(f"{path}: a keyed baseline needs \"key_check\" (a string), not {check!r}")
    return Counter(findings), keyed, check


class Baseline:
    def __init__(self, counts: Counter[str], key: bytes | None = None):
        self._remaining = Counter(counts)
        self.key = key
        self.suppressed = 0  # findings dropped by ``filter`` so far (the summary's "suppressed by the baseline")

    @classmethod
    def load(cls, path: str | Path, key: bytes | str | None = None, *, environ: Mapping[str, str] = os.environ) -> "Baseline":
        """Read and validate the whole file first. ``key``: the HMAC key (default ``$SCRUBBER_REDACT_KEY``)."""
        key = _key_bytes(key) if key is not None else key_from_env(environ)
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise BaselineError(f"{path}: cannot read baseline: {error}") from None
        counts, keyed, check = _validated(path, document)
        if keyed:
            if key is None:
                raise BaselineError(f"{path}: the baseline was written with ${KEY_ENV} set; set it to the same key to read it")
            if not hmac.compare_digest(check, key_check(key)):
                raise BaselineError(f"{path}: the baseline was written with another ${KEY_ENV}; set that key, or rewrite it with --write-baseline")
            return cls(counts, key)
        if key is not None:
            print(
                f"scrubber: warning: {path} was written without ${KEY_ENV}: its plain hashes give back the claim ids "
                "to anyone who tries them all; rewrite it with --write-baseline (it will then be keyed)",
                file=sys.stderr,
            )
        return cls(counts, None)

    def filter(self, result: ClaimResult, claim_id: str | None = None) -> ClaimResult:
        """The result without findings already in the baseline (a claim left without any is clean).

        ``claim_id``: the claim id as read, when ``result`` carries a redacted one. The number of findings
        dropped is added to ``suppressed`` (``last_suppressed``: by this call).
        """
        self.last_suppressed = 0
        if not result.findings:
            return result
        kept = []
        for finding in result.findings:
            key = finding_key(claim_id or result.claim_id, finding, self.key)
            if self._remaining[key] > 0:
                self._remaining[key] -= 1
            else:
                kept.append(finding)
        dropped = len(result.findings) - len(kept)
        self.last_suppressed = dropped
        self.suppressed += dropped
        if not dropped:
            return result
        return replace(result, findings=kept, status="flagged" if kept else "clean")

    last_suppressed = 0


class BaselineWriter:
    def __init__(self, key: bytes | str | None = None, *, environ: Mapping[str, str] = os.environ) -> None:
        """``key``: the HMAC key (default ``$SCRUBBER_REDACT_KEY``; none: plain SHA-256, see the module docstring)."""
        self.key = _key_bytes(key) if key is not None else key_from_env(environ)
        self.counts: Counter[str] = Counter()

    def add(self, result: ClaimResult, claim_id: str | None = None) -> None:
        for finding in result.findings:
            self.counts[finding_key(claim_id or result.claim_id, finding, self.key)] += 1

    def write(self, path: str | Path) -> None:
        document: dict[str, Any] = {"version": VERSION, "keyed": self.key is not None}
        if self.key is not None:
            document["key_check"] = key_check(self.key)
        document["findings"] = dict(sorted(self.counts.items()))
        Path(path).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
