"""The champion gate's policy, apart from any store: should a candidate become the
champion, and the sentence that says why. :func:`pipeline.tracking.register_and_gate`
applies it to the registry.

A test set of a few hundred sentences moves macro-F1 by a few points between samples, so a
higher point estimate alone is weak evidence. When the champion can be scored on the same
rows, the gate compares the two with a paired bootstrap: both models' predictions on the
same resampled rows, the share of resamples in which the candidate scores higher (its win
probability). It promotes when that share reaches ``min_win_probability``, or when the
candidate leads by at least ``min_margin`` on the full set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from pipeline.evaluate import accuracy_scores, mean_f1_scores, resample_draws

# The gate metrics a paired bootstrap can recompute from predictions: <set>_<metric>.
_PAIRED_METRIC = re.compile(r"^(?P<set>.+)_(?P<metric>macro_f1|accuracy|f_avg)$")


@dataclass(frozen=True)
class PairedComparison:
    """The candidate and the champion scored on the same rows, and how often the candidate
    wins over paired resamples of them."""

    candidate_score: float
    champion_score: float
    win_probability: float
    rows: int
    resamples: int


@dataclass(frozen=True)
class GateDecision:
    model_name: str
    version: str
    promoted: bool
    reason: str
    new_score: float
    champion_version: str | None
    champion_score: float | None
    win_probability: float | None = None

    def as_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


@dataclass(frozen=True)
class GatePolicy:
    min_win_probability: float = 0.9
    min_margin: float | None = None  # a lead this large on the full set promotes whatever the bootstrap says


def paired_metric(gate_metric: str, set_names: Sequence[str]) -> tuple[str, str] | None:
    """``(set name, metric)`` when ``gate_metric`` is one the bootstrap can recompute on one
    of ``set_names`` (the longest set name that prefixes it), else None."""
    match = _PAIRED_METRIC.match(gate_metric)
    if not match:
        return None
    for name in sorted(set_names, key=len, reverse=True):
        if match.group("set") == name:
            return name, match.group("metric")
    return None


def metric_scores(metric: str, labels: Sequence[str], f_avg_labels: Sequence[str]) -> Callable[..., np.ndarray]:
    """``scores(y_true, y_pred, draws)`` of ``metric`` on each resample."""
    if metric == "accuracy":
        return accuracy_scores
    averaged = list(f_avg_labels) if metric == "f_avg" else list(labels)
    return lambda y_true, y_pred, draws: mean_f1_scores(y_true, y_pred, averaged, draws)


def paired_comparison(
    y_true: Sequence[str],
    candidate: Sequence[str],
    champion: Sequence[str],
    scores: Callable[..., np.ndarray],
    resamples: int = 1000,
    seed: int = 0,
) -> PairedComparison:
    """Both models' scores on the full set, and the share of ``resamples`` paired
    resamples (the same rows for both) in which the candidate scores strictly higher."""
    if not len(y_true) == len(candidate) == len(champion):
        raise ValueError("paired comparison needs both models' predictions on the same rows")
    everything = np.arange(len(y_true))[None, :]
    draws = resample_draws(len(y_true), resamples, seed)
    wins = scores(y_true, candidate, draws) > scores(y_true, champion, draws)
    return PairedComparison(
        float(scores(y_true, candidate, everything)[0]),
        float(scores(y_true, champion, everything)[0]),
        float(wins.mean()),
        len(y_true),
        resamples,
    )


def should_promote(new_score: float, champion_score: float | None) -> bool:
    """Without a paired comparison: promote when there is no champion, or the candidate is
    strictly better (a champion without a score for the gate metric counts as -inf)."""
    return champion_score is None or new_score > champion_score


def promotes(paired: PairedComparison, policy: GatePolicy) -> bool:
    margin = paired.candidate_score - paired.champion_score
    return paired.win_probability >= policy.min_win_probability or (policy.min_margin is not None and margin >= policy.min_margin)


def promotes_candidate(
    new_score: float,
    champion_version: str | None,
    champion_score: float | None,
    paired: PairedComparison | None = None,
    policy: GatePolicy = GatePolicy(),
) -> bool:
    """Whether the candidate takes the alias: always when there is no champion; else by the
    paired bootstrap (``policy``) when there is one, by the stored scores when not."""
    if champion_version is None:
        return True
    return promotes(paired, policy) if paired is not None else should_promote(new_score, champion_score)


def decide(
    model_name: str,
    version: str,
    alias: str,
    gate_metric: str,
    new_score: float,
    champion_version: str | None,
    champion_score: float | None,
    paired: PairedComparison | None = None,
    policy: GatePolicy = GatePolicy(),
) -> GateDecision:
    """The decision for ``version`` against the version holding ``alias`` (None: no
    champion). With ``paired``, the champion's score is its score on the candidate's rows and
    the bootstrap decides; without, the stored scores are compared."""
    if champion_version is None:
        reason = f"no {alias} yet: version {version} becomes {alias} ({gate_metric}={new_score:.4f})"
        return GateDecision(model_name, str(version), True, reason, new_score, None, None)
    promoted = promotes_candidate(new_score, champion_version, champion_score, paired, policy)
    verb = "beats" if promoted else "does not beat"
    if paired is None:
        reason = (
            f"version {version} {verb} {alias} version {champion_version} on {gate_metric}: "
            f"{new_score:.4f} vs {champion_score:.4f}"
        )
        return GateDecision(model_name, str(version), promoted, reason, new_score, champion_version, champion_score)
    rule = f"needs {policy.min_win_probability:.0%}"
    if policy.min_margin is not None:
        rule += f" or a lead of {policy.min_margin:.4f}"
    reason = (
        f"version {version} {verb} {alias} version {champion_version} on {gate_metric}: "
        f"{paired.candidate_score:.4f} vs {paired.champion_score:.4f} on the same {paired.rows} rows, "
        f"higher in {paired.win_probability:.1%} of {paired.resamples} paired resamples ({rule})"
    )
    return GateDecision(
        model_name,
        str(version),
        promoted,
        reason,
        paired.candidate_score,
        champion_version,
        paired.champion_score,
        paired.win_probability,
    )
