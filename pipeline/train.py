"""Train stage: choose the training rows, build the configured classifier, fit it."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.classifiers.base import StanceClassifier
from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest import normalize_text


def training_rows(labeled: pd.DataFrame, gold_test: pd.DataFrame | None, include_gold_dev: bool) -> pd.DataFrame:
    """Labelled sentences fit to train on.

    Drops unlabelled rows, every sentence of an article that holds a gold-test sentence
    (test articles are never seen in training) and any sentence whose normalized text
    equals a gold-test sentence (the same line quoted in another story). Gold-dev rows
    stay only when ``include_gold_dev``.
    """
    rows = labeled.loc[labeled["label"].astype(str) != ""]
    if gold_test is not None:
        test_docs = set(gold_test["doc_id"].astype(str))
        test_texts = set(gold_test["text"].map(normalize_text))
        rows = rows.loc[~rows["doc_id"].astype(str).isin(test_docs) & ~rows["text"].map(normalize_text).isin(test_texts)]
    if not include_gold_dev:
        rows = rows.loc[rows["label_source"] != "gold"]
    return rows.reset_index(drop=True)


def load_extra_gold(config: Config) -> dict[str, pd.DataFrame]:
    """The ``train.extra_gold`` files by path, each read and checked like a gold file; with a
    target-aware model each must also have a ``target`` column."""
    from pipeline.labeling.gold import load_gold

    extra = {str(config.path(path)): load_gold(config.path(path), config.labels) for path in config.train.extra_gold}
    if config.train.target_aware:
        for source, gold in extra.items():
            require_target_column(source, gold)
    return extra


def require_target_column(source: str, gold: pd.DataFrame) -> None:
    if "target" not in gold.columns:
        raise InputError(f"{source}: no 'target' column; train.target_mode is target-aware, so every "
                         "train.extra_gold row needs the target its label is about")


def add_extra_gold(rows: pd.DataFrame, extra: dict[str, pd.DataFrame], gold_test: pd.DataFrame | None,
                   target_aware: bool = False) -> pd.DataFrame:
    """Append gold sentences from other sets (``extra``: frames by source path; confidence 1).

    A sentence equal to a gold-test sentence is dropped (no leak), and so is one already in
    ``rows`` or an earlier extra set (nothing counted twice). ``target_aware``: the rows carry
    a ``target`` the model reads, so each extra set must have a ``target`` column too, and a
    sentence is "already there" only under the same target.
    """
    def keys(frame: pd.DataFrame) -> pd.Series:
        text = frame["text"].map(normalize_text)
        return text + "\x1f" + frame["target"].astype(str) if target_aware else text

    test_texts = set(gold_test["text"].map(normalize_text)) if gold_test is not None else set()
    seen = set(keys(rows))
    columns = ["doc_id", "text", "label", "label_source", "confidence", *(["target"] if target_aware else [])]
    frames = [rows]
    for source, gold in extra.items():
        if target_aware:
            require_target_column(source, gold)
        gold_keys = keys(gold)
        keep = ~gold["text"].map(normalize_text).isin(test_texts) & ~gold_keys.isin(seen)
        seen |= set(gold_keys[keep])
        frames.append(gold.loc[keep].assign(label_source="gold", confidence=1.0)[columns])
    return pd.concat(frames, ignore_index=True)


def build_classifier(config: Config) -> StanceClassifier:
    """A fresh, unfitted classifier of the configured kind."""
    if config.train.model == "tfidf_logreg":
        from pipeline.classifiers.tfidf import TfidfLogreg

        return TfidfLogreg(config.labels, config.train.tfidf_logreg, config.seed)
    if config.train.model == "embed_logreg":
        from pipeline.classifiers.embed_logreg import EmbedLogreg

        return EmbedLogreg(config.labels, config.train.embed_logreg, config.seed)
    if config.train.model == "finetune":
        from pipeline.classifiers.finetune import FinetuneClassifier

        return FinetuneClassifier(config.labels, config.train.finetune, config.seed)
    if config.train.model == "ensemble":
        from pipeline.classifiers.ensemble import EnsembleClassifier

        settings = config.train.ensemble
        members = [build_classifier(config.model_copy(update={"train": config.train.model_copy(update={"model": kind})}))
                   for kind in settings.members]
        return EnsembleClassifier(config.labels, members, settings.normalized_weights())
    raise InputError(f"train.model: unknown model {config.train.model!r}")


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
    weights = rows["confidence"].astype(float).clip(lower=0.05).to_numpy() if "confidence" in rows else None
    classifier = build_classifier(config)
    started = time.perf_counter()
    soft = {"probabilities": label_probabilities(rows, config.labels)} if getattr(classifier, "accepts_probabilities", False) else {}
    classifier.fit(rows["text"].tolist(), rows["label"].tolist(), weights=weights, dev=dev, **soft)
    seconds = time.perf_counter() - started
    metrics = {"train_seconds": seconds, "train_rows": float(len(rows)),
               "train_gold_rows": float((rows.get("label_source") == "gold").sum()) if "label_source" in rows else 0.0}
    for label in config.labels:
        metrics[f"train_rows_{label}"] = float((rows["label"] == label).sum())
    return TrainResult(classifier, metrics)


def class_balance(rows: pd.DataFrame, labels: list[str]) -> np.ndarray:
    return np.array([(rows["label"] == label).mean() for label in labels])
