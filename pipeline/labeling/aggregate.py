"""Combining labeling-function votes into one (soft) label per sentence.

Two aggregators, chosen in config (``label.aggregator``):

* ``majority``: the share of votes per label; ties go to the label listed first in the
  priority order (the guideline's "condition beats openness" puts ``conditional`` first).
* ``label_model``: a Dawid-Skene model fitted by EM without labels: each function gets a
  per-class vote distribution (abstaining included), so functions that are often right
  weigh more and a function's silence is evidence too.

Both return an ``(n, k)`` probability matrix; rows with no vote are all-NaN.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from pipeline.labeling.base import ABSTAIN


def vote_counts(votes: np.ndarray, n_labels: int) -> np.ndarray:
    """``(n, k)`` counts of each label among the non-abstaining votes of each row."""
    counts = np.zeros((votes.shape[0], n_labels))
    for label in range(n_labels):
        counts[:, label] = (votes == label).sum(axis=1)
    return counts


def majority_vote(votes: np.ndarray, n_labels: int, priority: Sequence[int]) -> np.ndarray:
    """Vote shares, with a small tie-break bonus in ``priority`` order (first wins)."""
    counts = vote_counts(votes, n_labels)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        probs = counts / totals
    bonus = np.zeros(n_labels)
    for rank, label in enumerate(priority):
        bonus[label] = 1e-6 * (len(priority) - rank)
    tied = (probs == probs.max(axis=1, keepdims=True)) & (counts > 0)
    probs = probs + np.where(tied, bonus, 0.0)
    return probs / probs.sum(axis=1, keepdims=True)


def dawid_skene(votes: np.ndarray, n_labels: int, priority: Sequence[int], n_iter: int = 100,
                smoothing: float = 1.0, tol: float = 1e-6) -> np.ndarray:
    """Posterior class probabilities under a Dawid-Skene model fitted by EM.

    Initialised from the majority vote; Laplace ``smoothing`` keeps rare votes from
    getting probability zero. Deterministic: no random initialisation.
    """
    n, m = votes.shape
    covered = (votes != ABSTAIN).any(axis=1)
    posterior = np.full((n, n_labels), np.nan)
    if not covered.any():
        return posterior
    observed = votes[covered]
    # one-hot of each function's outcome: k labels + abstain (index n_labels)
    outcome = np.where(observed == ABSTAIN, n_labels, observed)
    onehot = np.eye(n_labels + 1)[outcome]  # (n', m, k+1)
    q = majority_vote(observed, n_labels, priority)
    previous = None
    for _ in range(n_iter):
        prior = (q.sum(axis=0) + smoothing) / (q.sum() + smoothing * n_labels)
        # confusion[j, y, o] = P(function j gives outcome o | true class y)
        confusion = np.einsum("iy,ijo->jyo", q, onehot) + smoothing
        confusion /= confusion.sum(axis=2, keepdims=True)
        log_q = np.log(prior)[None, :] + np.einsum("ijo,jyo->iy", onehot, np.log(confusion))
        log_q -= log_q.max(axis=1, keepdims=True)
        q = np.exp(log_q)
        q /= q.sum(axis=1, keepdims=True)
        if previous is not None and np.abs(q - previous).max() < tol:
            break
        previous = q
    posterior[covered] = q
    return posterior


def aggregate(votes: np.ndarray, n_labels: int, method: str, priority: Sequence[int]) -> np.ndarray:
    """Dispatch on the configured aggregator name."""
    if method == "majority":
        return majority_vote(votes, n_labels, priority)
    if method == "label_model":
        return dawid_skene(votes, n_labels, priority)
    raise ValueError(f"unknown aggregator {method!r}")
