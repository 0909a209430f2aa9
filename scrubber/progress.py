"""A progress display on stderr for long batches: only when stderr is a terminal (never in CI logs)."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from typing import Any


class NoProgress(AbstractContextManager):
    def file_started(self, name: str) -> None:
        pass

    def claim_done(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        return None


class RichProgress(AbstractContextManager):
    """Files done out of files found, claims so far, elapsed time (rich is imported only here)."""

    def __init__(self, files: int):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from rich.console import Console

        self._progress = Progress(
            TextColumn("[bold]scrubbing[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files · {task.fields[claims]} claims · {task.fields[file]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("scrub", total=files, claims=0, file="")
        self._claims = 0
        self._started = False

    def __enter__(self) -> "RichProgress":
        self._progress.start()
        return self

    def file_started(self, name: str) -> None:
        if self._started:
            self._progress.advance(self._task)
        self._started = True
        self._progress.update(self._task, file=name[-40:])

    def claim_done(self) -> None:
        self._claims += 1
        if self._claims % 500 == 0:
            self._progress.update(self._task, claims=self._claims)

    def __exit__(self, *exc: Any) -> None:
        self._progress.stop()


def progress_for(files: int, enabled: bool, stream: Any = None) -> NoProgress | RichProgress:
    stream = stream or sys.stderr
    if not enabled or not stream.isatty():
        return NoProgress()
    try:
        return RichProgress(files)
    except ImportError:  # rich is a dependency, but a trimmed install still works without a bar
        return NoProgress()
