"""Target-aware classifiers: the stance of a text depends on the target it is read against.

* ``per_target``: one classifier of the configured kind per stance target; each row is
  scored by its target's model (an unknown target is an error naming the known ones).
* ``joint_target``: one classifier over ``train.joint_template`` (target and text in one
  string, e.g. ``"Atheism [SEP] <tweet>"``), so tf-idf features and transformers see both.

Both wrap bundles of any other kind and are saved as bundles themselves.
:func:`predict_frame` feeds a ``text`` (and ``target``) frame to any classifier: it is what
evaluation and the pyfunc model call. Training them: :func:`pipeline.train.fit_target_aware`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.classifiers import registry
from pipeline.classifiers.base import StanceClassifier, predictions_frame, write_manifest
from pipeline.errors import InputError, ModelError

PER_TARGET_KIND = "per_target"
JOINT_KIND = "joint_target"
TARGET_COLUMN = "target"


def target_key(target: str) -> str:
    """How targets are matched: case and spacing do not matter."""
    return " ".join(str(target).split()).casefold()


def joint_texts(texts: Sequence[str], targets: Sequence[str], template: str) -> list[str]:
    return [template.format(target=target, text=text) for text, target in zip(texts, targets)]


class PerTargetClassifier:
    """One fitted classifier per stance target, dispatched by each row's target."""

    kind = PER_TARGET_KIND

    def __init__(self, labels: Sequence[str], models: dict[str, StanceClassifier]) -> None:
        self.labels = list(labels)
        self.models = dict(models)
        self._by_key = {target_key(name): model for name, model in self.models.items()}

    @property
    def targets(self) -> list[str]:
        return list(self.models)

    def predict_proba(self, texts: Sequence[str], targets: Sequence[str]) -> np.ndarray:
        keys = [target_key(t) for t in targets]
        unknown = sorted({str(t) for t, k in zip(targets, keys) if k not in self._by_key})
        if unknown:
            raise ModelError(f"target {unknown[0]!r} has no model; this per-target model knows {', '.join(self.targets)}")
        probs = np.zeros((len(texts), len(self.labels)))
        key_array = np.array(keys, dtype=object)
        for key, model in self._by_key.items():
            rows = np.flatnonzero(key_array == key)
            if len(rows):
                probs[rows] = model.predict_proba([texts[i] for i in rows])
        return probs

    def save(self, folder: Path) -> None:
        names = {}
        for number, (target, model) in enumerate(self.models.items()):
            model.save(folder / "targets" / str(number))
            names[str(number)] = target
        write_manifest(folder, self.kind, self.labels, targets=names)

    @classmethod
    def load(cls, folder: Path, manifest: dict) -> "PerTargetClassifier":
        models = {target: registry.load_bundle(folder / "targets" / number) for number, target in manifest["targets"].items()}
        return cls(manifest["labels"], models)


class JointTargetClassifier:
    """One fitted classifier reading the target and the text together through a template."""

    kind = JOINT_KIND

    def __init__(self, labels: Sequence[str], model: StanceClassifier, template: str) -> None:
        self.labels = list(labels)
        self.model = model
        self.template = template

    def predict_proba(self, texts: Sequence[str], targets: Sequence[str]) -> np.ndarray:
        return self.model.predict_proba(joint_texts(texts, targets, self.template))

    def save(self, folder: Path) -> None:
        self.model.save(folder / "model")
        write_manifest(folder, self.kind, self.labels, template=self.template)

    @classmethod
    def load(cls, folder: Path, manifest: dict) -> "JointTargetClassifier":
        return cls(manifest["labels"], registry.load_bundle(folder / "model"), manifest["template"])


def predict_frame(classifier: StanceClassifier, frame: pd.DataFrame) -> pd.DataFrame:
    """``stance``, ``confidence``, ``p_<label>`` for each row of a ``text`` (+ ``target``) frame."""
    texts = frame["text"].astype(str).tolist()
    if not registry.of(classifier).target_aware:
        return predictions_frame(classifier.predict_proba(texts), classifier.labels, getattr(classifier, "thresholds", None))
    if TARGET_COLUMN not in frame.columns:
        raise InputError(
            f"input has no {TARGET_COLUMN!r} column; this model is target-aware "
            f"(columns given: {', '.join(map(str, frame.columns))})"
        )
    targets = frame[TARGET_COLUMN].astype(str).tolist()
    return predictions_frame(classifier.predict_proba(texts, targets), classifier.labels)  # type: ignore[call-arg]
