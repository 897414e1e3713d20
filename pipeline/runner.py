"""The stage runner: ``stance ingest | label | train | evaluate`` run one stage, ``stance
run`` all four in order under one parent run, each as a nested child run.

For each stage (:data:`pipeline.stages.SPECS`) the runner fingerprints its settings and
inputs, reuses an earlier run that still stands (:mod:`pipeline.stage_cache`) or checks its
input files and runs it, and logs what it returned (:class:`StageResult`) the same way in
both cases. The corpus (:mod:`pipeline.corpus`) is chosen once and shared by every stage of
the run, so gold sets are read once. The tracker defaults to MLflow; a
:class:`~pipeline.tracking.NullTracker` runs the stages with no store.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Iterator

from pipeline import stage_cache, stages
from pipeline.config import Config
from pipeline.corpus import Corpus, corpus_for
from pipeline.errors import ConfigError
from pipeline.stage_paths import StagePaths
from pipeline.stage_spec import StageContext, StageResult
from pipeline.tracking import MLFLOW, Tracker, git_commit

log = logging.getLogger(__name__)


def preflight(config: Config, corpus: Corpus, names: list[str]) -> None:
    """Check inputs before any run is created, so bad input never reaches the store: the
    corpus's own checks, then every gold row the stages will read (loaded once, kept)."""
    corpus.check(names)
    if config.registry.gate_metric.startswith("test_f_avg") and not config.evaluate.f_avg_labels:
        raise ConfigError(f"registry.gate_metric {config.registry.gate_metric!r} needs evaluate.f_avg_labels")
    corpus.preload(names)


def base_tags(config: Config, corpus: Corpus) -> dict[str, str]:
    return {
        "git_commit": git_commit(),
        "config_hash": config.config_hash(),
        "model_type": config.train.model,
        "target": config.target,
        **corpus.data_tags(),
        **corpus.gold_set_tags(),
    }


def run_stage(config: Config, stage: str, tracker: Tracker = MLFLOW) -> dict[str, float]:
    """One stage alone, in its own run; it always runs, and stamps its result so that a
    later ``stance run`` can skip it (:mod:`pipeline.stage_cache`)."""
    corpus = corpus_for(config)
    preflight(config, corpus, [stage])
    tracker.start(config.experiment)
    with (
        _interruptible(stage, []),
        tracker.run(f"{stage}:{stages.run_name(config)}", tags={**base_tags(config, corpus), "stage": stage}) as run_id,
    ):
        tracker.log_params(config.flat_params())
        context = StageContext(config, corpus, StagePaths.of(config), tracker, run_id)
        return _run_or_reuse(context, stage, stage_cache.code_digest(), force=True)


def run_pipeline(
    config: Config, config_file: Path | None = None, force: bool = False, tracker: Tracker = MLFLOW
) -> dict[str, float]:
    """All stages under one parent run, each in a child run; a stage whose inputs, settings
    and code are unchanged since its last run is skipped unless ``force``. The headline
    metrics are copied to the parent."""
    order = list(stages.SPECS)
    corpus = corpus_for(config)
    preflight(config, corpus, order)
    tracker.start(config.experiment)
    collected: dict[str, float] = {}
    with tracker.run(stages.run_name(config), tags={**base_tags(config, corpus), "stage": "pipeline"}):
        tracker.log_params(config.flat_params())
        tracker.log_dict(config.model_dump(mode="json"), "config/resolved_config.json")
        if config_file is not None and config_file.is_file():
            tracker.log_file(config_file, "config")
        code = stage_cache.code_digest()
        done: list[str] = []
        for stage in order:
            with _interruptible(stage, done), tracker.run(stage, tags={"stage": stage}, nested=True) as run_id:
                context = StageContext(config, corpus, StagePaths.of(config), tracker, run_id)
                collected.update(_run_or_reuse(context, stage, code, force))
            done.append(stage)
        tracker.log_metrics(collected)
    return collected


@contextlib.contextmanager
def _interruptible(stage: str, done: list[str]) -> Iterator[None]:
    """A Ctrl-C inside ``stage`` becomes a :class:`Stopped` that says what was kept."""
    from pipeline.interrupts import Interrupted, Stopped, stage_stopped

    try:
        yield
    except Stopped:
        raise
    except KeyboardInterrupt as stop:
        raise stage_stopped(stage, done, stop.finished if isinstance(stop, Interrupted) else None) from None


def _run_or_reuse(ctx: StageContext, stage: str, code: str, force: bool) -> dict[str, float]:
    """Run ``stage`` in the active run, log and stamp its result, or, unless ``force``, when
    an earlier run of it still stands (same fingerprint, outputs and run), log that run's
    result here instead."""
    fingerprint = stage_cache.fingerprint(ctx.config, stage, code)
    stamp = None if force else stage_cache.reusable(ctx.config, stage, fingerprint, ctx.tracker)
    if stamp is None:
        for needed in stages.SPECS[stage].inputs:
            needed.require(ctx.paths, stage)
        result = stages.STAGES[stage](ctx)
        _log_result(ctx.tracker, result)
        stage_cache.write_stamp(ctx.config, stage, fingerprint, result, ctx.run_id)
        return result.metrics
    ctx.tracker.set_tags({"skipped": "true", "reused_run_id": stamp.run_id})
    _log_result(ctx.tracker, stamp.result)
    log.info("%s: inputs, settings and code unchanged since run %s; skipped (--force reruns it)", stage, stamp.run_id)
    return stamp.result.metrics


def _log_result(tracker: Tracker, result: StageResult) -> None:
    tracker.log_metrics(result.metrics)
    if result.tags:
        tracker.set_tags(result.tags)
    for artifact in result.artifacts:
        if artifact.path.exists():
            tracker.log_file(artifact.path, artifact.folder)
    for artifact_file, document in result.documents.items():
        tracker.log_dict(document, artifact_file)
