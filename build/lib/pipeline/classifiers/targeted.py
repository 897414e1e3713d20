"""Target-aware classifiers: the stance of a text depends on the target it is read against.

* ``per_target``: one classifier of the configured kind per stance target; each row is
  scored by its target's model (an unknown target is an error naming the known ones).
* ``joint_target``: one classifier over ``train.joint_template`` (target and text in one
  string, e.g. ``"Atheism [SEP] <tweet>"``), so tf-idf features and transformers see both.

Both wrap bundles of any other kind and are saved as bundles themselves.
:func:`load_classifier` loads any bundle; :func:`predict_frame` feeds a ``text`` (and
``target``) frame to any classifier: it is what evaluation and the pyfunc model call.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from pipeline.classifiers.base import StanceClassifier, load_bundle, predictions_frame, read_manifest, write_manifest
from pipeline.errors import InputError, ModelError

if TYPE_CHECKING:
    from pipeline.config import Config
    from pipeline.train import TrainResult

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
    needs_target = True

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
        models = {target: load_bundle(folder / "targets" / number) for number, target in manifest["targets"].items()}
        return cls(manifest["labels"], models)


class JointTargetClassifier:
    """One fitted classifier reading the target and the text together through a template."""

    kind = JOINT_KIND
    needs_target = True

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
        return cls(manifest["labels"], load_bundle(folder / "model"), manifest["template"])


def load_classifier(folder: Path) -> StanceClassifier:
    """Load a bundle of any kind, target-aware ones included."""
    kind = read_manifest(folder)["kind"]
    if kind == PER_TARGET_KIND:
        return PerTargetClassifier.load(folder, read_manifest(folder))
    if kind == JOINT_KIND:
        return JointTargetClassifier.load(folder, read_manifest(folder))
    return load_bundle(folder)


def predict_frame(classifier: StanceClassifier, frame: pd.DataFrame) -> pd.DataFrame:
    """``stance``, ``confidence``, ``p_<label>`` for each row of a ``text`` (+ ``target``) frame."""
    texts = frame["text"].astype(str).tolist()
    if not getattr(classifier, "needs_target", False):
        return predictions_frame(classifier.predict_proba(texts), classifier.labels)
    if TARGET_COLUMN not in frame.columns:
        raise InputError(f"input has no {TARGET_COLUMN!r} column; this model is target-aware "
                         f"(columns given: {', '.join(map(str, frame.columns))})")
    targets = frame[TARGET_COLUMN].astype(str).tolist()
    return predictions_frame(classifier.predict_proba(texts, targets), classifier.labels)  # type: ignore[call-arg]


def _summed(results: Sequence["TrainResult"]) -> dict[str, float]:
    total: dict[str, float] = {}
    for result in results:
        for key, value in result.metrics.items():
            total[key] = total.get(key, 0.0) + value
    return total


def fit_target_aware(config: "Config", rows: pd.DataFrame, dev: pd.DataFrame | None = None) -> "TrainResult":
    """Fit as ``train.target_mode`` says: the configured kind alone (``none``), once per
    target (``per_target``) or once on joint target+text (``joint``); for the last two,
    rows and dev carry a ``target`` column."""
    from pipeline.train import TrainResult, fit_classifier, source_metrics

    mode = config.train.target_mode
    if mode == "none":
        return fit_classifier(config, rows, dev)
    if mode == "joint":
        template = config.train.joint_template

        def as_joint(frame: pd.DataFrame) -> pd.DataFrame:
            return frame.assign(text=joint_texts(frame["text"].tolist(), frame[TARGET_COLUMN].tolist(), template))

        result = fit_classifier(config, as_joint(rows), None if dev is None else as_joint(dev))
        return TrainResult(JointTargetClassifier(config.labels, result.classifier, template), result.metrics)
    results, models = [], {}
    for target, group in rows.groupby(TARGET_COLUMN, sort=True):
        target_dev = None if dev is None else dev.loc[dev[TARGET_COLUMN] == target]
        try:
            result = fit_classifier(config, group.reset_index(drop=True),
                                    None if target_dev is None or target_dev.empty else target_dev)
        except InputError as exc:
            raise InputError(f"target {target!r}: {exc}") from None
        results.append(result)
        models[str(target)] = result.classifier
    metrics = {**_summed(results), "train_targets": float(len(models)), **source_metrics(rows)}
    return TrainResult(PerTargetClassifier(config.labels, models), metrics)
