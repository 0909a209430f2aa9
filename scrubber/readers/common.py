"""What the readers share: opening a file, and (JSON, CSV, FHIR) pydantic errors as JSON pointers, one-line messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from scrubber.model import ParseIssue

MAX_PROBLEMS_SHOWN = 3


def read_opened(path: str | Path, read: Callable[..., Iterator[Any]], *args: Any) -> Iterator[Any]:
    """What ``read(stream, str(path), *args)`` yields for the file at ``path``, which is closed after; a file
    that cannot be opened becomes one ParseIssue (the body of every reader's ``read_path``)."""
    name = str(path)
    try:
        stream = open(path, "rb")
    except OSError as error:
        yield ParseIssue(file=name, message=f"cannot open file: {error.strerror or error}")
        return
    with stream:
        yield from read(stream, name, *args)


def pointer(parts: Iterable[Any], prefix: str = "") -> str:
    """A JSON pointer (RFC 6901) from path parts: ``("lines", 0, "charge")`` -> ``/lines/0/charge``."""
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in parts)
    return prefix + "".join("/" + part for part in escaped)


def validation_problems(error: Any, prefix: str = "") -> list[tuple[str, str]]:
    """``(pointer, message)`` for every problem a pydantic ``ValidationError`` holds."""
    problems = []
    for problem in error.errors():
        # Union members and function validators add their own names to the location: drop them.
        loc = [part for part in problem["loc"] if isinstance(part, int) or not _is_validator_tag(part)]
        problems.append((pointer(loc, prefix) or prefix or "/", problem["msg"]))
    return problems


def _is_validator_tag(part: Any) -> bool:
    text = str(part)
    return text.startswith(("function-", "tagged-union[", "union[")) or "[" in text and text.endswith("]")


def summarize(problems: list[tuple[str, str]]) -> str:
    """``/lines/0/charge: Input should be a valid decimal (and 2 more: /payer: ..., ...)``."""
    shown = [f"{where}: {message}" for where, message in problems[:MAX_PROBLEMS_SHOWN]]
    text = shown[0] if shown else "invalid"
    if len(shown) > 1:
        text += "; " + "; ".join(shown[1:])
    hidden = len(problems) - len(shown)
    if hidden > 0:
        text += f"; and {hidden} more"
    return text


def claim_id_of(record: Any, key: str = "claim_id") -> str | None:
    """The claim id of a raw record when it has a usable one (so an unreadable claim can be named)."""
    if isinstance(record, dict):
        value = record.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value)
    return None
