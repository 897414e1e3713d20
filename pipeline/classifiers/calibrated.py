"""``calibrated``: any text-only classifier with calibrated probabilities and, when a target
precision was set, per-label thresholds for the review band (:mod:`pipeline.calibration`).

Saved as a bundle holding the inner bundle under ``model/`` and ``calibration.json``;
:func:`pipeline.train.fit_calibrated` makes one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from pipeline.calibration import Calibrator
from pipeline.classifiers import registry
from pipeline.classifiers.base import StanceClassifier, write_manifest

CALIBRATION_FILE = "calibration.json"


class CalibratedClassifier:
    kind = "calibrated"

    def __init__(self, model: StanceClassifier, calibrator: Calibrator, thresholds: dict[str, float] | None = None) -> None:
        self.model = model
        self.labels = list(model.labels)
        self.calibrator = calibrator
        self.thresholds = dict(thresholds or {})

    @property
    def inner_kind(self) -> str:
        return self.model.kind  # type: ignore[attr-defined]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.calibrator.apply(self.model.predict_proba(texts))

    def uncalibrated_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.predict_proba(texts)

    def save(self, folder: Path) -> None:
        self.model.save(folder / "model")
        write_manifest(folder, self.kind, self.labels, inner=self.inner_kind)
        (folder / CALIBRATION_FILE).write_text(
            json.dumps({"calibrator": self.calibrator.as_dict(), "thresholds": self.thresholds}, indent=2), encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: Path, manifest: dict) -> "CalibratedClassifier":
        saved = json.loads((folder / CALIBRATION_FILE).read_text(encoding="utf-8"))
        return cls(
            registry.load_bundle(folder / "model"), Calibrator.from_dict(saved["calibrator"]), saved.get("thresholds") or {}
        )
