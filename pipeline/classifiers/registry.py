"""Every classifier kind, declared once: its name (the ``train.model`` value, the config
section of its settings and the bundle's ``kind``), where its class and its settings model
live, and what it can do. Training, loading, config validation, run names and a logged
model's pip requirements all read this table; adding a kind means a module with its class
(``fit``, ``predict_proba``, ``save``, ``load``, and ``from_config`` when ``train.model`` can
name it), its settings model (``pipeline/classifiers/settings.py``) and one line here.

Kind modules and settings models are imported only when a kind is used (by name, not by an
import statement), so this module imports none of them and none of them needs to import it back.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.classifiers.base import StanceClassifier, read_manifest
from pipeline.errors import ModelError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from pipeline.config import Config


@dataclass(frozen=True)
class Kind:
    name: str
    module: str
    class_name: str
    settings_model: str | None = None  # "module.Class" of its pydantic settings, the config's train.<name> section
    trainable: bool = True  # train.model can name it (the target-aware wrappers come from train.target_mode)
    ensemble_member: bool = True  # train.ensemble.members can name it
    soft_targets: bool = False  # fit(..., probabilities=) takes the label stage's p_<label> as soft targets
    target_aware: bool = False  # predict_proba(texts, targets): reads each row's target
    torch: bool = False  # a logged model needs torch, transformers and ONNX Runtime

    def classifier_class(self) -> type:
        return getattr(importlib.import_module(self.module), self.class_name)

    def settings_class(self) -> "type[BaseModel] | None":
        """The pydantic model of its ``train.<name>`` section; None for a kind without settings."""
        if self.settings_model is None:
            return None
        module, _, name = self.settings_model.rpartition(".")
        return getattr(importlib.import_module(module), name)


_SETTINGS = "pipeline.classifiers.settings"

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("tfidf_logreg", "pipeline.classifiers.tfidf", "TfidfLogreg", f"{_SETTINGS}.TfidfLogregConfig"),
        Kind("embed_logreg", "pipeline.classifiers.embed_logreg", "EmbedLogreg", f"{_SETTINGS}.EmbedLogregConfig", torch=True),
        Kind(
            "finetune",
            "pipeline.classifiers.finetune",
            "FinetuneClassifier",
            f"{_SETTINGS}.FinetuneConfig",
            soft_targets=True,
            torch=True,
        ),
        Kind(
            "ensemble",
            "pipeline.classifiers.ensemble",
            "EnsembleClassifier",
            f"{_SETTINGS}.EnsembleConfig",
            ensemble_member=False,
            soft_targets=True,
            torch=True,
        ),
        Kind("per_target", "pipeline.classifiers.targeted", "PerTargetClassifier", trainable=False, target_aware=True),
        Kind("joint_target", "pipeline.classifiers.targeted", "JointTargetClassifier", trainable=False, target_aware=True),
        Kind("calibrated", "pipeline.classifiers.calibrated", "CalibratedClassifier", trainable=False),
    )
}


def trainable_names() -> list[str]:
    """The kinds ``train.model`` may name."""
    return [name for name, kind in KINDS.items() if kind.trainable]


def trainable_kind(name: str) -> Kind:
    """The kind ``train.model`` (or an ensemble member) names; ValueError, for config
    validation, listing the kinds it may name."""
    if name not in trainable_names():
        raise ValueError(f"unknown classifier kind {name!r}; one of {', '.join(trainable_names())}")
    return KINDS[name]


def settings_models() -> "dict[str, type[BaseModel]]":
    """Each kind with settings -> the pydantic model of its ``train.<kind>`` config section."""
    return {name: model for name, kind in KINDS.items() if (model := kind.settings_class()) is not None}


def get(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ModelError(f"unknown classifier kind {name!r}; known: {', '.join(KINDS)}") from None


def of(classifier: StanceClassifier) -> Kind:
    """The declared kind of a classifier object."""
    return get(getattr(classifier, "kind", ""))


def served(model: object) -> StanceClassifier | None:
    """The classifier behind a loaded model: the bundle inside our MLflow pyfunc wrapper,
    the object itself when it is a classifier already, None for anything else."""
    unwrap = getattr(model, "unwrap_python_model", None)
    if unwrap is not None:
        try:
            return getattr(unwrap(), "classifier", None)
        except Exception:  # noqa: BLE001  a pyfunc model of another flavour
            return None
    return model if getattr(model, "kind", None) in KINDS else None  # type: ignore[return-value]


def innermost(classifier: StanceClassifier) -> StanceClassifier:
    """The model a ``calibrated`` wrapper holds (itself for any other kind): what decides
    the runtime (threads) and the features (n-gram evidence)."""
    while getattr(classifier, "kind", "") == "calibrated":
        classifier = classifier.model  # type: ignore[attr-defined]
    return classifier


def build(config: "Config", name: str | None = None) -> StanceClassifier:
    """A fresh, unfitted classifier of kind ``name`` (default ``train.model``) with its
    config section's settings."""
    kind = get(name or config.train.model)
    if not kind.trainable:
        raise ModelError(f"classifier kind {kind.name!r} is made by train.target_mode, not named by train.model")
    return kind.classifier_class().from_config(config)


def settings(config: "Config", name: str | None = None) -> "BaseModel | None":
    """The settings of kind ``name`` (default ``train.model``): its ``train.<kind>`` config
    section; None for a kind without settings."""
    return config.train.kind_settings(name or config.train.model)


def load_bundle(folder: Path) -> StanceClassifier:
    """Load a saved classifier of any kind, the target-aware wrappers included."""
    manifest = read_manifest(folder)
    name = manifest.get("kind", "")
    if name not in KINDS:
        raise ModelError(f"{folder}: unknown classifier kind {name!r}")
    return KINDS[name].classifier_class().load(folder, manifest)
