"""Closing the loop: pick the sentences worth a human label, and merge them back as gold.

``stance suggest`` ranks sentences where labeling functions disagree first, then those
the model (or, before any model exists, the labeler) is least sure about. The exported
file has an empty ``label`` column; once filled, ``stance label --gold FILE`` merges the
labelled rows into the gold dev set and relabels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.errors import InputError
from pipeline.ingest import normalize_text
from pipeline.labeling.base import ABSTAIN
from pipeline.labeling.gold import sentence_sha1

SUGGEST_COLUMNS = [
    "sentence_id",
    "doc_id",
    "char_start",
    "char_end",
    "text",
    "weak_label",
    "weak_confidence",
    "model_stance",
    "model_confidence",
    "votes",
    "reason",
    "label",
]


def describe_votes(row: np.ndarray, names: Sequence[str], labels: Sequence[str]) -> str:
    return "; ".join(f"{names[j]}={labels[v]}" for j, v in enumerate(row) if v != ABSTAIN)


def rank_for_labeling(
    labeled: pd.DataFrame,
    votes: np.ndarray,
    names: Sequence[str],
    labels: Sequence[str],
    n: int,
    model_probs: np.ndarray | None = None,
) -> pd.DataFrame:
    """The ``n`` most useful sentences to label: conflicts first, then the least sure.

    ``labeled`` and ``votes`` are row-aligned candidates (gold and test-article rows
    already removed); ``model_probs`` (same rows, ``labels`` order) replaces the
    labeler's probabilities as the measure of doubt when a trained model exists.
    """
    distinct = np.array([len({v for v in row if v != ABSTAIN}) for row in votes])
    probs = model_probs if model_probs is not None else labeled[[f"p_{l}" for l in labels]].to_numpy(dtype=float)
    ordered = -np.sort(-np.nan_to_num(probs, nan=1.0 / len(labels)), axis=1)
    doubt = 1.0 - (ordered[:, 0] - ordered[:, 1])  # small top-two margin = unsure
    frame = labeled.reset_index(drop=True).copy()
    frame["_conflict"] = distinct >= 2
    frame["_doubt"] = doubt
    frame["votes"] = [describe_votes(row, names, labels) for row in votes]
    frame["reason"] = np.where(
        frame["_conflict"], "functions disagree", "model unsure" if model_probs is not None else "labeler unsure"
    )
    frame["weak_label"] = frame["label"]
    frame["weak_confidence"] = frame["confidence"]
    if model_probs is not None:
        frame["model_stance"] = [labels[i] for i in model_probs.argmax(axis=1)]
        frame["model_confidence"] = model_probs.max(axis=1)
    else:
        frame["model_stance"], frame["model_confidence"] = "", np.nan
    frame = frame.sort_values(["_conflict", "_doubt", "sentence_id"], ascending=[False, False, True], kind="mergesort")
    frame["label"] = ""
    return frame.head(n)[SUGGEST_COLUMNS].reset_index(drop=True)


def rank_confident_misses(
    candidates: pd.DataFrame,
    model_probs: np.ndarray,
    labels: Sequence[str],
    none_label: str,
    candidate_vectors: np.ndarray,
    known_vectors: np.ndarray,
    known_texts: Sequence[str],
    n: int,
    min_none_confidence: float,
) -> pd.DataFrame:
    """The ``n`` candidates the model calls ``none_label`` with at least ``min_none_confidence``
    that sit nearest (cosine of unit vectors) to a known stance sentence: the confident misses
    that uncertainty sampling never shows. Adds ``similar_to`` and ``similarity``."""
    none_index = list(labels).index(none_label)
    known_keys = {normalize_text(t) for t in known_texts}
    similarity = candidate_vectors @ known_vectors.T
    nearest = similarity.argmax(axis=1)
    frame = candidates.reset_index(drop=True).copy()
    frame["similarity"] = similarity[np.arange(len(frame)), nearest]
    frame["similar_to"] = [known_texts[j] for j in nearest]
    frame["model_stance"] = [labels[i] for i in model_probs.argmax(axis=1)]
    frame["model_confidence"] = model_probs.max(axis=1)
    confident_none = (model_probs.argmax(axis=1) == none_index) & (model_probs[:, none_index] >= min_none_confidence)
    unseen = ~frame["text"].map(normalize_text).isin(known_keys)
    frame = frame.loc[confident_none & unseen.to_numpy()]
    frame = frame.sort_values(["similarity", "sentence_id"], ascending=[False, True], kind="mergesort")
    frame["reason"] = [f"model says {none_label} ({p:.2f}) near a known stance sentence" for p in frame["model_confidence"]]
    frame["weak_label"], frame["weak_confidence"] = frame["label"], frame["confidence"]
    frame["votes"], frame["label"] = "", ""
    return frame.head(n)[[*SUGGEST_COLUMNS, "similar_to", "similarity"]].reset_index(drop=True)


def read_filled(path: Path, labels: Sequence[str]) -> pd.DataFrame:
    """The rows of a filled-in suggestion file that carry a label (others are skipped): a
    table with a ``label`` column, or a Label Studio JSON export (``.json``)."""
    from pipeline.io import read_table

    if path.suffix.lower() == ".json":
        from pipeline.labeling.label_studio import read_export

        return read_export(path, labels)

    frame = read_table(path).reset_index(drop=True)
    missing = [c for c in ("doc_id", "text", "label") if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (expected a file from `stance suggest`)")
    frame["label"] = frame["label"].fillna("").astype(str).str.strip()
    for i, label in frame["label"].items():
        if label and label not in labels:
            raise InputError(f"{path} row {i + 2}: label {label!r} is not one of {', '.join(labels)}")
    filled = frame.loc[frame["label"] != ""]
    if filled.empty:
        raise InputError(f"{path}: no row has a label yet (fill in the 'label' column)")
    return filled


def merge_into_gold(gold: pd.DataFrame, filled: pd.DataFrame, test_docs: set[str], path: Path) -> tuple[pd.DataFrame, int, int]:
    """Add filled rows to a gold sentence table; a re-labelled sentence takes the new label.

    Returns the new table and the counts of added and updated rows. Rows from gold-test
    articles are refused: they would leak the test set into training.
    """
    for i, row in filled.iterrows():
        if str(row["doc_id"]) in test_docs:
            raise InputError(
                f"{path} row {i + 2}: document {row['doc_id']!r} is a gold-test article; "
                "its sentences cannot become training gold"
            )
    key = gold["doc_id"].astype(str) + "\x00" + gold["text"].map(normalize_text)
    merged = gold.copy()
    added = updated = 0
    for _, row in filled.iterrows():
        row_key = str(row["doc_id"]) + "\x00" + normalize_text(str(row["text"]))
        hit = key == row_key
        if hit.any():
            if (merged.loc[hit, "label"] != row["label"]).any():
                merged.loc[hit, "label"] = row["label"]
                updated += 1
            continue
        new = {column: "" for column in merged.columns}
        new.update({"doc_id": row["doc_id"], "text": row["text"], "label": row["label"]})
        if "note" in merged.columns:
            new["note"] = "added by stance suggest"
        if "file" in merged.columns:  # a reference file: offsets instead of text
            new.update(
                {
                    "file": f"{row['doc_id']}.txt",
                    "char_start": int(row["char_start"]),
                    "char_end": int(row["char_end"]),
                    "sha1": sentence_sha1(str(row["text"])),
                    "split": "dev",
                }
            )
        merged = pd.concat([merged, pd.DataFrame([new])], ignore_index=True)
        key = pd.concat([key, pd.Series([row_key])], ignore_index=True)
        added += 1
    return merged, added, updated
