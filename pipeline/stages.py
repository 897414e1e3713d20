"""The stages as file-to-file steps with MLflow logging at the edges.

``stance ingest | label | train | evaluate`` each call one function here; ``stance run``
calls them in order under one parent run, each as a nested child run. The pure logic
lives in ``ingest``, ``labeling``, ``train`` and ``evaluate``; this module reads and
writes the files between them and logs what each stage did.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np
import pandas as pd
from pydantic import BaseModel

from pipeline import tracking
from pipeline.config import Config
from pipeline.errors import ConfigError, InputError, first_line
from pipeline.io import atomic_path, file_digest, read_articles, read_table, write_table
from pipeline.stage_paths import StagePaths, TrainRecord, data_tags
from pipeline.train import load_evaluation_sets

if TYPE_CHECKING:
    from typing import Callable

    from pipeline.behaviour import BehaviourResult
    from pipeline.evaluate import Evaluation
    from pipeline.gate import GatePolicy, PairedComparison

log = logging.getLogger(__name__)


def _require(path: Path, stage: str, producer: str) -> None:
    if not path.exists():
        raise InputError(f"{path}: not found; the {stage} stage reads what `stance {producer}` writes (run it first)")


def load_gold_sets(config: Config) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Gold dev and gold test as ``doc_id, text, label`` frames (None where not configured)."""
    from pipeline.labeling.gold import load_gold, load_gold_refs

    data = config.data
    if data.dataset is not None:
        from pipeline.datasets import gold_split, load_dataset

        examples = load_dataset(config)
        return gold_split(examples, "dev"), gold_split(examples, "test")
    if data.gold_refs:
        refs, articles = config.path(data.gold_refs), config.path(data.articles)
        return (load_gold_refs(refs, articles, config.labels, split="dev"),
                load_gold_refs(refs, articles, config.labels, split="test"))
    dev = load_gold(config.path(data.gold_dev), config.labels) if data.gold_dev else None
    test = load_gold(config.path(data.gold_test), config.labels) if data.gold_test else None
    return dev, test


def run_ingest(config: Config) -> dict[str, float]:
    """Articles (or a labelled dataset's rows) -> ``sentences.parquet``."""
    from pipeline.ingest import ingest_articles

    paths = StagePaths.of(config)
    if config.data.dataset is not None:
        return _ingest_dataset(config, paths)
    source = config.path(config.data.articles)
    articles = read_articles(source, config.data.text_column, config.data.id_column)
    sentences, stats = ingest_articles(articles, config.data.reserved_from)
    if sentences.empty:
        raise InputError(f"{source}: no sentences after ingest ({stats})")
    write_table(sentences, paths.sentences)
    metrics = stats.as_metrics()
    tracking.log_metrics(metrics)
    tracking.log_dataset(sentences, name="sentences", context="ingest", source=str(source))
    log.info("ingest: %d articles -> %d sentences (%d reserved, %d duplicate) -> %s",
             stats.articles_read, stats.sentences, stats.articles_reserved, stats.articles_duplicate, paths.sentences)
    return metrics


def _ingest_dataset(config: Config, paths: StagePaths) -> dict[str, float]:
    """A labelled dataset's rows -> ``sentences.parquet`` (with ``target``, ``split``, ``gold_label``)."""
    from pipeline.datasets import dataset_paths, ingest_metrics, load_dataset

    examples = load_dataset(config)
    write_table(examples, paths.sentences)
    metrics = ingest_metrics(examples)
    tracking.log_metrics(metrics)
    tracking.log_dataset(examples, name="sentences", context="ingest", source=", ".join(map(str, dataset_paths(config))))
    log.info("ingest: %d dataset rows (%d train, %d dev, %d test) -> %s", len(examples), metrics["ingest_rows_train"],
             metrics["ingest_rows_dev"], metrics["ingest_rows_test"], paths.sentences)
    return metrics


def _label_dataset(config: Config, paths: StagePaths, sentences: pd.DataFrame) -> dict[str, float]:
    """The dataset's own labels as gold for its train and dev rows -> ``labeled.parquet``."""
    from pipeline.datasets import gold_labeled

    if "gold_label" not in sentences.columns:
        raise InputError(f"{paths.sentences}: no gold_label column; rerun `stance ingest` with this config")
    labeled, metrics = gold_labeled(sentences, config.labels)
    write_table(labeled, paths.labeled)
    tracking.log_metrics(metrics)
    counts = labeled["label"].value_counts()
    tracking.log_dict({str(k): int(v) for k, v in counts.items()}, "labeling/label_counts.json")
    log.info("label: %d gold rows from the dataset (test rows held out) -> %s", len(labeled), paths.labeled)
    return metrics


def run_label(config: Config) -> dict[str, float]:
    """``sentences.parquet`` -> ``labeled.parquet`` (+ votes, function report)."""
    from pipeline.labeling.stage import label_sentences
    from pipeline.labeling.suites import get_suite

    paths = StagePaths.of(config)
    _require(paths.sentences, "label", "ingest")
    sentences = read_table(paths.sentences)
    if config.data.dataset is not None:
        return _label_dataset(config, paths, sentences)
    gold_dev, _ = load_gold_sets(config)
    if config.label.functions is None:
        raise InputError("label.functions is null: this config's data carries its own labels; configure data.dataset")
    suite = get_suite(config.label.functions)
    extra = None
    if config.label.embedding.enabled:
        from pipeline.labeling.embedding import embedding_votes

        extra = embedding_votes(config, sentences, gold_dev)
    result = label_sentences(
        sentences, suite, config.labels, config.none_label, config.label.aggregator,
        config.label_priority, gold_dev, config.label.gold_overrides, extra,
    )
    write_table(result.labeled, paths.labeled)
    write_table(result.votes, paths.votes)
    write_table(result.report, paths.lf_report)
    tracking.log_metrics(result.metrics)
    tracking.log_table(result.report, "labeling/lf_report.csv")
    counts = result.labeled["label"].replace("", "(unlabeled)").value_counts()
    tracking.log_dict({str(k): int(v) for k, v in counts.items()}, "labeling/label_counts.json")
    log.info("label: %d sentences, coverage %.2f, dev accuracy %s -> %s", len(result.labeled),
             result.metrics["labeler_coverage"], f"{result.metrics.get('labeler_dev_accuracy', float('nan')):.3f}", paths.labeled)
    return result.metrics


def run_train(config: Config) -> dict[str, float]:
    """``labeled.parquet`` -> a model bundle in ``models/`` and a logged MLflow model."""
    from pipeline.train import fit_target_aware
    from pipeline.train import assemble_training_rows

    paths = StagePaths.of(config)
    _require(paths.labeled, "train", "label")
    labeled = read_table(paths.labeled)
    gold_dev, gold_test = load_gold_sets(config)
    rows = assemble_training_rows(config, labeled, gold_test)
    result = fit_target_aware(config, rows, gold_dev)
    staging = paths.model_dir.with_name(paths.model_dir.name + ".tmp")
    _clear(staging)
    result.classifier.save(staging)
    _clear(paths.model_dir)
    staging.rename(paths.model_dir)
    tracking.log_metrics(result.metrics)
    tracking.log_dataset(rows, name="train", context="training", source=str(paths.labeled), targets="label")
    model_uri = tracking.log_stance_model(paths.model_dir, config.train.model, config.labels,
                                          target_column=config.train.target_aware)
    run_id = tracking.active_run_id()
    TrainRecord(model_uri, run_id, config.train.model, config.config_hash(), result.metrics).write(paths.train_info)
    calibrated = (f", calibrated in {result.metrics['calibration_seconds']:.1f}s"
                  if "calibration_seconds" in result.metrics else "")
    log.info("train: %s on %d rows in %.1fs%s -> %s", config.train.model, len(rows), result.metrics["train_seconds"],
             calibrated, model_uri)
    return result.metrics


def _clear(folder: Path) -> None:
    import shutil

    if folder.exists():
        shutil.rmtree(folder)


def run_evaluate(config: Config) -> dict[str, float]:
    """The trained bundle + gold test -> metrics, reports, and the registry gate.

    Reports are written to a staging folder; registering the version (with its gate
    decision) and publishing the finished folder as ``reports/<experiment>/v<N>/`` (with the
    ``latest`` and ``champion`` links, :mod:`pipeline.report_folders`) is one step that a
    Ctrl-C cannot cut in two: interrupted before it, evaluate leaves no version and the
    old reports; once it has begun, it finishes first (:mod:`pipeline.interrupts`)."""
    paths = StagePaths.of(config)
    _require(paths.train_info, "evaluate", "train")
    info = TrainRecord.read(paths.train_info)
    _, gold_test = load_gold_sets(config)
    if gold_test is None:
        raise InputError("data.gold_test is not set: evaluation needs a gold test set")
    staging = paths.report_root / ".partial"
    _clear(staging)
    try:
        return _evaluate_into(config, paths, info, gold_test, staging)
    finally:
        _clear(staging)  # gone once published; after a failure, the half-written folder


def _evaluate_into(config: Config, paths: StagePaths, info: TrainRecord, gold_test: pd.DataFrame,
                   staging: Path) -> dict[str, float]:
    from pipeline import report_folders
    from pipeline.classifiers.registry import load_bundle
    from pipeline.evaluate import plot_calibration, plot_confusion, plot_precision_recall
    from pipeline.interrupts import held
    from pipeline.model_card import render_model_card

    classifier = load_bundle(paths.model_dir)
    evaluation = evaluate_on(config, classifier, gold_test, "test")
    write_table(evaluation.report, staging / "classification_report.csv")
    write_table(evaluation.misclassified, staging / "misclassified.csv")
    write_table(evaluation.predictions, staging / "test_predictions.csv")
    plot_confusion(evaluation.confusion, config.labels, staging / "confusion_matrix.png", f"{config.train.model} on gold test")
    plot_calibration(evaluation.calibration, staging / "calibration.png", f"{config.train.model} calibration")
    plot_precision_recall(evaluation.predictions, config.labels, staging / "precision_recall.png",
                          f"{config.train.model} on gold test")
    if evaluation.calibration_uncalibrated is not None:
        plot_calibration(evaluation.calibration_uncalibrated, staging / "calibration_uncalibrated.png",
                         f"{config.train.model} before calibration")
    metrics = dict(evaluation.metrics)
    extra_reports = {}
    scored_sets = {"test": (gold_test, evaluation.predictions)}  # what the gate may compare the champion on
    for name, gold in load_evaluation_sets(config).items():
        extra = evaluate_on(config, classifier, gold, name)
        scored_sets[name] = (gold, extra.predictions)
        write_table(extra.report, staging / f"{name}_classification_report.csv")
        write_table(extra.predictions, staging / f"{name}_predictions.csv")
        metrics.update(extra.metrics)
        extra_reports[name] = extra.report
        log.info("evaluate: %s macro-F1 %.3f on %d sentences", name, extra.metrics[f"{name}_macro_f1"], len(gold))
    if config.evaluate.behaviour:
        behaviour = run_behaviour_suite(config, classifier)
        write_table(behaviour.cases, staging / "behaviour_results.csv")
        metrics.update(behaviour.metrics)
        log.info("evaluate: behavioural suite pass rate %.3f over %d cases", behaviour.metrics["behaviour_pass_rate"],
                 behaviour.metrics["behaviour_cases"])
    with atomic_path(staging / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    tracking.log_metrics(metrics)
    tracking.log_dataset(gold_test.assign(sentence_id=range(len(gold_test))), name="gold_test", context="evaluation",
                         source=str(config.path(config.data.gold_test or config.data.gold_refs or "")), targets="label")
    tracking.set_tags({"model_uri": info.model_uri})
    log.info("evaluate: test macro-F1 %.3f, accuracy %.3f on %d gold sentences", evaluation.metrics["test_macro_f1"],
             evaluation.metrics["test_accuracy"], len(gold_test))
    run_id = tracking.active_run_id()
    with held("the model version and its gate decision were registered and the reports written"):
        decision = None
        if config.registry.enabled:
            decision = tracking.register_and_gate(info.model_uri, config.registry.model_name, config.registry.alias,
                                                  config.registry.gate_metric, metrics, run_id,
                                                  champion_comparison(config, scored_sets), gate_policy(config))
            log.info("registry: %s", decision.reason)
        card = render_model_card(config, run_name(config), info, metrics, evaluation.report, decision,
                                 tracking.git_commit(), extra_reports)
        with atomic_path(staging / "model_card.md") as tmp:
            tmp.write_text(card, encoding="utf-8")
        name = report_folders.folder_name(decision.version if decision else None, run_id)
        final = report_folders.publish(staging, paths.report_root, name, champion=bool(decision and decision.promoted))
        if decision is not None:
            tracking.tag_version(decision.model_name, decision.version, {"report_dir": str(final.resolve())})
    log.info("evaluate: reports in %s (%s/latest)", final, paths.report_root)
    _log_evaluation_files(config, paths.reports)
    return metrics


def gate_policy(config: Config) -> "GatePolicy":
    from pipeline.gate import GatePolicy

    return GatePolicy(config.registry.min_win_probability, config.registry.min_margin)


def champion_comparison(config: Config, scored_sets: dict[str, tuple[pd.DataFrame, pd.DataFrame]]
                        ) -> "Callable[[str], PairedComparison | None] | None":
    """How the gate compares the champion with the candidate: the champion model scored on
    the rows of the set the gate metric is measured on, a paired bootstrap against the
    candidate's predictions there. None when the gate metric cannot be recomputed from
    predictions (the gate then compares stored scores)."""
    from pipeline import gate

    found = gate.paired_metric(config.registry.gate_metric, list(scored_sets))
    if found is None:
        log.info("registry: %s is not a metric the paired bootstrap recomputes; the gate compares stored scores",
                 config.registry.gate_metric)
        return None
    set_name, metric = found
    gold, candidate = scored_sets[set_name]
    scores = gate.metric_scores(metric, config.labels, config.evaluate.f_avg_labels)

    def compare(champion_uri: str) -> "PairedComparison | None":
        inputs = gold[["text", *(["target"] if "target" in gold.columns else [])]].reset_index(drop=True)
        try:
            champion = tracking.predict_with(champion_uri, inputs)
        except Exception as exc:  # noqa: BLE001  an old champion that no longer loads: fall back, say why
            log.warning("registry: cannot score the champion %s on %s (%s); the gate compares stored scores",
                        champion_uri, set_name, first_line(exc))
            return None
        return gate.paired_comparison(gold["label"].astype(str).tolist(), candidate["stance"].astype(str).tolist(),
                                      champion["stance"].astype(str).tolist(), scores,
                                      config.registry.bootstrap_resamples, config.seed)

    return compare


def evaluate_on(config: Config, classifier: object, gold: pd.DataFrame, name: str) -> "Evaluation":
    """``classifier`` scored on one labelled set, metrics prefixed ``name``, with the config's
    evaluation settings: what every evaluation (the stage, the benchmarks) computes."""
    from pipeline.classifiers.targeted import predict_frame
    from pipeline.evaluate import evaluate_predictions

    evaluation = evaluate_predictions(gold, predict_frame(classifier, gold), config.labels, name,
                                      config.evaluate.calibration_bins, config.evaluate.f_avg_labels,
                                      config.evaluate.bootstrap_resamples, config.seed, config.none_label)
    uncalibrated = uncalibrated_calibration(config, classifier, gold)
    if uncalibrated is None:
        return evaluation
    ece, bins = uncalibrated  # the same rows before calibration: how much it moved
    return dataclasses.replace(evaluation, metrics={**evaluation.metrics, f"{name}_ece_uncalibrated": ece},
                               calibration_uncalibrated=bins)


def uncalibrated_calibration(config: Config, classifier: object,
                             gold: pd.DataFrame) -> "tuple[float, pd.DataFrame] | None":
    """ECE and reliability bins of a calibrated model's own (uncalibrated) probabilities;
    None for a model without a calibrator."""
    from pipeline.evaluate import expected_calibration_error

    if getattr(classifier, "kind", "") != "calibrated":
        return None
    raw = classifier.uncalibrated_proba(gold["text"].astype(str).tolist())  # type: ignore[attr-defined]
    truth = gold["label"].astype(str).to_numpy()
    predicted = np.asarray(config.labels, dtype=object)[raw.argmax(axis=1)]
    return expected_calibration_error(raw.max(axis=1), predicted == truth, config.evaluate.calibration_bins)


def run_behaviour_suite(config: Config, classifier: object) -> "BehaviourResult":
    """The configured behavioural suite, expanded and scored with ``classifier``."""
    from pipeline.behaviour import expand_suite, load_suite, score_suite
    from pipeline.classifiers.targeted import predict_frame

    cases = expand_suite(load_suite(config.path(config.evaluate.behaviour), config.labels))
    return score_suite(cases, predict_frame(classifier, cases[["text"]])["stance"].tolist())


def _log_evaluation_files(config: Config, reports: Path) -> None:
    """The evaluation's reports and plots as artifacts of the active run."""
    from pipeline.stage_cache import evaluation_files

    for name in evaluation_files(config):
        if (reports / name).exists():
            tracking.log_file(reports / name, "evaluation")


STAGES = {"ingest": run_ingest, "label": run_label, "train": run_train, "evaluate": run_evaluate}


def run_name(config: Config) -> str:
    """A run name that says what differs between runs of one experiment: the model with any
    hyperparameter off its default (``tfidf_logreg(C=0.5)``), the labeler, the training rows."""
    from pipeline.classifiers import registry

    settings = registry.settings(config)
    model = config.train.model + (_changed_settings(settings) if isinstance(settings, BaseModel) else "")
    if config.data.dataset is not None:
        return f"{model}-{config.train.target_mode}-{'train+dev' if config.train.include_gold_dev else 'train'}"
    training = "weak+gold" if config.train.include_gold_dev else "weak"
    labeler = config.label.aggregator + ("+embed" if config.label.embedding.enabled else "")
    return f"{model}-{labeler}-{training}"


def _changed_settings(section: BaseModel) -> str:
    """``(key=value,...)`` for the fields of ``section`` that differ from its class defaults."""
    current, defaults = section.model_dump(mode="json"), type(section)().model_dump(mode="json")
    changed = [f"{key}={json.dumps(value) if isinstance(value, (list, dict)) else value}"
               for key, value in current.items() if value != defaults.get(key)]
    return f"({','.join(changed)})"[:120] if changed else ""


def gold_set_tags(config: Config) -> dict[str, str]:
    """Content digests of the extra training and evaluation sets (``data.extra_gold.<name>.digest``,
    ``data.eval.<name>.digest``) and of the behavioural suite, where present."""
    tags = {}
    for group, sets in (("extra_gold", config.train.extra_gold), ("eval", config.evaluate.extra_sets)):
        for source in sets:
            if config.path(source.path).exists():
                tags[f"data.{group}.{source.set_name}.digest"] = file_digest(config.path(source.path))
    if config.evaluate.behaviour and config.path(config.evaluate.behaviour).exists():
        tags["data.behaviour.digest"] = file_digest(config.path(config.evaluate.behaviour))
    return tags


def base_tags(config: Config) -> dict[str, str]:
    return {"git_commit": tracking.git_commit(), "config_hash": config.config_hash(),
            "model_type": config.train.model, "target": config.target, **data_tags(config), **gold_set_tags(config)}


def preflight(config: Config, stages: list[str]) -> None:
    """Check inputs before any run is created, so bad input never reaches the store."""
    if config.data.dataset is not None and config.label.functions is not None:
        raise ConfigError("label.functions: data.dataset carries its own labels; set label.functions to null")
    if config.registry.gate_metric.startswith("test_f_avg") and not config.evaluate.f_avg_labels:
        raise ConfigError(f"registry.gate_metric {config.registry.gate_metric!r} needs evaluate.f_avg_labels")
    if "ingest" in stages and config.data.dataset is None:
        _check_articles(config)
    load_gold_sets(config)  # validates every gold row up front
    if "train" in stages and config.train.extra_gold:
        from pipeline.train import load_extra_gold

        load_extra_gold(config)  # likewise the extra gold files, targets included
    if any(s in stages for s in ("train", "evaluate")):
        load_evaluation_sets(config)  # the leak guard and the evaluation read them
    if "evaluate" in stages and config.evaluate.behaviour:
        from pipeline.behaviour import load_suite

        load_suite(config.path(config.evaluate.behaviour), config.labels)
    if config.label.functions is not None and any(s in stages for s in ("label",)):
        from pipeline.labeling.suites import get_suite

        get_suite(config.label.functions)


def _check_articles(config: Config) -> None:
    """Read the configured articles (format, encoding, columns) and check that ingest would
    keep at least one: the errors ingest would raise, raised before any run exists."""
    from pipeline.ingest import select_articles

    source = config.path(config.data.articles)
    if not source.exists():
        hint = " (set STANCE_SHARED_DATA or the shared_data key)" if "{shared_data}" in config.data.articles else ""
        raise InputError(f"{source}: articles not found (data.articles){hint}")
    kept, stats = select_articles(read_articles(source, config.data.text_column, config.data.id_column),
                                  config.data.reserved_from)
    if kept.empty:
        raise InputError(f"{source}: no article to ingest ({stats.articles_read} read, {stats.articles_reserved} dated "
                         f"on or after data.reserved_from, {stats.articles_empty} empty, "
                         f"{stats.articles_duplicate} duplicate)")


def run_stage(config: Config, stage: str) -> dict[str, float]:
    """One stage alone, in its own MLflow run; it always runs, and stamps its result so that
    a later ``stance run`` can skip it (:mod:`pipeline.stage_cache`)."""
    from pipeline.stage_cache import code_digest

    preflight(config, [stage])
    tracking.use_experiment(config.experiment)
    with _interruptible(stage, []), \
            tracking.run(f"{stage}:{run_name(config)}", tags={**base_tags(config), "stage": stage}) as run_id:
        tracking.log_params(config.flat_params())
        return _run_or_reuse(config, stage, code_digest(), force=True, run_id=run_id)


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


def _run_or_reuse(config: Config, stage: str, code: str, force: bool, run_id: str) -> dict[str, float]:
    """Run ``stage`` in the active run and stamp its result, or, unless ``force``, when an
    earlier run of it still stands (same fingerprint, outputs and run), record that run's
    metrics here instead."""
    from pipeline import stage_cache

    fingerprint = stage_cache.fingerprint(config, stage, code)
    stamp = None if force else stage_cache.reusable(config, stage, fingerprint)
    if stamp is None:
        metrics = STAGES[stage](config)
        stage_cache.write_stamp(config, stage, fingerprint, metrics, run_id)
        return metrics
    tracking.set_tags({"skipped": "true", "reused_run_id": stamp.run_id})
    tracking.log_metrics(stamp.metrics)
    paths = StagePaths.of(config)
    if stage == "train":
        tracking.set_tags({"model_uri": TrainRecord.read(paths.train_info).model_uri})
    if stage == "evaluate":
        _log_evaluation_files(config, paths.reports)
    log.info("%s: inputs, settings and code unchanged since run %s; skipped (--force reruns it)", stage, stamp.run_id)
    return stamp.metrics


def run_pipeline(config: Config, config_file: Path | None = None, force: bool = False) -> dict[str, float]:
    """All stages under one parent run, each in a child run; a stage whose inputs, settings
    and code are unchanged since its last run is skipped unless ``force``. The headline
    metrics are copied to the parent."""
    from pipeline.stage_cache import code_digest

    order = list(STAGES)
    preflight(config, order)
    tracking.use_experiment(config.experiment)
    collected: dict[str, float] = {}
    with tracking.run(run_name(config), tags={**base_tags(config), "stage": "pipeline"}):
        tracking.log_params(config.flat_params())
        tracking.log_dict(config.model_dump(mode="json"), "config/resolved_config.json")
        if config_file is not None and config_file.is_file():
            tracking.log_file(config_file, "config")
        code = code_digest()
        done: list[str] = []
        for stage in order:
            with _interruptible(stage, done), tracking.run(stage, tags={"stage": stage}, nested=True) as run_id:
                collected.update(_run_or_reuse(config, stage, code, force, run_id))
            done.append(stage)
        tracking.log_metrics(collected)
    return collected
