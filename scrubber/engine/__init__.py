"""Rule engines: every engine takes RuleSpecs and answers which rule matched which fact.

Only ``durable.py`` imports durable_rules. ``python.py`` is the reference evaluator; a property test
proves both give the same hits.
"""

from __future__ import annotations

import platform
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


class EngineFallbackWarning(RuntimeWarning):
    """durable_rules could not be loaded, so the Python engine (same hits) runs instead. The CLI prints it
    as one ``scrubber: warning: ...`` line."""


def durable_unavailable() -> str | None:
    """Why durable_rules cannot be used on this Python, in one line without paths; None when it can."""
    try:
        import scrubber.engine.durable  # noqa: F401
    except EngineUnavailable:
        return f"durable_rules is not available on this Python ({platform.python_implementation()} {platform.python_version()})"
    return None


def make_engine(
    rules: Sequence[RuleSpec], name: str = "durable", tables: Mapping[str, Any] | None = None, *, strict: bool = False
) -> Engine:
    """Build the named engine; fall back to the Python engine (with an ``EngineFallbackWarning``) if
    durable_rules won't import, or, with ``strict``, raise ``EngineUnavailable``.

    ``tables``: the reference tables (``scrubber.tables``) the rules' table edits read, by name."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    if name == "durable":
        why = durable_unavailable()
        if why is None:
            from scrubber.engine.durable import DurableEngine

            return DurableEngine(rules, tables)
        if strict:
            raise EngineUnavailable(why)
        warnings.warn(f"{why}; using the Python engine", EngineFallbackWarning, stacklevel=2)
    from scrubber.engine.python import PythonEngine

    return PythonEngine(rules, tables)
