"""What a denial signature (group + CARC) means for the practice, from ``denials.yaml``."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from scrubber.yamlio import load_yaml


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    return load_yaml(resources.files(__package__).joinpath("denials.yaml").read_text(encoding="utf-8"))


def describe(signature: str) -> dict[str, Any] | None:
    """``CO-111`` → title, meaning, correction, seed, and the group's who_pays/action/patient_billable/appeal.

    Unknown codes give None: never guess what a code means.
    """
    group, _, reason = signature.upper().partition("-")
    entry = _document()["codes"].get(reason)
    if entry is None:
        return None
    result = {key: value for key, value in entry.items() if key != "groups"}
    result["group"] = group
    result["reason"] = reason
    result.update(entry.get("groups", {}).get(group, {}))
    return result


def source() -> str:
    return _document()["source"]
