"""The label stage: votes, aggregation, gold override, and the labeler's dev metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from pipeline.ingest import normalize_text
from pipeline.labeling.aggregate import aggregate
from pipeline.labeling.analysis import function_report
from pipeline.labeling.base import LabelingSuite


@dataclass(frozen=True)
class LabelResult:
    """What the label stage hands on: the labelled table, the votes, the analysis."""

    labeled: pd.DataFrame
    votes: pd.DataFrame
    report: pd.DataFrame
    metrics: dict[str, float]


def prob_columns(labels: Sequence[str]) -> list[str]:
    return [f"p_{label}" for label in labels]


def _predict(probs: np.ndarray, labels: Sequence[str], fallback: str) -> list[str]:
    covered = ~np.isnan(probs).any(axis=1)
    best = np.nan_to_num(probs, nan=-1.0).argmax(axis=1)
    return [labels[b] if c else fallback for b, c in zip(best, covered)]


def label_sentences(
    sentences: pd.DataFrame,
    suite: LabelingSuite,
    labels: Sequence[str],
    none_label: str,
    aggregator: str,
    priority: Sequence[str],
    *,
    gold_dev: pd.DataFrame | None = None,
    gold_overrides: bool = True,
    extra_votes: tuple[str, np.ndarray, np.ndarray] | None = None,
) -> LabelResult:
    """Label every sentence by its functions' aggregated votes; gold dev rows override.

    ``extra_votes`` is one more labeling function computed elsewhere (the embedding
    labeler): ``(name, votes on sentences, votes on gold dev)``. The labeler's dev metrics
    are computed on ``gold_dev`` with the same aggregator fitted jointly on corpus and dev
    votes (unsupervised, so the dev labels never leak into it).
    """
    names = suite.names
    function_labels = [lf.label for lf in suite.functions]
    corpus_votes = suite.vote_matrix(sentences["text"].tolist(), labels)
    dev_votes = suite.vote_matrix(gold_dev["text"].tolist(), labels) if gold_dev is not None else None
    if extra_votes is not None:
        extra_name, extra_corpus, extra_dev = extra_votes
        names = [*names, extra_name]
        function_labels = [*function_labels, "(any)"]
        corpus_votes = np.column_stack([corpus_votes, extra_corpus])
        if dev_votes is not None:
            dev_votes = np.column_stack([dev_votes, extra_dev])
    priority_idx = [labels.index(p) for p in priority]
    all_votes = corpus_votes if dev_votes is None else np.vstack([corpus_votes, dev_votes])
    all_probs = aggregate(all_votes, len(labels), aggregator, priority_idx)
    probs = all_probs[: len(sentences)]

    labeled = sentences.copy()
    covered = ~np.isnan(probs).any(axis=1)
    labeled["label"] = np.where(covered, _predict(probs, labels, none_label), "")
    labeled["label_source"] = np.where(covered, "weak", "unlabeled")
    for j, column in enumerate(prob_columns(labels)):
        labeled[column] = probs[:, j]
    labeled["confidence"] = np.nan_to_num(probs, nan=0.0).max(axis=1)

    metrics: dict[str, float] = {
        "labeler_coverage": float(covered.mean()) if len(covered) else 0.0,
        "labeler_sentences": float(len(labeled)),
    }
    report = function_report(corpus_votes, names, labels, function_labels)
    if gold_dev is not None and dev_votes is not None:
        dev_probs = all_probs[len(sentences) :]
        predicted = _predict(dev_probs, labels, none_label)
        gold = gold_dev["label"].tolist()
        metrics["labeler_dev_accuracy"] = float(accuracy_score(gold, predicted))
        metrics["labeler_dev_macro_f1"] = float(f1_score(gold, predicted, labels=list(labels), average="macro", zero_division=0))
        metrics["labeler_dev_coverage"] = float((~np.isnan(dev_probs).any(axis=1)).mean())
        gold_idx = np.array([labels.index(g) for g in gold])
        dev_report = function_report(dev_votes, names, labels, function_labels, gold=gold_idx)
        report = report.merge(
            dev_report[["function", "coverage", "votes", "correct", "accuracy"]].rename(
                columns={"coverage": "dev_coverage", "votes": "dev_votes", "correct": "dev_correct", "accuracy": "dev_accuracy"}
            ),
            on="function",
        )
        if gold_overrides:
            labeled = _override_with_gold(labeled, gold_dev, labels)
    votes_frame = pd.DataFrame(corpus_votes, columns=names)
    votes_frame.insert(0, "sentence_id", sentences["sentence_id"].to_numpy())
    metrics["labeler_gold_rows"] = float((labeled["label_source"] == "gold").sum())
    return LabelResult(labeled, votes_frame, report, metrics)


def _override_with_gold(labeled: pd.DataFrame, gold: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Replace weak labels by gold where (doc_id, normalized text) match; append gold rows
    that match no sentence (their article is not in the corpus) so none is lost."""
    key = labeled["doc_id"].astype(str) + "\x00" + labeled["text"].map(normalize_text)
    gold_key = gold["doc_id"].astype(str) + "\x00" + gold["text"].map(normalize_text)
    gold_by_key = dict(zip(gold_key, gold["label"]))
    matched = key.isin(gold_by_key)
    labeled = labeled.copy()
    labeled.loc[matched, "label"] = key[matched].map(gold_by_key)
    labeled.loc[matched, "label_source"] = "gold"
    extra = gold.loc[~gold_key.isin(set(key))].copy()
    if not extra.empty:
        extra = extra.assign(
            sentence_id=[f"{d}#gold{i:04d}" for i, d in enumerate(extra["doc_id"])],
            position=-1,
            char_start=-1,
            char_end=-1,
            label_source="gold",
        )
        for column in ("title", "date", "source"):
            extra[column] = extra[column] if column in extra.columns else ""
        labeled = pd.concat([labeled, extra[[c for c in labeled.columns if c in extra.columns]]], ignore_index=True)
    is_gold = labeled["label_source"] == "gold"
    for label, column in zip(labels, prob_columns(labels)):
        labeled.loc[is_gold, column] = (labeled.loc[is_gold, "label"] == label).astype(float)
    labeled.loc[is_gold, "confidence"] = 1.0
    return labeled
