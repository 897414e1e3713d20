"""The four stages, each declared once (:class:`~pipeline.stage_spec.StageSpec`): the config
settings it reads, the files it reads and which stage writes them, the files it writes, and
the function, a file-to-file step that returns what to log (:class:`StageResult`).

The pure logic lives in ``ingest``, ``labeling``, ``train`` and ``evaluate``, and where the
data comes from in :mod:`pipeline.corpus`; these functions read and write the files between
them. :mod:`pipeline.runner` fingerprints, runs or reuses and logs them; a stage can also
be called directly with a :class:`StageContext` and a ``NullTracker`` (no store).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import BaseModel

from pipeline.config import Config
from pipeline.errors import InputError, first_line
from pipeline.io import atomic_path, read_table, write_table
from pipeline.stage_paths import TrainRecord
from pipeline.stage_spec import Artifact, StageContext, StageInput, StageResult, StageSpec

if TYPE_CHECKING:
    from typing import Callable

    from pipeline.behaviour import BehaviourResult
    from pipeline.evaluate import Evaluation
    from pipeline.gate import GatePolicy, PairedComparison

log = logging.getLogger(__name__)

EVALUATION_FILES = (
    "classification_report.csv",
    "misclassified.csv",
    "test_predictions.csv",
    "metrics.json",
    "confusion_matrix.png",
    "calibration.png",
    "model_card.md",
)


def ingest_stage(ctx: StageContext) -> StageResult:
    """The corpus's sentences (articles split, or a labelled dataset's rows) -> ``sentences.parquet``."""
    ingested = ctx.corpus.sentences()
    write_table(ingested.sentences, ctx.paths.sentences)
    ctx.tracker.log_dataset(ingested.sentences, name="sentences", context="ingest", source=ingested.source)
    log.info("ingest: %s -> %s", ingested.summary, ctx.paths.sentences)
    return StageResult(ingested.metrics)


def label_stage(ctx: StageContext) -> StageResult:
    """``sentences.parquet`` -> ``labeled.parquet`` (+ the votes and the function report
    where labeling functions voted)."""
    paths = ctx.paths
    labelled = ctx.corpus.label(read_table(paths.sentences), paths.sentences)
    write_table(labelled.labeled, paths.labeled)
    artifacts: tuple[Artifact, ...] = ()
    if labelled.votes is not None:
        write_table(labelled.votes, paths.votes)
    if labelled.report is not None:
        write_table(labelled.report, paths.lf_report)
        artifacts = (Artifact(paths.lf_report, "labeling"),)
    counts = labelled.labeled["label"].replace("", "(unlabeled)").value_counts()
    log.info("label: %s -> %s", labelled.summary, paths.labeled)
    return StageResult(
        labelled.metrics,
        artifacts=artifacts,
        documents={"labeling/label_counts.json": {str(k): int(v) for k, v in counts.items()}},
    )


def train_stage(ctx: StageContext) -> StageResult:
    """``labeled.parquet`` -> a model bundle in ``models/``, the logged model and ``train.json``."""
    from pipeline.train import fit_target_aware

    config, paths = ctx.config, ctx.paths
    rows = ctx.corpus.training_rows(read_table(paths.labeled))
    result = fit_target_aware(config, rows, ctx.corpus.gold_dev)
    staging = paths.model_dir.with_name(paths.model_dir.name + ".tmp")
    _clear(staging)
    result.classifier.save(staging)
    _clear(paths.model_dir)
    staging.rename(paths.model_dir)
    ctx.tracker.log_dataset(rows, name="train", context="training", source=str(paths.labeled), targets="label")
    model_uri = ctx.tracker.log_model(paths.model_dir, config.train.model, config.labels, target_column=config.train.target_aware)
    TrainRecord(model_uri, ctx.run_id, config.train.model, config.config_hash(), result.metrics).write(paths.train_info)
    calibrated = (
        f", calibrated in {result.metrics['calibration_seconds']:.1f}s" if "calibration_seconds" in result.metrics else ""
    )
    log.info(
        "train: %s on %d rows in %.1fs%s -> %s",
        config.train.model,
        len(rows),
        result.metrics["train_seconds"],
        calibrated,
        model_uri,
    )
    return StageResult(result.metrics, tags={"model_uri": model_uri})


def _clear(folder: Path) -> None:
    import shutil

    if folder.exists():
        shutil.rmtree(folder)


def evaluate_stage(ctx: StageContext) -> StageResult:
    """The trained bundle + gold test -> metrics, reports, and the registry gate.

    Reports are written to a staging folder; registering the version (with its gate
    decision) and publishing the finished folder as ``reports/<experiment>/v<N>/`` (with the
    ``latest`` and ``champion`` links, :mod:`pipeline.report_folders`) is one step that a
    Ctrl-C cannot cut in two: interrupted before it, evaluate leaves no version and the
    old reports; once it has begun, it finishes first (:mod:`pipeline.interrupts`)."""
    info = TrainRecord.read(ctx.paths.train_info)
    gold_test = ctx.corpus.gold_test
    if gold_test is None:
        raise InputError("data.gold_test is not set: evaluation needs a gold test set")
    staging = ctx.paths.report_root / ".partial"
    _clear(staging)
    try:
        return _evaluate_into(ctx, info, gold_test, staging)
    finally:
        _clear(staging)  # gone once published; after a failure, the half-written folder


def _evaluate_into(ctx: StageContext, info: TrainRecord, gold_test: pd.DataFrame, staging: Path) -> StageResult:
    from pipeline import report_folders
    from pipeline.classifiers.registry import load_bundle
    from pipeline.evaluate import plot_calibration, plot_confusion, plot_precision_recall
    from pipeline.interrupts import held
    from pipeline.model_card import render_model_card
    from pipeline.tracking import git_commit

    config, paths, tracker = ctx.config, ctx.paths, ctx.tracker
    classifier = load_bundle(paths.model_dir)
    evaluation = evaluate_on(config, classifier, gold_test, "test")
    write_table(evaluation.report, staging / "classification_report.csv")
    write_table(evaluation.misclassified, staging / "misclassified.csv")
    write_table(evaluation.predictions, staging / "test_predictions.csv")
    plot_confusion(evaluation.confusion, config.labels, staging / "confusion_matrix.png", f"{config.train.model} on gold test")
    plot_calibration(evaluation.calibration, staging / "calibration.png", f"{config.train.model} calibration")
    plot_precision_recall(
        evaluation.predictions, config.labels, staging / "precision_recall.png", f"{config.train.model} on gold test"
    )
    if evaluation.calibration_uncalibrated is not None:
        plot_calibration(
            evaluation.calibration_uncalibrated,
            staging / "calibration_uncalibrated.png",
            f"{config.train.model} before calibration",
        )
    metrics = dict(evaluation.metrics)
    extra_reports = {}
    scored_sets = {"test": (gold_test, evaluation.predictions)}  # what the gate may compare the champion on
    for name, gold in ctx.corpus.evaluation_sets().items():
        extra = evaluate_on(config, classifier, gold, name)
        scored_sets[name] = (gold, extra.predictions)
        write_table(extra.report, staging / f"{name}_classification_report.csv")
        write_table(extra.predictions, staging / f"{name}_predictions.csv")
        metrics.update(extra.metrics)
        extra_reports[name] = extra.report
        log.info("evaluate: %s macro-F1 %.3f on %d sentences", name, extra.metrics[f"{name}_macro_f1"], len(gold))
    cases = ctx.corpus.behaviour_cases()
    if cases is not None:
        behaviour = run_behaviour_suite(classifier, cases)
        write_table(behaviour.cases, staging / "behaviour_results.csv")
        metrics.update(behaviour.metrics)
        log.info(
            "evaluate: behavioural suite pass rate %.3f over %d cases",
            behaviour.metrics["behaviour_pass_rate"],
            behaviour.metrics["behaviour_cases"],
        )
    with atomic_path(staging / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    tracker.log_dataset(
        gold_test.assign(sentence_id=range(len(gold_test))),
        name="gold_test",
        context="evaluation",
        source=str(config.path(config.data.gold_test or config.data.gold_refs or "")),
        targets="label",
    )
    log.info(
        "evaluate: test macro-F1 %.3f, accuracy %.3f on %d gold sentences",
        evaluation.metrics["test_macro_f1"],
        evaluation.metrics["test_accuracy"],
        len(gold_test),
    )
    with held("the model version and its gate decision were registered and the reports written"):
        decision = None
        if config.registry.enabled:
            decision = tracker.register_and_gate(
                info.model_uri,
                config.registry.model_name,
                config.registry.alias,
                config.registry.gate_metric,
                metrics,
                ctx.run_id,
                champion_comparison(config, scored_sets),
                gate_policy(config),
            )
            if decision is not None:
                log.info("registry: %s", decision.reason)
        card = render_model_card(
            config, run_name(config), info, metrics, evaluation.report, decision, git_commit(), extra_reports
        )
        with atomic_path(staging / "model_card.md") as tmp:
            tmp.write_text(card, encoding="utf-8")
        name = report_folders.folder_name(decision.version if decision else None, ctx.run_id)
        final = report_folders.publish(staging, paths.report_root, name, champion=bool(decision and decision.promoted))
        if decision is not None:
            tracker.tag_version(decision.model_name, decision.version, {"report_dir": str(final.resolve())})
    log.info("evaluate: reports in %s (%s/latest)", final, paths.report_root)
    artifacts = tuple(
        Artifact(paths.reports / name, "evaluation") for name in evaluation_files(config) if (paths.reports / name).exists()
    )
    return StageResult(metrics, tags={"model_uri": info.model_uri}, artifacts=artifacts)


def gate_policy(config: Config) -> "GatePolicy":
    from pipeline.gate import GatePolicy

    return GatePolicy(config.registry.min_win_probability, config.registry.min_margin)


def champion_comparison(
    config: Config, scored_sets: dict[str, tuple[pd.DataFrame, pd.DataFrame]]
) -> "Callable[[str], PairedComparison | None] | None":
    """How the gate compares the champion with the candidate: the champion model scored on
    the rows of the set the gate metric is measured on, a paired bootstrap against the
    candidate's predictions there. None when the gate metric cannot be recomputed from
    predictions (the gate then compares stored scores)."""
    from pipeline import gate

    found = gate.paired_metric(config.registry.gate_metric, list(scored_sets))
    if found is None:
        log.info(
            "registry: %s is not a metric the paired bootstrap recomputes; the gate compares stored scores",
            config.registry.gate_metric,
        )
        return None
    set_name, metric = found
    gold, candidate = scored_sets[set_name]
    scores = gate.metric_scores(metric, config.labels, config.evaluate.f_avg_labels)

    def compare(champion_uri: str) -> "PairedComparison | None":
        from pipeline.tracking import predict_with

        inputs = gold[["text", *(["target"] if "target" in gold.columns else [])]].reset_index(drop=True)
        try:
            champion = predict_with(champion_uri, inputs)
        except Exception as exc:  # noqa: BLE001  an old champion that no longer loads: fall back, say why
            log.warning(
                "registry: cannot score the champion %s on %s (%s); the gate compares stored scores",
                champion_uri,
                set_name,
                first_line(exc),
            )
            return None
        return gate.paired_comparison(
            gold["label"].astype(str).tolist(),
            candidate["stance"].astype(str).tolist(),
            champion["stance"].astype(str).tolist(),
            scores,
            config.registry.bootstrap_resamples,
            config.seed,
        )

    return compare


def evaluate_on(config: Config, classifier: object, gold: pd.DataFrame, name: str) -> "Evaluation":
    """``classifier`` scored on one labelled set, metrics prefixed ``name``, with the config's
    evaluation settings: what every evaluation (the stage, the benchmarks) computes."""
    from pipeline.classifiers.targeted import predict_frame
    from pipeline.evaluate import evaluate_predictions

    evaluation = evaluate_predictions(
        gold,
        predict_frame(classifier, gold),
        config.labels,
        name,
        calibration_bins=config.evaluate.calibration_bins,
        f_avg_labels=config.evaluate.f_avg_labels,
        resamples=config.evaluate.bootstrap_resamples,
        seed=config.seed,
        none_label=config.none_label,
    )
    uncalibrated = uncalibrated_calibration(config, classifier, gold)
    if uncalibrated is None:
        return evaluation
    ece, bins = uncalibrated  # the same rows before calibration: how much it moved
    return dataclasses.replace(
        evaluation, metrics={**evaluation.metrics, f"{name}_ece_uncalibrated": ece}, calibration_uncalibrated=bins
    )


def uncalibrated_calibration(config: Config, classifier: object, gold: pd.DataFrame) -> "tuple[float, pd.DataFrame] | None":
    """ECE and reliability bins of a calibrated model's own (uncalibrated) probabilities;
    None for a model without a calibrator."""
    from pipeline.evaluate import expected_calibration_error

    if getattr(classifier, "kind", "") != "calibrated":
        return None
    raw = classifier.uncalibrated_proba(gold["text"].astype(str).tolist())  # type: ignore[attr-defined]
    truth = gold["label"].astype(str).to_numpy()
    predicted = np.asarray(config.labels, dtype=object)[raw.argmax(axis=1)]
    return expected_calibration_error(raw.max(axis=1), predicted == truth, config.evaluate.calibration_bins)


def run_behaviour_suite(classifier: object, cases: pd.DataFrame) -> "BehaviourResult":
    """The behavioural suite's expanded ``cases`` (:meth:`Corpus.behaviour_cases`) scored with ``classifier``."""
    from pipeline.behaviour import score_suite
    from pipeline.classifiers.targeted import predict_frame

    return score_suite(cases, predict_frame(classifier, cases[["text"]])["stance"].tolist())


def evaluation_files(config: Config) -> list[str]:
    """The report files the evaluate stage writes: gold test's, then per evaluation set and
    for the behavioural suite."""
    extra = [
        f"{source.set_name}_{kind}"
        for source in config.evaluate.extra_sets
        for kind in ("classification_report.csv", "predictions.csv")
    ]
    return [*EVALUATION_FILES, *extra, *(["behaviour_results.csv"] if config.evaluate.behaviour else [])]


def run_name(config: Config) -> str:
    """A run name that says what differs between runs of one experiment: the model with any
    hyperparameter off its default (``tfidf_logreg(C=0.5)``), then the corpus's part (the
    labeler and the training rows)."""
    from pipeline.classifiers import registry
    from pipeline.corpus import corpus_for

    settings = registry.settings(config)
    model = config.train.model + (_changed_settings(settings) if isinstance(settings, BaseModel) else "")
    return f"{model}-{corpus_for(config).run_name_part()}"


def _changed_settings(section: BaseModel) -> str:
    """``(key=value,...)`` for the fields of ``section`` that differ from its class defaults."""
    current, defaults = section.model_dump(mode="json"), type(section)().model_dump(mode="json")
    changed = [
        f"{key}={json.dumps(value) if isinstance(value, (list, dict)) else value}"
        for key, value in current.items()
        if value != defaults.get(key)
    ]
    return f"({','.join(changed)})"[:120] if changed else ""


# In pipeline order: a stage's fingerprint covers the outputs of every stage before it.
SPECS: dict[str, StageSpec] = {
    spec.name: spec
    for spec in (
        StageSpec(
            "ingest",
            settings=("experiment", "seed", "data"),
            inputs=(),
            gold_sets=(),
            outputs=lambda config, paths: [paths.sentences],
            function=ingest_stage,
        ),
        StageSpec(
            "label",
            settings=("experiment", "seed", "labels", "none_label", "data", "label"),
            inputs=(StageInput("sentences", "ingest"),),
            gold_sets=(),
            outputs=lambda config, paths: [paths.labeled, paths.votes, paths.lf_report],
            function=label_stage,
        ),
        StageSpec(
            "train",
            settings=("experiment", "seed", "labels", "none_label", "data", "train"),
            inputs=(StageInput("labeled", "label"),),
            gold_sets=("extra_gold", "evaluation_sets", "behaviour"),
            outputs=lambda config, paths: [paths.model_dir, paths.train_info],
            function=train_stage,
        ),
        StageSpec(
            "evaluate",
            settings=("experiment", "labels", "none_label", "data", "train", "evaluate", "registry"),
            inputs=(StageInput("train_info", "train"),),
            gold_sets=("evaluation_sets", "behaviour"),
            outputs=lambda config, paths: [paths.reports / name for name in evaluation_files(config)],
            function=evaluate_stage,
        ),
    )
}
# The stage functions by name, as the runner calls them (looked up at call time, so a test can swap one).
STAGES = {name: spec.function for name, spec in SPECS.items()}
