"""Ctrl-C and SIGTERM: what an interrupted command kept, and steps that finish first.

A signal becomes ``KeyboardInterrupt`` (SIGTERM too, once the CLI starts), so every
``with`` block unwinds: temp files go, MLflow runs are closed. Short steps that must be
all-or-nothing from the user's point of view (registering a model version with its gate
decision, swapping in a finished report folder) run inside :func:`held`: a signal that
arrives there is held until the step ends, then raised as :class:`Interrupted`, which says
that the step was finished.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A signal that arrived during an all-or-nothing step; the step was completed first."""

    def __init__(self, finished: str) -> None:
        super().__init__(finished)
        self.finished = finished


class Stopped(KeyboardInterrupt):
    """An interrupt, with the line that tells the user what was kept and how to go on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def stage_stopped(stage: str, done: list[str], finished: str | None) -> Stopped:
    """The interrupt of ``stage`` (of ``stance run`` or run alone) after the stages ``done``;
    ``finished``: what an all-or-nothing step completed before giving way."""
    kept = f"{', '.join(done)} finished and kept their outputs (the next `stance run` skips them); " if done else ""
    if finished:
        return Stopped(f"interrupted at the end of {stage}: {kept}{stage} completed first ({finished})")
    return Stopped(
        f"interrupted during {stage}: {kept}{stage} wrote nothing under its final names"
        + (" (no model version registered; reports unchanged)" if stage == "evaluate" else "")
    )


def sigterm_as_interrupt() -> None:
    """Make SIGTERM unwind like Ctrl-C (``kill`` of a run closes its MLflow runs too)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)


def _raise_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextlib.contextmanager
def held(step: str) -> Iterator[None]:
    """Run the block to its end even if SIGINT or SIGTERM arrives; then raise
    :class:`Interrupted` naming ``step`` as finished."""
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    received: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: received.append(signum)) for sig in HELD_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        raise Interrupted(step)
