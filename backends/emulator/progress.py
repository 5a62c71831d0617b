"""A progress bar for the emulator's loops (rich), or nothing."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator


@contextmanager
def progress_bar(enabled: bool, total: int, label: str) -> Iterator[Any]:
    """Yield ``advance(n)``; a transient rich progress bar when ``enabled``."""
    if not enabled:
        yield lambda n: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
