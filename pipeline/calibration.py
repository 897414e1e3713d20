"""Calibrated probabilities and per-class thresholds, fitted on predictions the model made
for rows it did not train on.

- **Temperature scaling** divides the log-probabilities by one fitted T and renormalises:
  the argmax, and so every accuracy and F1, is unchanged; only the confidence moves.
- **Isotonic** fits a monotone map per class (one against the rest) and renormalises; it
  can fix more than a single T can, and can move a few argmaxes.
- **auto** picks the one with the lower expected calibration error, each measured on the
  half of the rows it was not fitted on (two-fold, both ways).

:func:`precision_thresholds` then chooses, per label, the lowest probability at which the
label's predictions reach a target precision: the review band of ``stance score``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np

from pipeline.evaluate import expected_calibration_error

Method = Literal["temperature", "isotonic"]
ECE_BINS = 10
EPS = 1e-12


def _normalised(probs: np.ndarray) -> np.ndarray:
    sums = probs.sum(axis=1, keepdims=True)
    uniform = np.full_like(probs, 1.0 / probs.shape[1])
    return np.where(sums > 0, probs / np.where(sums > 0, sums, 1.0), uniform)


@dataclass
class Calibrator:
    """Maps a model's probabilities to calibrated ones (same label order)."""

    method: Method
    temperature: float = 1.0
    isotonic: list[tuple[list[float], list[float]]] = field(default_factory=list)  # per label: (x, y) knots

    def apply(self, probs: np.ndarray) -> np.ndarray:
        probs = np.asarray(probs, dtype=float)
        if self.method == "temperature":
            logits = np.log(np.clip(probs, EPS, 1.0)) / self.temperature
            logits -= logits.max(axis=1, keepdims=True)
            return _normalised(np.exp(logits))
        columns = [np.interp(probs[:, j], x, y) if x else probs[:, j] for j, (x, y) in enumerate(self.isotonic)]
        return _normalised(np.column_stack(columns))

    def as_dict(self) -> dict[str, object]:
        return {"method": self.method, "temperature": self.temperature, "isotonic": self.isotonic}

    @classmethod
    def from_dict(cls, data: dict) -> "Calibrator":
        return cls(data["method"], float(data.get("temperature", 1.0)), [(list(x), list(y)) for x, y in data.get("isotonic", [])])


def fit_temperature(probs: np.ndarray, truth: np.ndarray) -> Calibrator:
    """The T in [0.05, 20] that minimises the log-loss of the true labels."""
    from scipy.optimize import minimize_scalar

    log_probs = np.log(np.clip(probs, EPS, 1.0))

    def loss(t: float) -> float:
        logits = log_probs / t
        logits -= logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(axis=1))
        return float(-(logits[np.arange(len(truth)), truth] - log_norm).mean())

    best = minimize_scalar(loss, bounds=(0.05, 20.0), method="bounded", options={"xatol": 1e-4})
    return Calibrator("temperature", temperature=float(best.x))


def fit_isotonic(probs: np.ndarray, truth: np.ndarray) -> Calibrator:
    from sklearn.isotonic import IsotonicRegression

    knots = []
    for j in range(probs.shape[1]):
        target = (truth == j).astype(float)
        if target.min() == target.max():  # a label absent (or alone) here: leave its column as it is
            knots.append(([], []))
            continue
        model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(probs[:, j], target)
        knots.append(([float(v) for v in model.X_thresholds_], [float(v) for v in model.y_thresholds_]))
    return Calibrator("isotonic", isotonic=knots)


FITTERS = {"temperature": fit_temperature, "isotonic": fit_isotonic}


def ece(probs: np.ndarray, truth: np.ndarray) -> float:
    return expected_calibration_error(probs.max(axis=1), probs.argmax(axis=1) == truth, ECE_BINS)[0]


def _halves(n: int, seed: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Two seeded halves of ``n`` rows, each as (fit rows, test rows)."""
    order = np.random.default_rng(seed).permutation(n)
    first, second = order[: n // 2], order[n // 2 :]
    return (first, second), (second, first)


def held_out_ece(method: Method, probs: np.ndarray, truth: np.ndarray, seed: int) -> float:
    """The method's ECE on each half of the rows when fitted on the other half, averaged."""
    scores = []
    for fit_rows, test_rows in _halves(len(truth), seed):
        calibrator = FITTERS[method](probs[fit_rows], truth[fit_rows])
        scores.append(ece(calibrator.apply(probs[test_rows]), truth[test_rows]))
    return float(np.mean(scores))


def macro_f1(probs: np.ndarray, truth: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    labels = list(range(probs.shape[1]))
    return float(f1_score(truth, probs.argmax(axis=1), labels=labels, average="macro", zero_division=0))


def held_out_macro_f1(method: Method | None, probs: np.ndarray, truth: np.ndarray, seed: int) -> float:
    """Macro-F1 of the method's decisions on each half when fitted on the other, averaged
    (``None``: the uncalibrated decisions on the same halves)."""
    scores = []
    for fit_rows, test_rows in _halves(len(truth), seed):
        rows = probs[test_rows]
        if method is not None:
            rows = FITTERS[method](probs[fit_rows], truth[fit_rows]).apply(rows)
        scores.append(macro_f1(rows, truth[test_rows]))
    return float(np.mean(scores))


@dataclass(frozen=True)
class CalibrationFit:
    calibrator: Calibrator
    ece_before: float
    ece_after: float  # on the same rows, fitted on all of them (the held-out ECE chose the method)
    held_out_ece: dict[str, float]
    held_out_macro_f1: dict[str, float]  # per method, and "uncalibrated"


def fit_calibrator(
    probs: np.ndarray, truth: np.ndarray, method: Literal["auto", "temperature", "isotonic"], seed: int
) -> CalibrationFit:
    """Fit the calibrator on out-of-sample ``probs`` and the true label indexes ``truth``.

    ``auto`` takes the method with the lower held-out ECE among those whose held-out
    decisions are no worse (macro-F1) than the uncalibrated ones: calibration is to make the
    probabilities honest, not to change what the model decides. Temperature scaling keeps
    every argmax, so it always qualifies; isotonic regression per label can move decisions."""
    candidates: list[Method] = ["temperature", "isotonic"] if method == "auto" else [method]
    scores = {name: held_out_ece(name, probs, truth, seed) for name in candidates}
    decisions = {name: held_out_macro_f1(name, probs, truth, seed) for name in candidates}
    decisions["uncalibrated"] = held_out_macro_f1(None, probs, truth, seed)
    eligible = [name for name in candidates if name == "temperature" or decisions[name] >= decisions["uncalibrated"]]
    chosen = min(eligible or candidates, key=lambda name: (scores[name], candidates.index(name)))
    calibrator = FITTERS[chosen](probs, truth)
    return CalibrationFit(calibrator, ece(probs, truth), ece(calibrator.apply(probs), truth), scores, decisions)


def precision_thresholds(
    probs: np.ndarray, truth: np.ndarray, labels: Sequence[str], target_precision: float
) -> dict[str, float]:
    """Per label, the lowest probability t such that the rows predicted as that label with
    probability >= t are right at least ``target_precision`` of the time (and every higher
    t reached so far keeps it); 1.0 + a little, i.e. "always review", when none does."""
    predicted = probs.argmax(axis=1)
    thresholds = {}
    for j, label in enumerate(labels):
        mine = predicted == j
        scores, right = probs[mine, j], truth[mine] == j
        order = np.argsort(-scores, kind="stable")
        scores, right = scores[order], right[order]
        precision = np.cumsum(right) / np.arange(1, len(right) + 1)
        # a cut at the k-th highest score keeps the k rows above it: take the lowest score
        # whose cut keeps precision at or above target, and every cut above it too
        ok = precision >= target_precision
        if not len(ok) or not ok[0]:
            thresholds[label] = 1.000001
            continue
        last = int(np.argmin(ok)) - 1 if not ok.all() else len(ok) - 1
        thresholds[label] = float(scores[last])
    return thresholds
