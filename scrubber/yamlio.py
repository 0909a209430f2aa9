"""YAML loading with libyaml's C parser when PyYAML has it (5-10x faster on the rule files at start-up)."""

from __future__ import annotations

from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """Like ``yaml.safe_load``: plain data only, never arbitrary objects."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader, C or pure Python
