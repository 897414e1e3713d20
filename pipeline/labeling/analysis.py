"""Per-function statistics over a vote matrix, Snorkel's LFAnalysis in a few lines."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.labeling.base import ABSTAIN


def function_report(
    votes: np.ndarray, names: Sequence[str], labels: Sequence[str], function_labels: Sequence[str], gold: np.ndarray | None = None
) -> pd.DataFrame:
    """One row per labeling function: its label, coverage, overlaps, conflicts and,
    where ``gold`` label indexes are given (same rows as ``votes``), accuracy.

    coverage: share of rows it votes on; overlaps: share where it and another function
    vote; conflicts: share where another function votes a different label.
    """
    fired = votes != ABSTAIN
    n = max(len(votes), 1)
    others_fired = fired.sum(axis=1, keepdims=True) - fired
    rows = []
    for j, name in enumerate(names):
        mine = fired[:, j]
        other_labels = np.where(fired & ~np.eye(len(names), dtype=bool)[j], votes, ABSTAIN)
        conflict = mine & ((other_labels != ABSTAIN) & (other_labels != votes[:, [j]])).any(axis=1)
        row = {
            "function": name,
            "label": function_labels[j],
            "coverage": mine.sum() / n,
            "overlaps": (mine & (others_fired[:, j] > 0)).sum() / n,
            "conflicts": conflict.sum() / n,
            "votes": int(mine.sum()),
        }
        if gold is not None:
            hits = mine & (votes[:, j] == gold)
            row["correct"] = int(hits.sum())
            row["accuracy"] = hits.sum() / mine.sum() if mine.any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
