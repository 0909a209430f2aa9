"""Rule engines: every engine takes RuleSpecs and answers which rule matched which fact.

Only ``durable.py`` imports durable_rules. ``python.py`` is the reference evaluator; a property test
proves both give the same hits.
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping, Protocol, Sequence

from scrubber.rules.spec import RuleSpec

Hit = tuple[str, str]  # (rule id, fact id)
ENGINES = ("durable", "python")


class Engine(Protocol):
    name: str

    def evaluate(self, facts: Sequence[dict[str, Any]]) -> list[Hit]:
        """Every (rule, fact) pair that matches; each pair exactly once. Fact ids must be unique."""
        ...


class EngineUnavailable(RuntimeError):
    pass


def make_engine(rules: Sequence[RuleSpec], name: str = "durable", tables: Mapping[str, Any] | None = None) -> Engine:
    """Build the named engine; fall back to the Python engine (with a warning) if durable_rules won't import.

    ``tables``: the reference tables (``scrubber.tables``) the rules' table edits read, by name."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    if name == "durable":
        try:
            from scrubber.engine.durable import DurableEngine
        except EngineUnavailable as error:
            warnings.warn(f"{error}; using the Python engine instead", RuntimeWarning, stacklevel=2)
        else:
            return DurableEngine(rules, tables)
    from scrubber.engine.python import PythonEngine

    return PythonEngine(rules, tables)
