"""Evaluate stage: metrics, per-class report, confusion matrix, calibration, errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float]
    report: pd.DataFrame
    confusion: np.ndarray
    predictions: pd.DataFrame
    calibration: pd.DataFrame
    calibration_uncalibrated: pd.DataFrame | None = None  # a calibrated model's own bins, before its calibrator

    @property
    def misclassified(self) -> pd.DataFrame:
        return self.predictions.loc[self.predictions["label"] != self.predictions["stance"]]


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int) -> tuple[float, pd.DataFrame]:
    """ECE over equal-width confidence bins, with the per-bin table for the reliability plot."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        mask = which == b
        if not mask.any():
            continue
        conf, acc = float(confidence[mask].mean()), float(correct[mask].mean())
        ece += mask.mean() * abs(acc - conf)
        rows.append(
            {"bin_low": edges[b], "bin_high": edges[b + 1], "count": int(mask.sum()), "mean_confidence": conf, "accuracy": acc}
        )
    return float(ece), pd.DataFrame(rows)


def f_avg(y_true: Sequence[str], y_pred: Sequence[str], averaged: Sequence[str]) -> float:
    """The SemEval-2016 Task 6 metric: the mean F1 of the ``averaged`` labels (FAVOR, AGAINST),
    counts pooled over all rows; other labels are not averaged in, but their errors count."""
    return float(np.mean(f1_score(list(y_true), list(y_pred), labels=list(averaged), average=None, zero_division=0)))


def resample_draws(rows: int, resamples: int, seed: int) -> np.ndarray:
    """Row indices drawn with replacement: one line of ``rows`` indices per resample."""
    return np.random.default_rng(seed).integers(0, rows, size=(resamples, rows))


def mean_f1_scores(y_true: Sequence[str], y_pred: Sequence[str], averaged: Sequence[str], draws: np.ndarray) -> np.ndarray:
    """The mean F1 of the ``averaged`` labels on each resample of ``draws`` (what
    ``f1_score(labels=averaged, average='macro', zero_division=0)`` gives on those rows)."""
    y_true, y_pred = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    scores = np.zeros(len(draws))
    for label in averaged:
        hit, said, truth = (y_true == label) & (y_pred == label), y_pred == label, y_true == label
        tp = hit[draws].sum(axis=1)
        denominator = said[draws].sum(axis=1) + truth[draws].sum(axis=1)  # 2tp + fp + fn
        scores += np.divide(2 * tp, denominator, out=np.zeros(len(draws)), where=denominator > 0)
    return scores / len(averaged)


def accuracy_scores(y_true: Sequence[str], y_pred: Sequence[str], draws: np.ndarray) -> np.ndarray:
    """Accuracy on each resample of ``draws``."""
    correct = np.asarray(y_true, dtype=object) == np.asarray(y_pred, dtype=object)
    return correct[draws].mean(axis=1)


def mean_f1_interval(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    averaged: Sequence[str],
    resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """A percentile bootstrap interval of the mean F1 of the ``averaged`` labels (macro-F1
    when they are all the labels, :func:`f_avg` when FAVOR and AGAINST): rows drawn with
    replacement ``resamples`` times; how far the score could move on another test sample
    of this size."""
    scores = mean_f1_scores(y_true, y_pred, averaged, resample_draws(len(y_true), resamples, seed))
    tail = (1 - level) / 2
    return float(np.quantile(scores, tail)), float(np.quantile(scores, 1 - tail))


def target_slug(target: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(target).casefold()).strip("_")


def f_avg_metrics(gold: pd.DataFrame, y_pred: Sequence[str], averaged: Sequence[str], prefix: str) -> dict[str, float]:
    """``{prefix}_f_avg`` pooled over all rows; with a ``target`` column also
    ``{prefix}_f_avg_target_<target>`` per target and their mean ``{prefix}_f_avg_targets_mean``
    (the multi-target convention: F_avg per target, then averaged over targets)."""
    y_true = gold["label"].astype(str).to_numpy()
    y_pred = np.asarray(y_pred, dtype=object)
    metrics = {f"{prefix}_f_avg": f_avg(y_true, y_pred, averaged)}
    if "target" in gold.columns:
        targets = gold["target"].astype(str).to_numpy()
        per_target = [f_avg(y_true[targets == t], y_pred[targets == t], averaged) for t in sorted(set(targets))]
        metrics.update({f"{prefix}_f_avg_target_{target_slug(t)}": v for t, v in zip(sorted(set(targets)), per_target)})
        metrics[f"{prefix}_f_avg_targets_mean"] = float(np.mean(per_target))
    return metrics


def evaluate_predictions(
    gold: pd.DataFrame,
    predicted: pd.DataFrame,
    labels: Sequence[str],
    prefix: str = "test",
    *,
    calibration_bins: int = 10,
    f_avg_labels: Sequence[str] = (),
    resamples: int = 0,
    seed: int = 0,
    none_label: str | None = None,
) -> Evaluation:
    """Compare predictions (``stance``, ``confidence``, ``p_<label>``) with gold ``label``.

    Metric names: ``{prefix}_macro_f1``, ``{prefix}_accuracy``, ``{prefix}_f1_<label>``,
    ``{prefix}_precision_<label>``, ``{prefix}_recall_<label>``, ``{prefix}_ece``, ``{prefix}_rows``,
    and with ``f_avg_labels`` those of :func:`f_avg_metrics`. With ``resamples``, the 95%
    bootstrap interval of macro-F1 (and F_avg) as ``{prefix}_macro_f1_ci_low`` / ``_ci_high``
    (``{prefix}_f_avg_ci_low`` / ``_ci_high``). With ``none_label``, stance detection as a
    yes/no question: ``{prefix}_stance_recall`` (gold stance rows given any stance) and
    ``{prefix}_stance_precision`` (rows given a stance that have one).
    """
    y_true = gold["label"].astype(str).tolist()
    y_pred = predicted["stance"].astype(str).tolist()
    labels = list(labels)
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    metrics = {
        f"{prefix}_macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        f"{prefix}_accuracy": float(accuracy_score(y_true, y_pred)),
        f"{prefix}_rows": float(len(y_true)),
    }
    for j, label in enumerate(labels):
        metrics[f"{prefix}_f1_{label}"] = float(f1[j])
        metrics[f"{prefix}_precision_{label}"] = float(precision[j])
        metrics[f"{prefix}_recall_{label}"] = float(recall[j])
    if f_avg_labels:
        metrics.update(f_avg_metrics(gold, y_pred, f_avg_labels, prefix))
    if none_label is not None:
        is_stance, said_stance = np.array(y_true) != none_label, np.array(y_pred) != none_label
        metrics[f"{prefix}_stance_recall"] = float(said_stance[is_stance].mean()) if is_stance.any() else 0.0
        metrics[f"{prefix}_stance_precision"] = float(is_stance[said_stance].mean()) if said_stance.any() else 0.0
    if resamples:
        for name, averaged in (("macro_f1", labels), ("f_avg", list(f_avg_labels))):
            if averaged:
                low, high = mean_f1_interval(y_true, y_pred, averaged, resamples, seed)
                metrics.update({f"{prefix}_{name}_ci_low": low, f"{prefix}_{name}_ci_high": high})
    metrics.update(ranking_metrics(y_true, predicted, labels, prefix))
    if "review" in predicted.columns:
        metrics.update(review_metrics(y_true, y_pred, predicted["review"].astype(str).to_numpy(), prefix, none_label))
    confidence = predicted["confidence"].to_numpy(dtype=float)
    correct = np.array(y_true) == np.array(y_pred)
    metrics[f"{prefix}_ece"], calibration = expected_calibration_error(confidence, correct, calibration_bins)
    report = pd.DataFrame({"label": labels, "precision": precision, "recall": recall, "f1": f1, "support": support})
    report.loc[len(report)] = ["macro avg", precision.mean(), recall.mean(), f1.mean(), support.sum()]
    rows = gold.reset_index(drop=True)[[c for c in ("doc_id", "target", "text", "label") if c in gold.columns]]
    predictions = pd.concat([rows, predicted.reset_index(drop=True)], axis=1)
    return Evaluation(metrics, report, confusion_matrix(y_true, y_pred, labels=labels), predictions, calibration)


def ranking_metrics(y_true: Sequence[str], predicted: pd.DataFrame, labels: Sequence[str], prefix: str) -> dict[str, float]:
    """``{prefix}_average_precision_<label>``: the area under each label's precision-recall
    curve, ranking every row by ``p_<label>`` (a label absent from the gold rows is left out)."""
    from sklearn.metrics import average_precision_score

    truth = np.asarray(y_true, dtype=object)
    metrics = {}
    for label in labels:
        column = f"p_{label}"
        if column in predicted.columns and (truth == label).any():
            metrics[f"{prefix}_average_precision_{label}"] = float(
                average_precision_score(truth == label, predicted[column].to_numpy(dtype=float))
            )
    return metrics


def review_metrics(
    y_true: Sequence[str], y_pred: Sequence[str], review: np.ndarray, prefix: str, none_label: str | None
) -> dict[str, float]:
    """The review band on labelled rows: ``{prefix}_review_share`` (rows an analyst must
    read) and, with ``none_label``, ``{prefix}_accepted_stance_recall`` (gold stance rows
    given a stance and accepted) and ``{prefix}_accepted_stance_precision``."""
    accepted = review == "accept"
    metrics = {f"{prefix}_review_share": float((~accepted).mean()) if len(review) else 0.0}
    if none_label is not None:
        is_stance, said = np.asarray(y_true) != none_label, np.asarray(y_pred) != none_label
        taken = said & accepted
        metrics[f"{prefix}_accepted_stance_recall"] = float(taken[is_stance].mean()) if is_stance.any() else 0.0
        metrics[f"{prefix}_accepted_stance_precision"] = float(is_stance[taken].mean()) if taken.any() else 0.0
    return metrics


def plot_precision_recall(predictions: pd.DataFrame, labels: Sequence[str], path: Path, title: str) -> Path:
    """One precision-recall curve per label (rows ranked by ``p_<label>``), its AP in the legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig, ax = plt.subplots(figsize=(5.0, 4.5))
    truth = predictions["label"].astype(str).to_numpy()
    for label in labels:
        if (truth == label).any() and f"p_{label}" in predictions.columns:
            scores = predictions[f"p_{label}"].to_numpy(dtype=float)
            precision, recall, _ = precision_recall_curve(truth == label, scores)
            ax.plot(recall, precision, label=f"{label} (AP {average_precision_score(truth == label, scores):.2f})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_confusion(confusion: np.ndarray, labels: Sequence[str], path: Path, title: str) -> Path:
    """Save the confusion matrix as a PNG (rows: gold, columns: predicted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.imshow(confusion, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    peak = confusion.max() if confusion.size else 0
    for i in range(confusion.shape[0]):
        for j in range(confusion.shape[1]):
            ax.text(
                j, i, str(confusion[i, j]), ha="center", va="center", color="white" if confusion[i, j] > peak / 2 else "black"
            )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_calibration(calibration: pd.DataFrame, path: Path, title: str) -> Path:
    """Reliability diagram: accuracy against mean confidence per bin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    if not calibration.empty:
        ax.plot(calibration["mean_confidence"], calibration["accuracy"], marker="o", label="model")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
