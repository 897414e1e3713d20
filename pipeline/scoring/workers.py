"""Scoring chunks on every core: worker processes score, the caller writes, in input order.

``stance score`` reads chunks and writes the output and its checkpoint in one process;
only the model's ``predict`` moves to worker processes, so output order, checkpoints and
``--resume`` are the same whatever the number of workers. At most ``2 * workers`` chunks
are in flight, so memory stays bounded. Workers are forked only once the input has shown
it is bigger than a few chunks, and ignore Ctrl-C (the parent stops them).

Forked, not spawned: a fork shares the loaded model and the code that was imported
(a logged MLflow model puts its own copy of ``pipeline`` first on ``sys.path``, so a
spawned worker would import that copy, which may predate this module). A model whose
runtime keeps threads (ONNX Runtime, torch) is not safe to use across a fork, so for
those ``load`` builds a fresh one in each worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import pandas as pd

from pipeline.errors import ModelError
from pipeline.scoring.model import Predictor

log = logging.getLogger(__name__)

CHUNKS_BEFORE_WORKERS = 4  # chunks scored in-process first: a small input never pays for starting workers
IN_FLIGHT_PER_WORKER = 2


ScoreChunk = Callable[[pd.DataFrame, Predictor], pd.DataFrame]  # (chunk, predictor) -> scored chunk


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def uses_threads(predictor: object) -> bool:
    """Whether the model runs on a runtime with threads of its own (ONNX Runtime, torch):
    the transformer kinds. Unknown predictors count as such (the safe side)."""
    from pipeline.classifiers import registry

    classifier = registry.served(predictor)
    return True if classifier is None else registry.of(registry.innermost(classifier)).torch


def default_workers(predictor: object) -> int:
    """Every core for models that score on one core (``tfidf_logreg``); one process for the
    transformer kinds, whose runtime already uses every core through intra-op threads
    (measured: docs/scoring.md, "Workers")."""
    return 1 if uses_threads(predictor) else available_cores()


# -- in a worker process -----------------------------------------------------------------
_worker: dict[str, object] = {}  # this worker process's model and scoring function (set once, at start)


def _start_worker(predictor: Predictor, load: Callable[[], Predictor] | None, score: ScoreChunk) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    _worker["predictor"] = load() if load is not None else predictor
    _worker["score"] = score


def _score_in_worker(chunk: pd.DataFrame) -> pd.DataFrame:
    return _worker["score"](chunk, _worker["predictor"])  # type: ignore[operator]


# -- in the caller -----------------------------------------------------------------------
@dataclass
class ChunkScorer:
    """Scores numbered chunks with ``score(chunk, predictor)``, in order: in this process,
    or, with ``workers > 1``, in forked worker processes once ``CHUNKS_BEFORE_WORKERS``
    chunks are done. Workers use the inherited ``predictor``, or call ``load`` for a fresh
    one (models with threads of their own)."""

    predictor: Predictor
    score: ScoreChunk
    workers: int = 1
    load: Callable[[], Predictor] | None = None

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, not {self.workers}")

    def map(self, chunks: Iterable[tuple[int, pd.DataFrame]]) -> Iterator[tuple[int, pd.DataFrame]]:
        """``(number, scored chunk)`` for each ``(number, chunk)``, in the order given."""
        items = iter(chunks)
        local = self.workers == 1
        done = 0
        for number, chunk in items:
            yield number, self.score(chunk, self.predictor)
            done += 1
            if not local and done >= CHUNKS_BEFORE_WORKERS:
                break
        else:
            return
        yield from self._in_workers(items)

    def _in_workers(self, items: Iterator[tuple[int, pd.DataFrame]]) -> Iterator[tuple[int, pd.DataFrame]]:
        log.info("scoring in %d worker processes", self.workers)
        pool = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(self.predictor, self.load, self.score),
        )
        in_flight: deque[tuple[int, Future[pd.DataFrame]]] = deque()
        try:
            for number, chunk in items:
                in_flight.append((number, pool.submit(_score_in_worker, chunk)))
                if len(in_flight) >= IN_FLIGHT_PER_WORKER * self.workers:
                    yield self._next(in_flight)
            while in_flight:
                yield self._next(in_flight)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _next(in_flight: deque[tuple[int, Future[pd.DataFrame]]]) -> tuple[int, pd.DataFrame]:
        number, future = in_flight.popleft()
        try:
            return number, future.result()
        except BrokenProcessPool as exc:
            raise ModelError(f"a scoring worker process died ({exc}); rerun with --workers 1 to see why") from None
