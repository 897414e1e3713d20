"""Train stage: choose the training rows, build the configured classifier, fit it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.classifiers.base import StanceClassifier
from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest import normalize_text


log = logging.getLogger(__name__)

MIN_GOLD_PER_LABEL = 10  # fewer gold training rows than this per label: calibrate on every row
TRAIN_SOURCE = "train_source"  # the column naming where a training row came from (corpus_weak, statements, ...)
SPAN_WORDS = 8  # a training sentence sharing this many consecutive words with an evaluation sentence is a leak


@dataclass(frozen=True)
class HeldOutText:
    """The text of the evaluation sets (gold test, challenge, ...), which training never sees:
    a training sentence is held out when its normalized text equals an evaluation sentence
    or shares a run of :data:`SPAN_WORDS` words with one (the same quote reworded, or two
    translations of one statement)."""

    texts: frozenset[str]
    spans: frozenset[tuple[str, ...]]

    @classmethod
    def of(cls, *sets: pd.DataFrame | None) -> "HeldOutText":
        from pipeline.data_quality import spans

        texts = [text for frame in sets if frame is not None for text in frame["text"].astype(str)]
        return cls(frozenset(map(normalize_text, texts)), frozenset(span for text in texts for span in spans(text, SPAN_WORDS)))

    def overlaps(self, texts: pd.Series) -> pd.Series:
        """Whether each text repeats or overlaps an evaluation sentence."""
        from pipeline.data_quality import spans

        return texts.astype(str).map(
            lambda text: normalize_text(text) in self.texts or not self.spans.isdisjoint(spans(text, SPAN_WORDS))
        )


def training_rows(
    labeled: pd.DataFrame, gold_test: pd.DataFrame | None, include_gold_dev: bool, held_out: Sequence[pd.DataFrame] = ()
) -> pd.DataFrame:
    """Labelled sentences fit to train on, each with its ``train_source`` (``corpus_weak`` or
    ``corpus_gold``).

    Drops unlabelled rows, every sentence of an article that holds a gold-test sentence
    (test articles are never seen in training) and any sentence that repeats or overlaps a
    sentence of gold test or of another evaluation set in ``held_out`` (:class:`HeldOutText`:
    the same line quoted in another story). Gold-dev rows stay only when ``include_gold_dev``.
    """
    rows = labeled.loc[labeled["label"].astype(str) != ""]
    if gold_test is not None:
        rows = rows.loc[~rows["doc_id"].astype(str).isin(set(gold_test["doc_id"].astype(str)))]
    rows = rows.loc[~HeldOutText.of(gold_test, *held_out).overlaps(rows["text"])]
    if not include_gold_dev:
        rows = rows.loc[rows["label_source"] != "gold"]
    rows = rows.reset_index(drop=True)
    if TRAIN_SOURCE not in rows.columns:
        rows = rows.assign(**{TRAIN_SOURCE: "corpus_" + rows["label_source"].astype(str)})
    return rows


def require_target_column(source: str, gold: pd.DataFrame) -> None:
    if "target" not in gold.columns:
        raise InputError(
            f"{source}: no 'target' column; train.target_mode is target-aware, so every "
            "train.extra_gold row needs the target its label is about"
        )


def add_extra_gold(
    rows: pd.DataFrame,
    extra: dict[str, pd.DataFrame],
    gold_test: pd.DataFrame | None,
    target_aware: bool = False,
    held_out: Sequence[pd.DataFrame] = (),
) -> pd.DataFrame:
    """Append gold sentences from other sets (``extra``: frames by source name; confidence 1;
    ``train_source`` = the name).

    A sentence that repeats or overlaps a sentence of gold test or of a ``held_out``
    evaluation set is dropped (no leak, :class:`HeldOutText`), and so is one already in
    ``rows`` or an earlier extra set (nothing counted twice). ``target_aware``: the rows carry a ``target`` the model reads, so each
    extra set must have a ``target`` column too, and a sentence is "already there" only
    under the same target.
    """

    def keys(frame: pd.DataFrame) -> pd.Series:
        text = frame["text"].map(normalize_text)
        return text + "\x1f" + frame["target"].astype(str) if target_aware else text

    excluded = HeldOutText.of(gold_test, *held_out)
    seen = set(keys(rows))
    columns = ["doc_id", "text", "label", "label_source", "confidence", TRAIN_SOURCE, *(["target"] if target_aware else [])]
    frames = [rows if TRAIN_SOURCE in rows.columns else rows.assign(**{TRAIN_SOURCE: "corpus"})]
    for source, gold in extra.items():
        if target_aware:
            require_target_column(source, gold)
        gold_keys = keys(gold)
        keep = ~excluded.overlaps(gold["text"]) & ~gold_keys.isin(seen)
        seen |= set(gold_keys[keep])
        frames.append(gold.loc[keep].assign(label_source="gold", confidence=1.0, **{TRAIN_SOURCE: source})[columns])
    return pd.concat(frames, ignore_index=True)


def assemble_training_rows(
    config: Config,
    pool: pd.DataFrame,
    gold_test: pd.DataFrame | None,
    held_out: Sequence[pd.DataFrame] = (),
    extra: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """The leak guard, applied once to every training row of a run: the label stage's rows
    that may be trained on (``pool``) plus the ``extra`` gold sets (``train.extra_gold``), minus
    every sentence of gold test and of the ``held_out`` sets (the evaluation sets, the
    behavioural suite). :meth:`pipeline.corpus.Corpus.training_rows` gives it the run's sets."""
    rows = training_rows(pool, gold_test, config.train.include_gold_dev, held_out)
    if config.train.extra_gold:
        rows = add_extra_gold(rows, extra or {}, gold_test, config.train.target_aware, held_out)
    return rows


def build_classifier(config: Config) -> StanceClassifier:
    """A fresh, unfitted classifier of the configured kind."""
    from pipeline.classifiers import registry

    return registry.build(config)


def label_probabilities(rows: pd.DataFrame, labels: list[str]) -> np.ndarray | None:
    """The label stage's ``p_<label>`` columns as a matrix (soft targets), None when absent."""
    columns = [f"p_{label}" for label in labels]
    return rows[columns].astype(float).to_numpy() if all(c in rows.columns for c in columns) else None


@dataclass(frozen=True)
class TrainResult:
    classifier: StanceClassifier
    metrics: dict[str, float]


def fit_classifier(config: Config, rows: pd.DataFrame, dev: pd.DataFrame | None = None) -> TrainResult:
    """Fit the configured classifier on ``rows`` (``text``, ``label``, ``confidence``).

    Weak labels weigh by their confidence, gold rows by 1, so unsure weak votes pull less.
    """
    if rows.empty:
        raise InputError("train: no labelled training rows (check the label stage output and the gold test split)")
    present = sorted(set(rows["label"]))
    if len(present) < 2:
        raise InputError(f"train: training rows hold a single label {present}; need at least two")
    from pipeline.classifiers import registry

    weights = rows["confidence"].astype(float).clip(lower=0.05).to_numpy() if "confidence" in rows else None
    classifier = build_classifier(config)
    started = time.perf_counter()
    soft = {"probabilities": label_probabilities(rows, config.labels)} if registry.of(classifier).soft_targets else {}
    classifier.fit(rows["text"].tolist(), rows["label"].tolist(), weights=weights, dev=dev, **soft)
    seconds = time.perf_counter() - started
    metrics = {
        "train_seconds": seconds,
        "train_rows": float(len(rows)),
        "train_gold_rows": float((rows.get("label_source") == "gold").sum()) if "label_source" in rows else 0.0,
    }
    for label in config.labels:
        metrics[f"train_rows_{label}"] = float((rows["label"] == label).sum())
    metrics.update(source_metrics(rows))
    return TrainResult(classifier, metrics)


def source_metrics(rows: pd.DataFrame) -> dict[str, float]:
    """Rows and share of the training rows per ``train_source`` (``train_rows_source_<name>``,
    ``train_share_source_<name>``)."""
    if TRAIN_SOURCE not in rows.columns or rows.empty:
        return {}
    counts = rows[TRAIN_SOURCE].astype(str).value_counts()
    return {
        **{f"train_rows_source_{name}": float(count) for name, count in counts.items()},
        **{f"train_share_source_{name}": float(count / len(rows)) for name, count in counts.items()},
    }


def _summed(results: Sequence[TrainResult]) -> dict[str, float]:
    total: dict[str, float] = {}
    for result in results:
        for key, value in result.metrics.items():
            total[key] = total.get(key, 0.0) + value
    return total


def out_of_fold_probabilities(config: Config, rows: pd.DataFrame, dev: pd.DataFrame | None) -> np.ndarray:
    """Each row's probabilities from a model trained on the other folds
    (``train.calibration.folds``, stratified by label, seeded): predictions for rows the
    predicting model did not train on, every row used."""
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(n_splits=config.train.calibration.folds, shuffle=True, random_state=config.seed)
    probs = np.zeros((len(rows), len(config.labels)))
    labels = rows["label"].astype(str).to_numpy()
    for fit_rows, held_rows in folds.split(np.zeros(len(rows)), labels):
        fold = fit_classifier(config, rows.iloc[fit_rows].reset_index(drop=True), dev).classifier
        probs[held_rows] = fold.predict_proba(rows["text"].iloc[held_rows].astype(str).tolist())
    return probs


def calibration_rows(config: Config, rows: pd.DataFrame) -> np.ndarray:
    """Which rows the calibrator may be fitted on: the gold ones (weak labels are too noisy
    to calibrate against), or every row when there are too few gold rows."""
    gold = (rows["label_source"] == "gold").to_numpy() if "label_source" in rows else np.ones(len(rows), dtype=bool)
    if gold.sum() < MIN_GOLD_PER_LABEL * len(config.labels):
        log.warning(
            "train.calibration: only %d gold training rows; calibrating on all %d rows, weak labels included",
            int(gold.sum()),
            len(rows),
        )
        return np.ones(len(rows), dtype=bool)
    return gold


def fit_with_calibration(config: Config, rows: pd.DataFrame, dev: pd.DataFrame | None) -> TrainResult:
    """``train.calibration.fit_on``: ``cross_fit`` trains on every row and calibrates on
    out-of-fold predictions; ``holdout`` keeps a stratified share of the gold rows out of
    training and calibrates on the model's predictions for them."""
    settings = config.train.calibration
    started = time.perf_counter()
    if settings.fit_on == "cross_fit":
        result = fit_classifier(config, rows, dev)
        probs = out_of_fold_probabilities(config, rows, dev)
        usable = calibration_rows(config, rows)
        return fit_calibrated(config, result, probs[usable], rows.loc[usable, "label"], started)
    from sklearn.model_selection import train_test_split

    candidates = np.flatnonzero(calibration_rows(config, rows))
    _, held = train_test_split(
        candidates, test_size=settings.holdout_share, random_state=config.seed, stratify=rows["label"].to_numpy()[candidates]
    )
    kept = np.setdiff1d(np.arange(len(rows)), held)
    result = fit_classifier(config, rows.iloc[kept].reset_index(drop=True), dev)
    probs = result.classifier.predict_proba(rows["text"].iloc[held].astype(str).tolist())
    result.metrics["calibration_holdout_rows"] = float(len(held))
    return fit_calibrated(config, result, probs, rows["label"].iloc[held], started)


def fit_calibrated(config: Config, result: TrainResult, probs: np.ndarray, labels: pd.Series, started: float) -> TrainResult:
    """Wrap the fitted model with a calibrator (and the review band's thresholds) fitted on
    ``probs``, predictions for rows the predicting model did not train on, against their
    ``labels``."""
    from pipeline.calibration import fit_calibrator, precision_thresholds
    from pipeline.classifiers.calibrated import CalibratedClassifier

    truth = np.array([config.labels.index(label) for label in labels])
    fit = fit_calibrator(probs, truth, config.train.calibration.method, config.seed)
    thresholds = {}
    if config.evaluate.target_precision is not None:
        thresholds = precision_thresholds(fit.calibrator.apply(probs), truth, config.labels, config.evaluate.target_precision)
    metrics = {
        **result.metrics,
        "calibration_rows": float(len(truth)),
        "calibration_seconds": time.perf_counter() - started,
        "calibration_oof_ece_before": fit.ece_before,
        "calibration_oof_ece_after": fit.ece_after,
        "calibration_isotonic": float(fit.calibrator.method == "isotonic"),
        "calibration_temperature": fit.calibrator.temperature,
        **{f"calibration_heldout_ece_{name}": value for name, value in fit.held_out_ece.items()},
        **{f"calibration_heldout_macro_f1_{name}": value for name, value in fit.held_out_macro_f1.items()},
        **{f"review_threshold_{label}": value for label, value in thresholds.items()},
    }
    return TrainResult(CalibratedClassifier(result.classifier, fit.calibrator, thresholds), metrics)


def fit_target_aware(config: Config, rows: pd.DataFrame, dev: pd.DataFrame | None = None) -> TrainResult:
    """Fit as ``train.target_mode`` says: the configured kind alone (``none``), once per
    target (``per_target``) or once on joint target+text (``joint``); for the last two,
    rows and dev carry a ``target`` column."""
    from pipeline.classifiers.targeted import TARGET_COLUMN, JointTargetClassifier, PerTargetClassifier, joint_texts

    mode = config.train.target_mode
    if mode == "none":
        if config.train.calibration.method == "none":
            return fit_classifier(config, rows, dev)
        return fit_with_calibration(config, rows, dev)
    if mode == "joint":
        template = config.train.joint_template

        def as_joint(frame: pd.DataFrame) -> pd.DataFrame:
            return frame.assign(text=joint_texts(frame["text"].tolist(), frame[TARGET_COLUMN].tolist(), template))

        result = fit_classifier(config, as_joint(rows), None if dev is None else as_joint(dev))
        return TrainResult(JointTargetClassifier(config.labels, result.classifier, template), result.metrics)
    results, models = [], {}
    for target, group in rows.groupby(TARGET_COLUMN, sort=True):
        target_dev = None if dev is None else dev.loc[dev[TARGET_COLUMN] == target]
        try:
            result = fit_classifier(
                config, group.reset_index(drop=True), None if target_dev is None or target_dev.empty else target_dev
            )
        except InputError as exc:
            raise InputError(f"target {target!r}: {exc}") from None
        results.append(result)
        models[str(target)] = result.classifier
    metrics = {**_summed(results), "train_targets": float(len(models)), **source_metrics(rows)}
    return TrainResult(PerTargetClassifier(config.labels, models), metrics)
