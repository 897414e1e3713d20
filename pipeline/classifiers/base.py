"""The interface every classifier kind implements, bundle manifests, and probability helpers
(loading any bundle: :mod:`pipeline.classifiers.registry`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np
import pandas as pd

from pipeline.errors import ModelError

BUNDLE_FILE = "bundle.json"


class StanceClassifier(Protocol):
    """Fits on texts with (weighted) labels; predicts class probabilities in ``labels`` order."""

    labels: list[str]

    def fit(
        self, texts: Sequence[str], targets: Sequence[str], weights: np.ndarray | None = None, dev: pd.DataFrame | None = None
    ) -> "StanceClassifier": ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def save(self, folder: Path) -> None: ...


def write_manifest(folder: Path, kind: str, labels: Sequence[str], **settings: object) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"kind": kind, "labels": list(labels), **settings}
    (folder / BUNDLE_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def read_manifest(folder: Path) -> dict:
    path = folder / BUNDLE_FILE
    if not path.is_file():
        raise ModelError(f"{folder}: not a model bundle (no {BUNDLE_FILE})")
    return json.loads(path.read_text(encoding="utf-8"))


def align_columns(raw: np.ndarray, classes: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Probabilities in ``labels`` order; a label the model never saw gets a zero column."""
    probs = np.zeros((len(raw), len(labels)))
    for j, cls in enumerate(classes):
        probs[:, list(labels).index(cls)] = raw[:, j]
    return probs


def predictions_frame(probs: np.ndarray, labels: Sequence[str], thresholds: dict[str, float] | None = None) -> pd.DataFrame:
    """The pyfunc output: ``stance``, ``confidence``, ``p_<label>`` per row, and with
    ``thresholds`` (label -> the probability its predictions need, the review band) a
    ``review`` column: ``accept`` when the predicted label's probability reaches its
    threshold, else ``review``."""
    best = probs.argmax(axis=1) if len(probs) else np.array([], dtype=int)
    frame = pd.DataFrame(
        {
            "stance": [labels[i] for i in best],
            "confidence": probs.max(axis=1) if len(probs) else np.array([], dtype=float),
        }
    )
    for j, label in enumerate(labels):
        frame[f"p_{label}"] = probs[:, j] if len(probs) else np.array([], dtype=float)
    if thresholds:
        needed = np.array([thresholds.get(labels[i], np.inf) for i in best], dtype=float)
        frame["review"] = np.where(frame["confidence"].to_numpy() >= needed, "accept", "review") if len(probs) else []
    return frame
