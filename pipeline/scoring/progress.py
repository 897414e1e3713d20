"""The rich progress bar of ``stance score``: rows done, rows/s, and % when the total is known."""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator


@contextlib.contextmanager
def scoring_progress(label: str = "scoring") -> Iterator[Callable[[int, int | None], None]]:
    """Yield ``update(rows_done, total_rows)`` driving a transient rich bar on stderr.

    The rate counts only rows done in this process, so a resumed run shows its own speed.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn(label),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,} rows"),
        TextColumn("{task.fields[rate]} rows/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None, rate="-")
        started = time.perf_counter()
        first: list[int] = []

        def update(done: int, total: int | None) -> None:
            if not first:
                first.append(done)
            elapsed = time.perf_counter() - started
            rate = f"{(done - first[0]) / elapsed:,.0f}" if elapsed > 0 and done > first[0] else "-"
            bar.update(task, completed=done, total=total, rate=rate)

        yield update
